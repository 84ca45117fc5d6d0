//! MongoDB Cloud Users of a project (`/groups/{groupId}/users`): its members and the addresses
//! whose organization invitation grants a role in it. Adding someone who is not in the
//! organization invites them into it with the project; removing a pending user drops the
//! project from their invitation (the organization invitation stays). Project invitations made
//! through the legacy `/groups/{groupId}/invites` are not listed here, as in Atlas.
//!
//! Versions: 2025-02-19; 2023-01-01 of list, remove and the deprecated `PUT …/roles`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::group_invites::checked_project_roles;
use super::projects::{check_group_id, group_error};
use super::users::{AppRole, RawQuery, UserView, list_query, plain_id, role_verb, user_not_found};
use super::wire::{Atlas, AtlasBody, AtlasError, V2023_DEPRECATED, V2025, Version};
use crate::core::invitations::InviteeState;
use crate::core::projects::ProjectUser;
use crate::core::roles::ProjectRoles;
use crate::core::{CoreError, email};
use crate::faces::AppState;
use crate::store::invitations::Invitee;
use crate::store::rows::MemberRow;

const LIST: &[Version] = &[V2023_DEPRECATED, V2025];
const CURRENT: &[Version] = &[V2025];
const REMOVE: &[Version] = &[V2023_DEPRECATED, V2025];
const PUT_ROLES: &[Version] = &[V2023_DEPRECATED];

enum GroupUser {
    Active(MemberRow),
    Invited(Box<Invitee>, &'static str, ProjectRoles),
}

impl GroupUser {
    fn id(&self) -> &str {
        match self {
            GroupUser::Active(m) => &m.user_id,
            GroupUser::Invited(d, ..) => &d.invitation.id,
        }
    }

    fn status(&self) -> &'static str {
        match self {
            GroupUser::Active(_) => "ACTIVE",
            GroupUser::Invited(_, s, _) => s,
        }
    }

    fn username(&self) -> &str {
        match self {
            GroupUser::Active(m) => &m.email,
            GroupUser::Invited(d, ..) => &d.invitation.email,
        }
    }

    fn roles(&self) -> ProjectRoles {
        match self {
            GroupUser::Active(m) => ProjectRoles::from_stored(&m.roles),
            GroupUser::Invited(_, _, r) => r.clone(),
        }
    }

    fn core(&self) -> ProjectUser {
        match self {
            GroupUser::Active(m) => ProjectUser::Member(m.user_id.clone()),
            GroupUser::Invited(d, ..) => ProjectUser::Invited(d.invitation.id.clone()),
        }
    }

    /// `GroupActiveUserResponse` or `GroupPendingUserResponse` (2025-02-19): roles are the
    /// project's role names.
    fn view(&self) -> UserView<'_, Vec<&'static str>> {
        let roles = self.roles().names().collect();
        match self {
            GroupUser::Active(m) => UserView::active(m, roles, None),
            GroupUser::Invited(d, status, _) => UserView::pending(d, status, roles, None),
        }
    }
}

/// A member as a `CloudAppUser` (2023-01-01) of the project: its project roles, no teams.
fn app_user_view<'a>(m: &'a MemberRow, group_id: &'a str) -> UserView<'a, Vec<&'static str>> {
    let roles = ProjectRoles::from_stored(&m.roles)
        .names()
        .map(|r| AppRole::in_group(group_id, r))
        .collect();
    UserView::app(m, roles, &[])
}

async fn group_users(
    app: &AppState,
    atlas: &Atlas,
    group_id: &str,
) -> Result<Vec<GroupUser>, AtlasError> {
    check_group_id(group_id)?;
    let people = app
        .core
        .project_people(&atlas.actor, group_id)
        .await
        .map_err(group_error(group_id))?;
    let invited = people.invitees.into_iter().map(|(d, state, roles)| {
        let status = match state {
            InviteeState::Pending => "PENDING",
            InviteeState::Expired => "INVITATION_EXPIRED",
            InviteeState::Declined => "INVITATION_REJECTED",
        };
        GroupUser::Invited(Box::new(d), status, roles)
    });
    Ok(people
        .members
        .into_iter()
        .map(GroupUser::Active)
        .chain(invited)
        .collect())
}

async fn find_user(
    app: &AppState,
    atlas: &Atlas,
    group_id: &str,
    id: &str,
) -> Result<GroupUser, AtlasError> {
    group_users(app, atlas, group_id)
        .await?
        .into_iter()
        .find(|u| u.id() == id)
        .ok_or_else(|| user_not_found(id))
}

/// `GET /groups/{groupId}/users`: paginated like the organization's; `includeOrgUsers` and
/// `flattenTeams` are accepted, and usher lists the project's own members (not the members of
/// its teams) whatever they say.
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/users", tag = "Atlas project users", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("username" = Option<String>, Query), ("orgMembershipStatuses" = Option<Vec<String>>, Query), ("orgMembershipStatus" = Option<String>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedGroupUserView (2025-02-19) or PaginatedAppUserView (2023-01-01)", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LIST)?;
    let q = list_query(query.as_deref())?;
    let users = group_users(&app, &atlas, &group_id).await?;
    let legacy = v.date == V2023_DEPRECATED.date;
    let all: Vec<_> = users
        .iter()
        .filter(|u| {
            if legacy {
                u.status() == "ACTIVE"
            } else {
                q.statuses.iter().any(|s| s == u.status())
            }
        })
        .filter(|u| {
            q.username
                .as_ref()
                .is_none_or(|n| *n == email::normalize(u.username()))
        })
        .map(|u| match u {
            GroupUser::Active(m) if legacy => app_user_view(m, &group_id),
            u => u.view(),
        })
        .collect();
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply_sorted_page(v, base, &q.paging, all))
}

/// `GroupUserRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddRequest {
    username: Option<String>,
    roles: Option<Vec<String>>,
}

/// `POST /groups/{groupId}/users`: 201 with the user (active for an organization member,
/// pending otherwise). Already in the project, or already invited into it: 409.
#[utoipa::path(post, path = "/api/atlas/v2/groups/{groupId}/users", tag = "Atlas project users", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = AddRequest, content_type = "application/json"),
    responses((status = 201, description = "GroupUserResponse", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn add(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    AtlasBody(b): AtlasBody<AddRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&group_id)?;
    let username = b
        .username
        .ok_or_else(|| AtlasError::missing_attribute("username"))?;
    let names = b
        .roles
        .ok_or_else(|| AtlasError::missing_attribute("roles"))?;
    let roles = checked_project_roles(&group_id, &names)?;
    let added = app
        .core
        .add_project_user(&atlas.actor, &group_id, &username, &roles)
        .await
        .map_err(|e| match e {
            CoreError::Invalid { field: "email", .. } => AtlasError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_EMAIL_ADDRESS",
                "An invalid email address was specified.",
                vec![json!(username)],
            ),
            other => group_error(&group_id)(other),
        })?;
    let id = match added {
        ProjectUser::Member(id) | ProjectUser::Invited(id) => id,
    };
    let user = find_user(&app, &atlas, &group_id, &id).await?;
    Ok(atlas.reply_sorted(v, StatusCode::CREATED, &user.view()))
}

/// `GET /groups/{groupId}/users/{userId}`
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/users/{userId}", tag = "Atlas project users", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "GroupUserResponse", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, segment)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let user = find_user(&app, &atlas, &group_id, plain_id(&segment)?).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view()))
}

/// `DELETE /groups/{groupId}/users/{userId}`: a member leaves the project (not the
/// organization); a pending invitation no longer grants it (2023-01-01: members only).
#[utoipa::path(delete, path = "/api/atlas/v2/groups/{groupId}/users/{userId}", tag = "Atlas project users", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Removed from the project", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn remove(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, segment)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(REMOVE)?;
    let id = plain_id(&segment)?;
    let user = find_user(&app, &atlas, &group_id, id).await?;
    if v.date == V2023_DEPRECATED.date && !matches!(user, GroupUser::Active(_)) {
        return Err(user_not_found(id));
    }
    app.core
        .remove_project_user(&atlas.actor, &group_id, &user.core())
        .await
        .map_err(|e| match e {
            CoreError::NotFound => user_not_found(id),
            other => group_error(&group_id)(other),
        })?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

async fn set_roles(
    app: &AppState,
    atlas: &Atlas,
    group_id: &str,
    user: &GroupUser,
    roles: &ProjectRoles,
) -> Result<GroupUser, AtlasError> {
    if let GroupUser::Invited(_, status, _) = user
        && *status != "PENDING"
    {
        return Err(CoreError::Conflict(crate::core::Conflict::WrongState).into());
    }
    app.core
        .set_project_user_roles(&atlas.actor, group_id, &user.core(), roles)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => user_not_found(user.id()),
            other => group_error(group_id)(other),
        })?;
    find_user(app, atlas, group_id, user.id()).await
}

/// `AddOrRemoveGroupRole`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneRole {
    group_role: Option<String>,
}

/// `POST /groups/{groupId}/users/{userId}:addRole` and `…:removeRole` (one path segment). A
/// user keeps at least one role.
pub async fn add_or_remove_role(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, segment)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<OneRole>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (id, adding) = role_verb(&segment)?;
    let name = b
        .group_role
        .ok_or_else(|| AtlasError::missing_attribute("groupRole"))?;
    let role = checked_project_roles(&group_id, std::slice::from_ref(&name))?;
    let user = find_user(&app, &atlas, &group_id, plain_id(id)?).await?;
    let next = if adding {
        user.roles().union(&role)
    } else {
        user.roles().without(&name)
    };
    let user = set_roles(&app, &atlas, &group_id, &user, &next).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view()))
}

/// `UpdateGroupRolesForUser`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutRoles {
    group_roles: Option<Vec<String>>,
}

/// `PUT /groups/{groupId}/users/{userId}/roles` (2023-01-01, deprecated): a member's project
/// roles replaced.
#[utoipa::path(put, path = "/api/atlas/v2/groups/{groupId}/users/{userId}/roles", tag = "Atlas project users", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = PutRoles, content_type = "application/json"),
    responses((status = 200, description = "UpdateGroupRolesForUser", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn put_roles(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<PutRoles>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(PUT_ROLES)?;
    let names = b
        .group_roles
        .ok_or_else(|| AtlasError::missing_attribute("groupRoles"))?;
    let roles = checked_project_roles(&group_id, &names)?;
    let user = find_user(&app, &atlas, &group_id, plain_id(&id)?).await?;
    if !matches!(user, GroupUser::Active(_)) {
        return Err(user_not_found(&id));
    }
    let user = set_roles(&app, &atlas, &group_id, &user, &roles).await?;
    let names: Vec<&str> = user.roles().names().collect();
    Ok(atlas.reply(v, StatusCode::OK, Some(json!({"groupRoles": names}))))
}

/// The verbs share a route with `GET …/users/{userId}`; described here for `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add_role, remove_role))]
pub struct RoleVerbs;

super::wire::described_verb!(
    add_role,
    "/api/atlas/v2/groups/{groupId}/users/{userId}:addRole",
    "Atlas project users",
    ["groupId", "userId"],
    OneRole,
    "GroupUserResponse"
);
super::wire::described_verb!(
    remove_role,
    "/api/atlas/v2/groups/{groupId}/users/{userId}:removeRole",
    "Atlas project users",
    ["groupId", "userId"],
    OneRole,
    "GroupUserResponse"
);
