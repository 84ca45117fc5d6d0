//! Legacy organization invitations (`/orgs/{orgId}/invites`, version 2023-01-01, deprecated):
//! bare arrays for lists, 200 on create, 204 on delete, PATCH replaces the role set.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::wire::{Atlas, AtlasBody, AtlasError, LEGACY_ORG_INVITES};
use crate::core::invitations::{GrantChange, Grants};
use crate::core::roles::{Role, Roles};
use crate::core::{CoreError, ids};
use crate::faces::AppState;
use crate::store::invitations::{InvitationDetail, ListFilter};
use crate::store::rows::InvitationRow;

/// Atlas' organization role names; a role Atlas has no name for is shown as ORG_MEMBER
/// (docs/roles.md).
pub fn org_role_name(r: Role) -> &'static str {
    match r {
        Role::Owner => "ORG_OWNER",
        Role::Developer | Role::Member => "ORG_MEMBER",
        Role::GroupCreator => "ORG_GROUP_CREATOR",
        Role::BillingAdmin => "ORG_BILLING_ADMIN",
        Role::BillingReadOnly => "ORG_BILLING_READ_ONLY",
        Role::StreamProcessingAdmin => "ORG_STREAM_PROCESSING_ADMIN",
        Role::ReadOnly => "ORG_READ_ONLY",
    }
}

pub fn org_role(name: &str) -> Option<Role> {
    Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Developer)
        .find(|r| org_role_name(*r) == name)
}

/// `2026-08-10T03:03:37.861Z` → `2026-08-10T03:03:37Z` (Atlas answers in whole seconds).
pub fn seconds(ts: &str) -> String {
    format!("{}Z", &ts[..ts.len().min(19)])
}

pub fn org_roles(stored: &str) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Roles::from_stored(stored)
        .iter()
        .map(org_role_name)
        .collect();
    names.dedup();
    names
}

/// `OrganizationInvitation`, without `links` (real Atlas sends none). `groupRoleAssignments`
/// has one entry per (project, role), as the response schema's `GroupRole` has it. Fields in
/// alphabetical order, as Atlas sends them ([`Atlas::reply_sorted`]).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invite {
    created_at: String,
    expires_at: String,
    group_role_assignments: Vec<GroupRole>,
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter_username: Option<String>,
    org_id: String,
    org_name: String,
    roles: Vec<&'static str>,
    team_ids: Vec<String>,
    username: String,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRole {
    group_id: String,
    group_role: &'static str,
}

fn view(d: &InvitationDetail, grants: &Grants) -> Invite {
    view_parts(
        &d.invitation,
        &d.org_name,
        d.inviter_email.as_deref(),
        grants,
    )
}

fn view_parts(
    i: &InvitationRow,
    org_name: &str,
    inviter_email: Option<&str>,
    grants: &Grants,
) -> Invite {
    Invite {
        created_at: seconds(&i.created_at),
        expires_at: seconds(&i.expires_at),
        group_role_assignments: grants
            .projects
            .iter()
            .flat_map(|(p, roles)| {
                roles.names().map(move |r| GroupRole {
                    group_id: p.clone(),
                    group_role: r,
                })
            })
            .collect(),
        id: i.id.clone(),
        inviter_username: inviter(inviter_email, i).map(str::to_owned),
        org_id: i.org_id.clone(),
        org_name: org_name.to_owned(),
        roles: org_roles(&i.roles),
        team_ids: grants.teams.clone(),
        username: i.email.clone(),
    }
}

/// Who sent an invitation, as Atlas names them: the person's e-mail, or the public key of the
/// organization API key (the client id of the service account) that sent it.
pub fn inviter<'a>(email: Option<&'a str>, invitation: &'a InvitationRow) -> Option<&'a str> {
    email.or(invitation.inviter_key_id.as_deref())
}

async fn view_of(app: &AppState, d: &InvitationDetail) -> Result<Invite, AtlasError> {
    let grants = app.core.grants_of(&d.invitation.id).await?;
    Ok(view(d, &grants))
}

pub fn check_org_id(org_id: &str) -> Result<(), AtlasError> {
    if ids::is_id(org_id) {
        Ok(())
    } else {
        Err(AtlasError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_ORG_ID",
            format!("An invalid organization ID {org_id} was specified."),
            vec![json!(org_id)],
        ))
    }
}

/// The organization's "not found" in Atlas words (unknown, or not the caller's).
pub fn org_error(org_id: &str) -> impl Fn(CoreError) -> AtlasError + '_ {
    move |e| match e {
        CoreError::NotFound => AtlasError::new(
            StatusCode::NOT_FOUND,
            "ORG_NOT_FOUND",
            format!("No organization with ID {org_id} exists."),
            vec![json!(org_id)],
        ),
        other => other.into(),
    }
}

fn invitation_not_found(id: &str) -> AtlasError {
    AtlasError::resource_not_found(format!("invitation {id}"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupRoleAssignment {
    group_id: Option<String>,
    roles: Option<Vec<String>>,
}

/// `OrganizationInvitationRequest` (create, and update by username).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationRequest {
    username: Option<String>,
    roles: Option<Vec<String>>,
    team_ids: Option<Vec<String>>,
    group_role_assignments: Option<Vec<GroupRoleAssignment>>,
}

/// `OrganizationInvitationUpdateRequest` (update by id): no `username`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationUpdateRequest {
    roles: Option<Vec<String>>,
    team_ids: Option<Vec<String>>,
    group_role_assignments: Option<Vec<GroupRoleAssignment>>,
}

/// Organization roles by Atlas name; `None` when not given.
pub fn checked_roles(org_id: &str, roles: Option<&[String]>) -> Result<Option<Roles>, AtlasError> {
    let Some(names) = roles else { return Ok(None) };
    if names.is_empty() {
        return Err(AtlasError::invalid_attribute("roles"));
    }
    let mut set = Vec::new();
    for n in names {
        set.push(org_role(n).ok_or_else(|| {
            AtlasError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_ROLE_FOR_ORG",
                format!("Role {n} invalid for organization {org_id}."),
                vec![json!(n), json!(org_id)],
            )
        })?);
    }
    Ok(Some(set.into_iter().collect()))
}

/// `groupRoleAssignments` of a request, as (groupId, role names) pairs.
pub type RequestedGroups = Vec<(Option<String>, Option<Vec<String>>)>;

/// A request's project roles and teams, as they were given: `None` for a part the request left
/// out. Whether the projects and teams are the organization's is the core's to say.
pub fn checked_grants(
    groups: Option<RequestedGroups>,
    team_ids: Option<&[String]>,
) -> Result<GrantChange, AtlasError> {
    let projects = groups
        .map(|gs| {
            gs.into_iter()
                .map(|(id, roles)| {
                    let id = id.ok_or_else(|| AtlasError::missing_attribute("groupId"))?;
                    let roles = super::group_invites::checked_project_roles(
                        &id,
                        &roles.unwrap_or_default(),
                    )?;
                    Ok((id, roles))
                })
                .collect::<Result<Vec<_>, AtlasError>>()
        })
        .transpose()?;
    Ok(GrantChange::new(projects, team_ids.map(<[String]>::to_vec)))
}

impl GroupRoleAssignment {
    fn pairs(list: Option<Vec<GroupRoleAssignment>>) -> Option<RequestedGroups> {
        list.map(|l| l.into_iter().map(|g| (g.group_id, g.roles)).collect())
    }
}

impl InvitationRequest {
    /// The username (required), the roles and the grants, each checked.
    fn checked(self, org_id: &str) -> Result<(String, Option<Roles>, GrantChange), AtlasError> {
        let username = self
            .username
            .ok_or_else(|| AtlasError::missing_attribute("username"))?;
        let roles = checked_roles(org_id, self.roles.as_deref())?;
        let grants = checked_grants(
            GroupRoleAssignment::pairs(self.group_role_assignments),
            self.team_ids.as_deref(),
        )?;
        Ok((username, roles, grants))
    }
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    username: Option<String>,
}

/// `GET /orgs/{orgId}/invites[?username=]`: every pending invitation, as a bare array.
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/invites", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("username" = Option<String>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "OrganizationInvitation[], a bare array", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    Query(q): Query<ListQuery>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    let filter = ListFilter {
        email_normalized: q.username.as_deref().map(crate::core::email::normalize),
        ..ListFilter::default()
    };
    let list = app
        .core
        .list_org_invitations_granting(&atlas.actor, &org_id, &filter)
        .await
        .map_err(org_error(&org_id))?;
    let body: Vec<Invite> = list.iter().map(|(d, grants)| view(d, grants)).collect();
    Ok(atlas.reply_sorted(v, StatusCode::OK, &body))
}

/// `POST /orgs/{orgId}/invites`: 200 with the invitation (not 201).
#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/invites", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = InvitationRequest, content_type = "application/json"),
    responses((status = 200, description = "OrganizationInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<InvitationRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    let (username, roles, parts) = b.checked(&org_id)?;
    let roles = roles.ok_or_else(|| AtlasError::missing_attribute("roles"))?;
    let grants = parts.applied_to(Grants::default());
    let sent = invite(&app, &atlas, &org_id, &username, roles, &grants).await?;
    // Answered from what was written, not read back: the inviter is the caller.
    let inviter_email = atlas.actor.user.as_ref().map(|u| u.email.as_str());
    let body = view_parts(&sent.invitation, &sent.org_name, inviter_email, &grants);
    Ok(atlas.reply_sorted(v, StatusCode::OK, &body))
}

/// Invites `username` into `org_id`, in this dialect's words when it fails.
pub async fn invite(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    username: &str,
    roles: Roles,
    grants: &Grants,
) -> Result<crate::core::invitations::Sent, AtlasError> {
    app.core
        .invite_with(&atlas.actor, org_id, username, roles, grants)
        .await
        .map_err(|e| match e {
            CoreError::Invalid { field: "email", .. } => AtlasError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_EMAIL_ADDRESS",
                "An invalid email address was specified.",
                vec![json!(username)],
            ),
            other => org_error(org_id)(other),
        })
}

/// `GET /orgs/{orgId}/invites/{invitationId}`: a pending invitation; accepted, cancelled,
/// expired and unknown ones are all 404.
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "OrganizationInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    let d = find(&app, &atlas, &org_id, &id).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &view_of(&app, &d).await?))
}

async fn find(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    id: &str,
) -> Result<InvitationDetail, AtlasError> {
    // The organization first, so a stranger's org id reads as ORG_NOT_FOUND.
    app.core
        .access(&atlas.actor, org_id)
        .await
        .map_err(org_error(org_id))?;
    if !ids::is_id(id) {
        return Err(invitation_not_found(id));
    }
    app.core
        .org_invitation(&atlas.actor, org_id, id)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => invitation_not_found(id),
            other => other.into(),
        })
}

/// Replaces what the request gave (roles, projects, teams) of a pending invitation.
async fn change(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    current: InvitationDetail,
    roles: Option<Roles>,
    parts: GrantChange,
) -> Result<Invite, AtlasError> {
    let id = current.invitation.id.clone();
    let not_found = |e| match e {
        CoreError::NotFound => invitation_not_found(&id),
        other => org_error(org_id)(other),
    };
    if parts.is_given() {
        let grants = parts.applied_to(app.core.grants_of(&id).await?);
        app.core
            .update_invitation_grants(&atlas.actor, org_id, &id, &grants)
            .await
            .map_err(not_found)?;
    }
    let d = match roles {
        Some(roles) => app
            .core
            .set_invitation_roles(&atlas.actor, org_id, &id, roles)
            .await
            .map_err(not_found)?,
        None => current,
    };
    view_of(app, &d).await
}

/// `PATCH /orgs/{orgId}/invites`: the pending invitation of `username`; what the request gives
/// (roles, projects, teams) replaces what it had.
#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/invites", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = InvitationRequest, content_type = "application/json"),
    responses((status = 200, description = "OrganizationInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update_by_username(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<InvitationRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    let (username, roles, parts) = b.checked(&org_id)?;
    let filter = ListFilter {
        email_normalized: Some(crate::core::email::normalize(&username)),
        ..ListFilter::default()
    };
    let current = app
        .core
        .list_org_invitations(&atlas.actor, &org_id, &filter)
        .await
        .map_err(org_error(&org_id))?
        .into_iter()
        .next()
        .ok_or_else(|| AtlasError::resource_not_found(format!("invitation for {username}")))?;
    let body = change(&app, &atlas, &org_id, current, roles, parts).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &body))
}

/// `PATCH /orgs/{orgId}/invites/{invitationId}`: what the request gives replaces what it had.
#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = InvitationUpdateRequest, content_type = "application/json"),
    responses((status = 200, description = "OrganizationInvitation", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update_by_id(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<InvitationUpdateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    let roles = checked_roles(&org_id, b.roles.as_deref())?;
    let parts = checked_grants(
        GroupRoleAssignment::pairs(b.group_role_assignments),
        b.team_ids.as_deref(),
    )?;
    let current = find(&app, &atlas, &org_id, &id).await?;
    let body = change(&app, &atlas, &org_id, current, roles, parts).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &body))
}

/// `DELETE /orgs/{orgId}/invites/{invitationId}`: 204. An invitation that has ended (accepted,
/// declined, cancelled, expired) is `400 INVALID_INVITATION_ID`, Atlas' documented code for
/// "does not exist or has already been accepted"; one this organization never had is 404.
#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}", tag = "Atlas organization invitations", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("invitationId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Deleted; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_ORG_INVITES)?;
    check_org_id(&org_id)?;
    app.core
        .access(&atlas.actor, &org_id)
        .await
        .map_err(org_error(&org_id))?;
    if !ids::is_id(&id) {
        return Err(invitation_not_found(&id));
    }
    app.core
        .cancel_org_invitation(&atlas.actor, &org_id, &id)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => invitation_not_found(&id),
            CoreError::Conflict(crate::core::Conflict::WrongState) => AtlasError::new(
                StatusCode::BAD_REQUEST,
                "CANNOT_DELETE_GROUP_INVITATION",
                "You can't use the /orgs/{ORG-ID}/invites/{INVITATION-ID} endpoint to delete an invitation to a group. Use /groups/{GROUP-ID}/invites/{INVITATION-ID} instead.",
                vec![json!(id)],
            ),
            other => other.into(),
        })?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `reply_sorted` writes a view as its type orders it: every key must already be in
    /// Atlas' (alphabetical) order, at every depth, and optional keys included.
    #[test]
    fn an_invitation_serializes_its_keys_in_alphabetical_order() {
        let invite = Invite {
            created_at: "2026-01-01T00:00:00Z".into(),
            expires_at: "2026-01-31T00:00:00Z".into(),
            group_role_assignments: vec![GroupRole {
                group_id: "0123456789abcdef01234567".into(),
                group_role: "GROUP_READ_ONLY",
            }],
            id: "0123456789abcdef01234568".into(),
            inviter_username: Some("owner@example.com".into()),
            org_id: "0123456789abcdef01234569".into(),
            org_name: "Org".into(),
            roles: vec!["ORG_MEMBER"],
            team_ids: vec!["0123456789abcdef0123456a".into()],
            username: "new@example.com".into(),
        };
        let keys = super::super::wire::assert_in_atlas_order(&invite);
        assert_eq!(keys, 10, "every key present");
    }
}
