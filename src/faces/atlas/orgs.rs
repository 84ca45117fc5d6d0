//! Organizations (`/orgs`, `/orgs/{orgId}`, version 2023-01-01): the caller's organizations,
//! one organization, its rename, and its projects (`/orgs/{orgId}/groups`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::invites::{check_org_id, org_error};
use super::projects::group_view;
use super::users::RawQuery;
use super::wire::{Atlas, AtlasBody, AtlasError, Paging, QueryPairs, V2023, Version};
use crate::faces::AppState;
use crate::store::rows::OrgRow;

const CURRENT: &[Version] = &[V2023];

/// `AtlasOrganization`.
fn view(o: &OrgRow, base: &str) -> Value {
    org_view((&o.id, &o.name, &o.status), base)
}

/// `AtlasOrganization` from (id, name, status).
fn org_view((id, name, status): (&str, &str, &str), base: &str) -> Value {
    json!({
        "id": id,
        "isDeleted": status == "DELETED",
        "links": [{"href": format!("{base}/api/atlas/v2/orgs/{id}"), "rel": "self"}],
        "name": name,
        "skipDefaultAlertsSettings": false,
    })
}

/// `GET /orgs[?name=]`: the caller's organizations (an API key's or service account's: its own);
/// `name` is a case-insensitive prefix.
#[utoipa::path(get, path = "/api/atlas/v2/orgs", tag = "Atlas organizations", security(("digest" = []), ("bearer" = [])),
    params(("name" = Option<String>, Query), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedOrganizationView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let paging = Paging::from_query(query.as_deref())?;
    let prefix = QueryPairs::parse(query.as_deref())
        .one("name")
        .map(str::to_lowercase);
    // The person's organizations come in one query; a key or service account has its own.
    let orgs: Vec<(String, String, String)> = match (&atlas.actor.user, atlas.actor.current_org()) {
        (Some(_), _) => {
            let (rows, _) = app.core.my_orgs(&atlas.actor, None, 10_000).await?;
            rows.into_iter().map(|r| (r.id, r.name, r.status)).collect()
        }
        (None, Some(org_id)) => {
            let o = app.core.get_org(&atlas.actor, org_id).await?.org;
            vec![(o.id, o.name, o.status)]
        }
        (None, None) => Vec::new(),
    };
    let base = &app.core.settings.links.api_base;
    let all = orgs
        .iter()
        .filter(|(_, name, _)| {
            prefix
                .as_ref()
                .is_none_or(|p| name.to_lowercase().starts_with(p.as_str()))
        })
        .map(|(id, name, status)| org_view((id, name, status), base))
        .collect();
    Ok(atlas.reply_page(v, base, &paging, all))
}

/// `GET /orgs/{orgId}`: for its members.
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}", tag = "Atlas organizations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "AtlasOrganization", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let d = app
        .core
        .get_org(&atlas.actor, &org_id)
        .await
        .map_err(org_error(&org_id))?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&d.org, base))))
}

/// `AtlasOrganization` as a request: only `name` can change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgRequest {
    name: Option<String>,
    #[allow(dead_code)] // accepted as Atlas clients send it; usher makes no alerts
    skip_default_alerts_settings: Option<bool>,
}

/// `PATCH /orgs/{orgId}`: renames (owners).
#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}", tag = "Atlas organizations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = OrgRequest, content_type = "application/json"),
    responses((status = 200, description = "AtlasOrganization", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<OrgRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let name = b
        .name
        .ok_or_else(|| AtlasError::missing_attribute("name"))?;
    crate::core::projects::check_project_name("name", &name)?;
    let d = app
        .core
        .update_org(&atlas.actor, &org_id, Some(&name), false)
        .await
        .map_err(org_error(&org_id))?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&d.org, base))))
}

/// `GET /orgs/{orgId}/groups[?name=]`: the organization's projects (every member sees them).
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/groups", tag = "Atlas organizations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("name" = Option<String>, Query), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedAtlasGroupView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn groups(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let paging = Paging::from_query(query.as_deref())?;
    let name = QueryPairs::parse(query.as_deref())
        .one("name")
        .map(str::to_owned);
    let projects = app
        .core
        .list_projects(&atlas.actor, Some(&org_id))
        .await
        .map_err(org_error(&org_id))?;
    let base = &app.core.settings.links.api_base;
    let all = projects
        .iter()
        .filter(|p| name.as_ref().is_none_or(|n| p.name.contains(n.as_str())))
        .map(|p| group_view(p, base))
        .collect();
    Ok(atlas.reply_page(v, base, &paging, all))
}
