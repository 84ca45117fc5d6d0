//! Teams (`/orgs/{orgId}/teams…`, `/groups/{groupId}/teams…`, version 2023-01-01; team users
//! also 2025-02-19): an organization's teams, their users (members, and pending invitees the
//! team is promised to), and their roles in projects.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::group_invites::checked_project_roles;
use super::invites::{check_org_id, org_error};
use super::projects::{check_group_id, group_error};
use super::users::{self, OrgUser, RawQuery, UserView, app_user_view, list_query, user_not_found};
use super::wire::{Atlas, AtlasBody, AtlasError, Paging, V2023, V2023_DEPRECATED, V2025, Version};
use crate::core::roles::ProjectRoles;
use crate::core::{Conflict, CoreError, email, ids};
use crate::faces::AppState;
use crate::store::teams::{ProjectTeamRow, TeamRow};

const CURRENT: &[Version] = &[V2023];
const TEAM_USERS: &[Version] = &[V2023_DEPRECATED, V2025];
const LEGACY_TEAM_USERS: &[Version] = &[V2023_DEPRECATED];
const TEAM_USER_VERBS: &[Version] = &[V2025];

/// `TeamResponse`.
fn view(t: &TeamRow, base: &str) -> Value {
    json!({
        "id": t.id,
        "links": [{"href": format!("{base}/api/atlas/v2/orgs/{}/teams/{}", t.org_id, t.id), "rel": "self"}],
        "name": t.name,
    })
}

/// `TeamRole`.
fn role_view(r: &ProjectTeamRow, base: &str) -> Value {
    json!({
        "links": [{"href": format!("{base}/api/atlas/v2/groups/{}/teams/{}", r.project_id, r.team_id), "rel": "self"}],
        "roleNames": ProjectRoles::from_stored(&r.roles).names().collect::<Vec<_>>(),
        "teamId": r.team_id,
    })
}

/// The team's "not found" and a taken name, in Atlas words; then the organization's.
fn team_error<'a>(org_id: &'a str, team_id: &'a str) -> impl Fn(CoreError) -> AtlasError + 'a {
    move |e| match e {
        CoreError::NotFound if !team_id.is_empty() => AtlasError::new(
            StatusCode::NOT_FOUND,
            "TEAM_NOT_FOUND",
            format!("No team with ID {team_id} exists in organization {org_id}."),
            vec![json!(team_id), json!(org_id)],
        ),
        CoreError::Conflict(Conflict::NameTaken) => AtlasError::new(
            StatusCode::CONFLICT,
            "DUPLICATE_TEAM_NAME",
            "A team with this name already exists in the organization.",
            vec![],
        ),
        other => org_error(org_id)(other),
    }
}

fn base(app: &AppState) -> &str {
    &app.core.settings.links.api_base
}

/// `GET /orgs/{orgId}/teams`
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/teams", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedTeamView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let paging = Paging::from_query(query.as_deref())?;
    let teams = app
        .core
        .list_teams(&atlas.actor, &org_id)
        .await
        .map_err(org_error(&org_id))?;
    let all = teams.iter().map(|t| view(t, base(&app))).collect();
    Ok(atlas.reply_page(v, base(&app), &paging, all))
}

/// `Team`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamRequest {
    name: Option<String>,
    usernames: Option<Vec<String>>,
}

/// `POST /orgs/{orgId}/teams`: 201 with the team and its usernames (Atlas answers 201 on the
/// wire; its specification says 200). Each username must be a member of the organization.
#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/teams", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = TeamRequest, content_type = "application/json"),
    responses((status = 201, description = "Team", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<TeamRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let name = b
        .name
        .ok_or_else(|| AtlasError::missing_attribute("name"))?;
    let usernames = b
        .usernames
        .ok_or_else(|| AtlasError::missing_attribute("usernames"))?;
    let t = app
        .core
        .create_team(&atlas.actor, &org_id, &name, &usernames)
        .await
        .map_err(|e| match e {
            CoreError::UnknownReference { id, .. } => AtlasError::new(
                StatusCode::NOT_FOUND,
                "USER_NOT_FOUND",
                format!("No user with username {id} exists in organization {org_id}."),
                vec![json!(id)],
            ),
            other => team_error(&org_id, "")(other),
        })?;
    let mut body = view(&t, base(&app));
    body["usernames"] = json!(usernames);
    Ok(atlas.reply(v, StatusCode::CREATED, Some(body)))
}

/// `GET /orgs/{orgId}/teams/{teamId}`
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "TeamResponse", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let t = app
        .core
        .get_team(&atlas.actor, &org_id, &team_id)
        .await
        .map_err(team_error(&org_id, &team_id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&t, base(&app)))))
}

/// `GET /orgs/{orgId}/teams/byName/{teamName}`
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/teams/byName/{teamName}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamName" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "TeamResponse", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn by_name(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, name)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let t = app
        .core
        .team_by_name(&atlas.actor, &org_id, &name)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => AtlasError::new(
                StatusCode::NOT_FOUND,
                "TEAM_NAME_NOT_FOUND",
                format!("No team with name {name} exists in organization {org_id}."),
                vec![json!(name), json!(org_id)],
            ),
            other => org_error(&org_id)(other),
        })?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&t, base(&app)))))
}

/// `TeamUpdate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamUpdate {
    name: Option<String>,
}

/// `PATCH /orgs/{orgId}/teams/{teamId}`: renames.
#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = TeamUpdate, content_type = "application/json"),
    responses((status = 200, description = "TeamResponse", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn rename(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<TeamUpdate>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let name = b
        .name
        .ok_or_else(|| AtlasError::missing_attribute("name"))?;
    let t = app
        .core
        .rename_team(&atlas.actor, &org_id, &team_id, &name)
        .await
        .map_err(team_error(&org_id, &team_id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&t, base(&app)))))
}

/// `DELETE /orgs/{orgId}/teams/{teamId}`: 204.
#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Deleted; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    app.core
        .delete_team(&atlas.actor, &org_id, &team_id)
        .await
        .map_err(team_error(&org_id, &team_id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// The team's users as organization users, and what they are assigned to.
async fn team_users(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    team_id: &str,
) -> Result<(Vec<OrgUser>, crate::core::projects::Assignments), AtlasError> {
    check_org_id(org_id)?;
    let people = app
        .core
        .team_people(&atlas.actor, org_id, team_id)
        .await
        .map_err(team_error(org_id, team_id))?;
    let assigned = app.core.org_assignments(&atlas.actor, org_id).await?;
    Ok((users::as_org_users(people), assigned))
}

/// `GET /orgs/{orgId}/teams/{teamId}/users`: 2025-02-19 lists pending and active users (with
/// the users list's filters and `userId`); 2023-01-01 active ones only.
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("username" = Option<String>, Query), ("userId" = Option<String>, Query), ("orgMembershipStatuses" = Option<Vec<String>>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedOrgUserView (2025-02-19) or PaginatedAppUserView (2023-01-01)", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list_users(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(TEAM_USERS)?;
    let q = list_query(query.as_deref())?;
    let user_id = super::wire::QueryPairs::parse(query.as_deref())
        .one("userId")
        .map(str::to_owned);
    let (users, assigned) = team_users(&app, &atlas, &org_id, &team_id).await?;
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
        .filter(|u| user_id.as_ref().is_none_or(|id| id == u.id()))
        .map(|u| match u {
            OrgUser::Active(m) if legacy => app_user_view(m, &assigned),
            u => u.view(&assigned),
        })
        .collect();
    Ok(atlas.reply_sorted_page(v, base(&app), &q.paging, all))
}

/// Adds or removes a team user, in Atlas words when it fails.
async fn change_user(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    team_id: &str,
    user_id: &str,
    adding: bool,
) -> Result<(), AtlasError> {
    check_org_id(org_id)?;
    let result = if adding {
        app.core
            .add_team_user(&atlas.actor, org_id, team_id, user_id)
            .await
    } else {
        app.core
            .remove_team_user(&atlas.actor, org_id, team_id, user_id)
            .await
    };
    result.map_err(|e| match e {
        CoreError::UnknownReference { .. } => user_not_found(user_id),
        CoreError::Conflict(Conflict::AlreadyMember) => AtlasError::new(
            StatusCode::CONFLICT,
            "USER_ALREADY_IN_TEAM",
            format!("User {user_id} is already in team {team_id}."),
            vec![json!(user_id), json!(team_id)],
        ),
        other => team_error(org_id, team_id)(other),
    })
}

/// `AddUserToTeam` / `AddOrRemoveUserFromTeam`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamUser {
    id: Option<String>,
}

/// `POST /orgs/{orgId}/teams/{teamId}/users` (2023-01-01, deprecated): an array of `{id}`;
/// 200 with the team's active users (`PaginatedApiAppUserView`).
#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = Vec<TeamUser>, content_type = "application/json"),
    responses((status = 200, description = "PaginatedApiAppUserView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn add_users(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<Vec<TeamUser>>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_TEAM_USERS)?;
    if b.is_empty() {
        return Err(AtlasError::invalid_attribute("id"));
    }
    for u in &b {
        let id =
            u.id.as_deref()
                .ok_or_else(|| AtlasError::missing_attribute("id"))?;
        change_user(&app, &atlas, &org_id, &team_id, id, true).await?;
    }
    let (users, assigned) = team_users(&app, &atlas, &org_id, &team_id).await?;
    let all: Vec<UserView<'_, ()>> = users
        .iter()
        .filter_map(|u| match u {
            OrgUser::Active(m) => Some(app_user_view(m, &assigned)),
            OrgUser::Invited(..) => None,
        })
        .collect();
    let paging = Paging::from_query(None)?;
    Ok(atlas.reply_sorted_page(v, base(&app), &paging, all))
}

/// `DELETE /orgs/{orgId}/teams/{teamId}/users/{userId}` (2023-01-01, deprecated): 204.
#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/teams/{teamId}/users/{userId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Removed; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn remove_user(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, team_id, user_id)): Path<(String, String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LEGACY_TEAM_USERS)?;
    change_user(&app, &atlas, &org_id, &team_id, &user_id, false).await?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// `POST /orgs/{orgId}/teams/{teamId}:addUser` and `…:removeUser` (2025-02-19; one path
/// segment): 200 with the user (`OrgUserResponse`). Pending users may be added.
pub async fn add_or_remove_user(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, segment)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<TeamUser>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(TEAM_USER_VERBS)?;
    let (team_id, adding) = match segment.split_once(':') {
        Some((t, "addUser")) => (t, true),
        Some((t, "removeUser")) => (t, false),
        _ => return Err(team_error(&org_id, &segment)(CoreError::NotFound)),
    };
    let user_id = b.id.ok_or_else(|| AtlasError::missing_attribute("id"))?;
    change_user(&app, &atlas, &org_id, team_id, &user_id, adding).await?;
    let (users, assigned) = super::users::org_users(&app, &atlas, &org_id).await?;
    let user = users
        .into_iter()
        .find(|u| u.id() == user_id)
        .ok_or_else(|| user_not_found(&user_id))?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view(&assigned)))
}

/// `GET /groups/{groupId}/teams`
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/teams", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedTeamRoleView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn project_list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&group_id)?;
    let paging = Paging::from_query(query.as_deref())?;
    let rows = app
        .core
        .project_teams(&atlas.actor, &group_id)
        .await
        .map_err(group_error(&group_id))?;
    let all = rows.iter().map(|r| role_view(r, base(&app))).collect();
    Ok(atlas.reply_page(v, base(&app), &paging, all))
}

/// `TeamRole`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TeamRoleRequest {
    team_id: Option<String>,
    role_names: Option<Vec<String>>,
    #[allow(dead_code)] // read-only; accepted as clients echo it
    links: Option<Vec<Value>>,
}

/// Assigns (or re-assigns) teams and answers the project's whole list, as Atlas does.
async fn put_teams(
    app: &AppState,
    atlas: &Atlas,
    group_id: &str,
    teams: Vec<(String, Option<Vec<String>>)>,
    must_exist: bool,
) -> Result<Value, AtlasError> {
    check_group_id(group_id)?;
    let mut checked = Vec::new();
    for (team_id, names) in teams {
        let names = names.ok_or_else(|| AtlasError::missing_attribute("roleNames"))?;
        checked.push((team_id, checked_project_roles(group_id, &names)?));
    }
    let rows = app
        .core
        .put_project_teams(&atlas.actor, group_id, &checked, must_exist)
        .await
        .map_err(|e| match e {
            CoreError::NotFound if must_exist => {
                not_assigned(group_id, checked.first().map_or("", |(t, _)| t.as_str()))
            }
            other => group_error(group_id)(other),
        })?;
    let all: Vec<_> = rows.iter().map(|r| role_view(r, base(app))).collect();
    let url = format!("{}/api/atlas/v2/groups/{group_id}/teams", base(app));
    let page = Paging::from_query(None)?.page(all, &url);
    Ok(serde_json::to_value(page).expect("views serialize"))
}

/// `POST /groups/{groupId}/teams`: an array of `TeamRole`; 200 with the project's teams.
#[utoipa::path(post, path = "/api/atlas/v2/groups/{groupId}/teams", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = Vec<TeamRoleRequest>, content_type = "application/json"),
    responses((status = 200, description = "PaginatedTeamRoleView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn project_add(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(group_id): Path<String>,
    AtlasBody(b): AtlasBody<Vec<TeamRoleRequest>>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    if b.is_empty() {
        return Err(AtlasError::invalid_attribute("teamId"));
    }
    let teams = b
        .into_iter()
        .map(|t| {
            Ok((
                t.team_id
                    .ok_or_else(|| AtlasError::missing_attribute("teamId"))?,
                t.role_names,
            ))
        })
        .collect::<Result<Vec<_>, AtlasError>>()?;
    let body = put_teams(&app, &atlas, &group_id, teams, false).await?;
    Ok(atlas.reply(v, StatusCode::OK, Some(body)))
}

/// `GET /groups/{groupId}/teams/{teamId}`
#[utoipa::path(get, path = "/api/atlas/v2/groups/{groupId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "TeamRole", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn project_get(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, team_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&group_id)?;
    let row = app
        .core
        .project_teams(&atlas.actor, &group_id)
        .await
        .map_err(group_error(&group_id))?
        .into_iter()
        .find(|r| r.team_id == team_id)
        .ok_or_else(|| not_assigned(&group_id, &team_id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(role_view(&row, base(&app)))))
}

fn not_assigned(group_id: &str, team_id: &str) -> AtlasError {
    AtlasError::new(
        StatusCode::NOT_FOUND,
        "TEAM_NOT_FOUND",
        format!("No team with ID {team_id} is assigned to group {group_id}."),
        vec![json!(team_id), json!(group_id)],
    )
}

/// `PATCH /groups/{groupId}/teams/{teamId}`: one `TeamRole`; 200 with the project's whole list
/// (as Atlas answers).
#[utoipa::path(patch, path = "/api/atlas/v2/groups/{groupId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = TeamRoleRequest, content_type = "application/json"),
    responses((status = 200, description = "PaginatedTeamRoleView", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn project_update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, team_id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<TeamRoleRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    if b.team_id.as_ref().is_some_and(|t| *t != team_id) {
        return Err(AtlasError::invalid_attribute("teamId"));
    }
    if !ids::is_id(&team_id) {
        return Err(not_assigned(&group_id, &team_id));
    }
    let body = put_teams(&app, &atlas, &group_id, vec![(team_id, b.role_names)], true).await?;
    Ok(atlas.reply(v, StatusCode::OK, Some(body)))
}

/// `DELETE /groups/{groupId}/teams/{teamId}`: 204; the team's members lose its roles there.
#[utoipa::path(delete, path = "/api/atlas/v2/groups/{groupId}/teams/{teamId}", tag = "Atlas teams", security(("digest" = []), ("bearer" = [])),
    params(("groupId" = String, Path, description = "24 hex characters"), ("teamId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Removed; no body", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn project_remove(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((group_id, team_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_group_id(&group_id)?;
    app.core
        .remove_project_team(&atlas.actor, &group_id, &team_id)
        .await
        .map_err(|e| match e {
            CoreError::NotFound => not_assigned(&group_id, &team_id),
            other => group_error(&group_id)(other),
        })?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// `:addUser` and `:removeUser` share a route with `GET …/teams/{teamId}`; described here for
/// `/openapi.json`.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add_user_verb, remove_user_verb))]
pub struct TeamVerbs;

super::wire::described_verb!(
    add_user_verb,
    "/api/atlas/v2/orgs/{orgId}/teams/{teamId}:addUser",
    "Atlas teams",
    ["orgId", "teamId"],
    TeamUser,
    "OrgUserResponse"
);
super::wire::described_verb!(
    remove_user_verb,
    "/api/atlas/v2/orgs/{orgId}/teams/{teamId}:removeUser",
    "Atlas teams",
    ["orgId", "teamId"],
    TeamUser,
    "OrgUserResponse"
);
