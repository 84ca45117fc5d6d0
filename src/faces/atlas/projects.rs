//! Projects (`/groups`, `/groups/{groupId}`, `/groups/byName/{groupName}`, version
//! 2023-01-01). usher keeps no clusters, so `clusterCount` is always 0.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::invites::{check_org_id, org_error, seconds};
use super::users::RawQuery;
use super::wire::{Atlas, AtlasBody, AtlasError, Paging, V2023, Version};
use crate::core::{Conflict, CoreError, ids};
use crate::faces::AppState;
use crate::store::projects::ProjectRow;

const CURRENT: &[Version] = &[V2023];

/// `Group`.
pub fn group_view(p: &ProjectRow, base: &str) -> Value {
    json!({
        "clusterCount": 0,
        "created": seconds(&p.created_at),
        "id": p.id,
        "links": [{"href": format!("{base}/api/atlas/v2/groups/{}", p.id), "rel": "self"}],
        "name": p.name,
        "orgId": p.org_id,
        "tags": [],
        "withDefaultAlertsSettings": false,
    })
}

pub fn check_group_id(id: &str) -> Result<(), AtlasError> {
    if ids::is_id(id) {
        Ok(())
    } else {
        Err(AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_GROUP_ID",
            format!("An invalid group ID {id} was specified."),
            vec![json!(id)],
        ))
    }
}

/// The project's "not found" (unknown, or not visible to the caller), and a taken name, in
/// Atlas words.
pub fn group_error(id: &str) -> impl Fn(CoreError) -> AtlasError + '_ {
    move |e| match e {
        CoreError::NotFound => AtlasError::new(
            StatusCode::NOT_FOUND,
            "GROUP_NOT_FOUND",
            format!("No group with ID {id} exists."),
            vec![json!(id)],
        ),
        CoreError::Conflict(Conflict::NameTaken) => AtlasError::new(
            StatusCode::CONFLICT,
            "GROUP_ALREADY_EXISTS",
            "A group with this name already exists in the organization.",
            vec![],
        ),
        other => other.into(),
    }
}

/// `GET /groups`: the projects of every organization the caller can see.
#[utoipa::path(get, path = "/api/atlas/v2/groups", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedAtlasGroupView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let paging = Paging::from_query(query.as_deref())?;
    let projects = app.core.list_projects(&atlas.actor, None).await?;
    let base = &app.core.settings.links.api_base;
    let all = projects.iter().map(|p| group_view(p, base)).collect();
    Ok(atlas.reply_page(v, base, &paging, all))
}

/// `Group` as a create request: `name` and `orgId` are what count; the read-only fields Atlas
/// lists (and clients echo) are accepted and ignored.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // the read-only and alert fields are accepted, not used
pub struct GroupRequest {
    name: Option<String>,
    org_id: Option<String>,
    cluster_count: Option<i64>,
    created: Option<String>,
    id: Option<String>,
    links: Option<Vec<Value>>,
    region_usage_restrictions: Option<String>,
    tags: Option<Vec<Value>>,
    with_default_alerts_settings: Option<bool>,
}

/// `POST /groups`: 201 with the project (as Atlas answers on the wire; its specification says
/// 200). The creator, when a person, owns it.
#[utoipa::path(post, path = "/api/atlas/v2/groups", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = GroupRequest, content_type = "application/json"),
    responses((status = 201, description = "Group", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    AtlasBody(b): AtlasBody<GroupRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let name = b
        .name
        .ok_or_else(|| AtlasError::missing_attribute("name"))?;
    let org_id = b
        .org_id
        .ok_or_else(|| AtlasError::missing_attribute("orgId"))?;
    check_org_id(&org_id)?;
    let p = app
        .core
        .create_project(&atlas.actor, &org_id, &name)
        .await
        .map_err(|e| match e {
            CoreError::Conflict(_) => group_error("")(e),
            other => org_error(&org_id)(other),
        })?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::CREATED, Some(group_view(&p, base))))
}

/// `GET /groups/{groupId}`: for those with a role in it.
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "Group", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(id): Path<String>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&id)?;
    let p = app
        .core
        .get_project(&atlas.actor, &id)
        .await
        .map_err(group_error(&id))?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::OK, Some(group_view(&p, base))))
}

/// `GET /groups/byName/{groupName}`
#[utoipa::path(get, path = "/api/atlas/v2/groups/byName/{groupName}", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("groupName" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "Group", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn by_name(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(name): Path<String>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let p = app
        .core
        .project_by_name(&atlas.actor, &name)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => AtlasError::new(
                StatusCode::NOT_FOUND,
                "GROUP_NAME_NOT_FOUND",
                format!("No group with name {name} exists."),
                vec![json!(name)],
            ),
            other => other.into(),
        })?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::OK, Some(group_view(&p, base))))
}

/// `GroupUpdate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)] // tags and alerts are accepted, not kept
pub struct GroupUpdate {
    name: Option<String>,
    tags: Option<Vec<Value>>,
    with_default_alerts_settings: Option<bool>,
}

/// `PATCH /groups/{groupId}`: renames (project owners).
#[utoipa::path(patch, path = "/api/atlas/v2/groups/{groupId}", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = GroupUpdate, content_type = "application/json"),
    responses((status = 200, description = "Group", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(id): Path<String>,
    AtlasBody(b): AtlasBody<GroupUpdate>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&id)?;
    let p = match b.name {
        Some(name) => app.core.rename_project(&atlas.actor, &id, &name).await,
        None => app.core.get_project(&atlas.actor, &id).await,
    }
    .map_err(group_error(&id))?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::OK, Some(group_view(&p, base))))
}

/// `DELETE /groups/{groupId}`: 204; its memberships, team assignments and project invitations
/// go with it.
#[utoipa::path(delete, path = "/api/atlas/v2/groups/{groupId}", tag = "Atlas projects", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Deleted; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(id): Path<String>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&id)?;
    app.core
        .delete_project(&atlas.actor, &id)
        .await
        .map_err(group_error(&id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}
