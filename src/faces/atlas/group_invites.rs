//! Legacy project invitations (`/groups/{groupId}/invites`, version 2023-01-01, deprecated):
//! an invitation into the project's organization issued through the project, granting project
//! roles. Same shapes as the organization's: bare arrays, 200 on create, 204 on delete, PATCH
//! replaces the role set. An organization invitation is not deleted through a project (and the
//! converse), as Atlas' `CANNOT_DELETE_ORG_INVITATION` / `CANNOT_DELETE_GROUP_INVITATION` say.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::invites::{inviter, seconds};
use super::projects::{check_group_id, group_error};
use super::wire::{Atlas, AtlasBody, AtlasError, LEGACY_GROUP_INVITES};
use crate::core::roles::ProjectRoles;
use crate::core::{Conflict, CoreError};
use crate::faces::AppState;
use crate::store::invitations::InvitationDetail;

/// `GroupInvitation` (no `links`, as real Atlas).
fn view(d: &InvitationDetail, group_name: &str, roles: &ProjectRoles) -> Value {
    let i = &d.invitation;
    let mut v = json!({
        "createdAt": seconds(&i.created_at),
        "expiresAt": seconds(&i.expires_at),
        "groupId": i.project_id,
        "groupName": group_name,
        "id": i.id,
        "roles": roles.names().collect::<Vec<_>>(),
        "username": i.email,
    });
    if let Some(inviter) = inviter(d.inviter_email.as_deref(), &d.invitation) {
        v["inviterUsername"] = json!(inviter);
    }
    v
}

/// Project roles by Atlas name; an unknown one is `INVALID_ROLE_FOR_GROUP`, an empty set
/// `INVALID_ATTRIBUTE`.
pub fn checked_project_roles(group_id: &str, names: &[String]) -> Result<ProjectRoles, AtlasError> {
    if names.is_empty() {
        return Err(AtlasError::invalid_attribute("roles"));
    }
    ProjectRoles::parse(names.iter().map(String::as_str)).map_err(|n| {
        AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ROLE_FOR_GROUP",
            format!("Role {n} is invalid for group {group_id}."),
            vec![json!(n), json!(group_id)],
        )
    })
}

fn invitation_error<'a>(group_id: &'a str, id: &'a str) -> impl Fn(CoreError) -> AtlasError + 'a {
    move |e| match e {
        CoreError::NotFound if !id.is_empty() => {
            AtlasError::resource_not_found(format!("invitation {id}"))
        }
        CoreError::Conflict(Conflict::WrongState) => AtlasError::new(
            StatusCode::BAD_REQUEST,
            "CANNOT_DELETE_ORG_INVITATION",
            "An organization invitation cannot be changed or deleted through a project; use /orgs/{ORG-ID}/invites/{INVITATION-ID}.",
            vec![json!(id)],
        ),
        CoreError::Invalid { field: "email", .. } => AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_EMAIL_ADDRESS",
            "An invalid email address was specified.",
            vec![],
        ),
        other => group_error(group_id)(other),
    }
}

/// `GroupInvitationRequest` (create, and update by username).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupInvitationRequest {
    username: Option<String>,
    roles: Option<Vec<String>>,
}

/// `GroupInvitationUpdateRequest` (update by id).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupInvitationUpdateRequest {
    roles: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    username: Option<String>,
}

/// The project's name, for the views (and the caller's right to see it).
async fn group_name(app: &AppState, atlas: &Atlas, group_id: &str) -> Result<String, AtlasError> {
    check_group_id(group_id)?;
    let pa = app
        .core
        .project_access(&atlas.actor, group_id)
        .await
        .map_err(group_error(group_id))?;
    Ok(pa.project.name)
}

/// `GET /groups/{groupId}/invites[?username=]`: a bare array (project owners).
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/invites", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("username" = Option<String>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "GroupInvitation[], a bare array", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    let name = group_name(&app, &atlas, &group_id).await?;
    let list = app
        .core
        .project_invitations(&atlas.actor, &group_id, q.username.as_deref())
        .await
        .map_err(group_error(&group_id))?;
    let mut out = Vec::new();
    for d in &list {
        let roles = project_roles_of(&app, d, &group_id).await?;
        out.push(view(d, &name, &roles));
    }
    Ok(atlas.reply(v, StatusCode::OK, Some(Value::Array(out))))
}

async fn project_roles_of(
    app: &AppState,
    d: &InvitationDetail,
    group_id: &str,
) -> Result<ProjectRoles, AtlasError> {
    Ok(app
        .core
        .grants_of(&d.invitation.id)
        .await?
        .projects
        .into_iter()
        .find(|(p, _)| p == group_id)
        .map(|(_, r)| r)
        .unwrap_or_default())
}

/// `POST /groups/{groupId}/invites`: 200 with the invitation.
#[utoipa::path(post, path = "/api/atlas/v2/groups/{groupId}/invites", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = GroupInvitationRequest, content_type = "application/json"),
    responses((status = 200, description = "GroupInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    AtlasBody(b): AtlasBody<GroupInvitationRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    let name = group_name(&app, &atlas, &group_id).await?;
    let username = b
        .username
        .ok_or_else(|| AtlasError::missing_attribute("username"))?;
    let names = b
        .roles
        .ok_or_else(|| AtlasError::missing_attribute("roles"))?;
    let roles = checked_project_roles(&group_id, &names)?;
    let sent = app
        .core
        .invite_to_project(&atlas.actor, &group_id, &username, &roles)
        .await
        .map_err(invitation_error(&group_id, ""))?;
    let id = sent.invitation.id;
    let (d, roles) = app
        .core
        .project_invitation(&atlas.actor, &group_id, &id)
        .await
        .map_err(invitation_error(&group_id, &id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&d, &name, &roles))))
}

/// `GET /groups/{groupId}/invites/{invitationId}`: a pending project invitation; ended,
/// unknown and organization invitations are 404.
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "GroupInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    let name = group_name(&app, &atlas, &group_id).await?;
    let (d, roles) = app
        .core
        .project_invitation(&atlas.actor, &group_id, &id)
        .await
        .map_err(|e| match e {
            CoreError::InvitationEnded(_) | CoreError::Conflict(_) => CoreError::NotFound,
            other => other,
        })
        .map_err(invitation_error(&group_id, &id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&d, &name, &roles))))
}

async fn set_roles(
    app: &AppState,
    atlas: &Atlas,
    group_id: &str,
    id: &str,
    names: Option<Vec<String>>,
) -> Result<Value, AtlasError> {
    let name = group_name(app, atlas, group_id).await?;
    let (d, roles) = match names {
        Some(names) => {
            let roles = checked_project_roles(group_id, &names)?;
            app.core
                .set_project_invitation_roles(&atlas.actor, group_id, id, &roles)
                .await
        }
        None => {
            app.core
                .project_invitation(&atlas.actor, group_id, id)
                .await
        }
    }
    .map_err(|e| match e {
        CoreError::InvitationEnded(_) => CoreError::NotFound,
        other => other,
    })
    .map_err(invitation_error(group_id, id))?;
    Ok(view(&d, &name, &roles))
}

/// `PATCH /groups/{groupId}/invites`: the pending invitation of `username`, roles replaced.
#[utoipa::path(patch, path = "/api/atlas/v2/groups/{groupId}/invites", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = GroupInvitationRequest, content_type = "application/json"),
    responses((status = 200, description = "GroupInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update_by_username(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    AtlasBody(b): AtlasBody<GroupInvitationRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    check_group_id(&group_id)?;
    let username = b
        .username
        .ok_or_else(|| AtlasError::missing_attribute("username"))?;
    let current = app
        .core
        .project_invitations(&atlas.actor, &group_id, Some(&username))
        .await
        .map_err(group_error(&group_id))?
        .into_iter()
        .next()
        .ok_or_else(|| AtlasError::resource_not_found(format!("invitation for {username}")))?;
    let body = set_roles(&app, &atlas, &group_id, &current.invitation.id, b.roles).await?;
    Ok(atlas.reply(v, StatusCode::OK, Some(body)))
}

/// `PATCH /groups/{groupId}/invites/{invitationId}`: roles replaced.
#[utoipa::path(patch, path = "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = GroupInvitationUpdateRequest, content_type = "application/json"),
    responses((status = 200, description = "GroupInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update_by_id(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<GroupInvitationUpdateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    check_group_id(&group_id)?;
    let body = set_roles(&app, &atlas, &group_id, &id, b.roles).await?;
    Ok(atlas.reply(v, StatusCode::OK, Some(body)))
}

/// `DELETE /groups/{groupId}/invites/{invitationId}`: 204. Ended: `400 INVALID_INVITATION_ID`;
/// an organization invitation: `400 CANNOT_DELETE_ORG_INVITATION`; unknown: 404.
#[utoipa::path(delete, path = "/api/atlas/v2/groups/{groupId}/invites/{invitationId}", tag = "Atlas project invitations", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Deleted; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_GROUP_INVITES)?;
    group_name(&app, &atlas, &group_id).await?;
    app.core
        .cancel_project_invitation(&atlas.actor, &group_id, &id)
        .await
        .map_err(invitation_error(&group_id, &id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}
