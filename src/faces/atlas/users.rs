//! MongoDB Cloud Users of an organization (`/orgs/{orgId}/users`): active members and pending
//! invitees in one list. A pending user is its invitation (same id), so it is visible, updatable
//! and removable through this API, the legacy invitations and the SOLAPI face alike.
//!
//! Versions: 2025-02-19 (pending and active users); 2023-01-01 of list, remove and the
//! deprecated `PUT …/roles` (active users only).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::invites::{
    check_org_id, checked_grants, checked_roles, inviter, org_error, org_role_name, org_roles,
    seconds,
};
use super::wire::{
    Atlas, AtlasBody, AtlasError, Paging, QueryPairs, V2023_DEPRECATED, V2025, Version,
};
use crate::core::accounts::MemberChange;
use crate::core::invitations::{GrantChange, Grants, InviteeState, People};
use crate::core::projects::Assignments;
use crate::core::roles::Roles;
use crate::core::{CoreError, email, ids};
use crate::faces::AppState;
use crate::store::invitations::Invitee;
use crate::store::rows::MemberRow;

const LIST: &[Version] = &[V2023_DEPRECATED, V2025];
const CURRENT: &[Version] = &[V2025];
const REMOVE: &[Version] = &[V2023_DEPRECATED, V2025];
const PUT_ROLES: &[Version] = &[V2023_DEPRECATED];

/// One organization user: a member, or the newest invitation of an address that is not one.
pub(super) enum OrgUser {
    Active(MemberRow),
    Invited(Box<Invitee>, &'static str),
}

impl OrgUser {
    pub(super) fn id(&self) -> &str {
        match self {
            OrgUser::Active(m) => &m.user_id,
            OrgUser::Invited(d, _) => &d.invitation.id,
        }
    }

    pub(super) fn status(&self) -> &'static str {
        match self {
            OrgUser::Active(_) => "ACTIVE",
            OrgUser::Invited(_, s) => s,
        }
    }

    pub(super) fn username(&self) -> &str {
        match self {
            OrgUser::Active(m) => &m.email,
            OrgUser::Invited(d, _) => &d.invitation.email,
        }
    }

    pub(super) fn roles(&self) -> &str {
        match self {
            OrgUser::Active(m) => &m.roles,
            OrgUser::Invited(d, _) => &d.invitation.roles,
        }
    }

    /// `OrgActiveUserResponse` or `OrgPendingUserResponse` (2025-02-19).
    pub(super) fn view<'a>(&'a self, assigned: &'a Assignments) -> UserView<'a, OrgRoles<'a>> {
        let roles = OrgRoles {
            group_role_assignments: assigned
                .projects_of(self.id())
                .iter()
                .map(|(p, roles)| GroupRoleNames {
                    group_id: p,
                    group_roles: roles.names().collect(),
                })
                .collect(),
            org_roles: org_roles(self.roles()),
        };
        let teams = Some(assigned.teams_of(self.id()));
        match self {
            OrgUser::Active(m) => UserView::active(m, roles, teams),
            OrgUser::Invited(d, status) => UserView::pending(d, status, roles, teams),
        }
    }
}

/// A user as the users APIs show one: active or pending (2025-02-19), or a `CloudAppUser`
/// (2023-01-01). `R` is how that API shapes roles. Every view type declares its fields in
/// Atlas' (alphabetical) order, so [`Atlas::reply_sorted`] writes them as they are, without a
/// [`serde_json::Value`] of every field to build and sort (a unit test pins the order).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(super) enum UserView<'a, R> {
    Active(ActiveUser<'a, R>),
    Pending(PendingUser<'a, R>),
    App(AppUser<'a>),
}

/// `Org…`/`GroupActiveUserResponse`; only the organization's has `teamIds`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ActiveUser<'a, R> {
    created_at: String,
    first_name: &'a str,
    id: &'a str,
    last_name: &'a str,
    /// usher keeps no phone numbers; Atlas sends `null` for a user without one.
    mobile_number: Option<&'a str>,
    org_membership_status: &'static str,
    roles: R,
    #[serde(skip_serializing_if = "Option::is_none")]
    team_ids: Option<&'a [String]>,
    username: &'a str,
}

/// `Org…`/`GroupPendingUserResponse` (also expired and declined invitations).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PendingUser<'a, R> {
    id: &'a str,
    invitation_created_at: String,
    /// `null` for a declined invitation, which no longer expires.
    invitation_expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter_username: Option<&'a str>,
    org_membership_status: &'static str,
    roles: R,
    #[serde(skip_serializing_if = "Option::is_none")]
    team_ids: Option<&'a [String]>,
    username: &'a str,
}

/// `OrgUserRolesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OrgRoles<'a> {
    group_role_assignments: Vec<GroupRoleNames<'a>>,
    org_roles: Vec<&'static str>,
}

/// `GroupRoleAssignment`: one per project.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct GroupRoleNames<'a> {
    group_id: &'a str,
    group_roles: Vec<&'static str>,
}

/// `CloudAppUser` (2023-01-01: active users only).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AppUser<'a> {
    created_at: String,
    email_address: &'a str,
    first_name: &'a str,
    id: &'a str,
    last_name: &'a str,
    mobile_number: Option<&'a str>,
    roles: Vec<AppRole<'a>>,
    team_ids: &'a [String],
    username: &'a str,
}

/// `CloudAccessRoleAssignment`: a role in the organization (`orgId`) or a project (`groupId`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct AppRole<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    group_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    org_id: Option<&'a str>,
    role_name: &'static str,
}

impl<'a> AppRole<'a> {
    pub(super) fn in_group(group_id: &'a str, role_name: &'static str) -> AppRole<'a> {
        AppRole {
            group_id: Some(group_id),
            org_id: None,
            role_name,
        }
    }
}

impl<'a, R> UserView<'a, R> {
    pub(super) fn active(m: &'a MemberRow, roles: R, team_ids: Option<&'a [String]>) -> Self {
        let (first_name, last_name) = split_name(&m.name);
        UserView::Active(ActiveUser {
            created_at: seconds(&m.created_at),
            first_name,
            id: &m.user_id,
            last_name,
            mobile_number: None,
            org_membership_status: "ACTIVE",
            roles,
            team_ids,
            username: &m.email,
        })
    }

    pub(super) fn pending(
        d: &'a Invitee,
        status: &'static str,
        roles: R,
        team_ids: Option<&'a [String]>,
    ) -> Self {
        let i = &d.invitation;
        UserView::Pending(PendingUser {
            id: &i.id,
            invitation_created_at: seconds(&i.created_at),
            invitation_expires_at: (status != "INVITATION_REJECTED")
                .then(|| seconds(&i.expires_at)),
            inviter_username: inviter(d.inviter_email.as_deref(), i),
            org_membership_status: status,
            roles,
            team_ids,
            username: &i.email,
        })
    }

    /// A `CloudAppUser` with these roles and teams.
    pub(super) fn app(m: &'a MemberRow, roles: Vec<AppRole<'a>>, team_ids: &'a [String]) -> Self {
        let (first_name, last_name) = split_name(&m.name);
        UserView::App(AppUser {
            created_at: seconds(&m.created_at),
            email_address: &m.email,
            first_name,
            id: &m.user_id,
            last_name,
            mobile_number: None,
            roles,
            team_ids,
            username: &m.email,
        })
    }
}

/// usher keeps one name; Atlas has two. The first word is the first name.
pub(super) fn split_name(name: &str) -> (&str, &str) {
    let name = name.trim();
    name.split_once(' ')
        .map_or((name, ""), |(f, l)| (f, l.trim_start()))
}

/// A member as a `CloudAppUser` of the organization: its organization and project roles.
pub(super) fn app_user_view<'a, R>(m: &'a MemberRow, assigned: &'a Assignments) -> UserView<'a, R> {
    let org = org_roles(&m.roles).into_iter().map(|r| AppRole {
        group_id: None,
        org_id: Some(&m.org_id),
        role_name: r,
    });
    let projects = assigned
        .projects_of(&m.user_id)
        .iter()
        .flat_map(|(p, roles)| roles.names().map(move |r| AppRole::in_group(p, r)));
    UserView::app(
        m,
        org.chain(projects).collect(),
        assigned.teams_of(&m.user_id),
    )
}

/// The organization's people ([`crate::core::Core::org_people`]) as Atlas users, with what
/// they are assigned to.
pub(super) async fn org_users(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
) -> Result<(Vec<OrgUser>, Assignments), AtlasError> {
    let people = app
        .core
        .org_people(&atlas.actor, org_id)
        .await
        .map_err(org_error(org_id))?;
    let assigned = app.core.org_assignments(&atlas.actor, org_id).await?;
    Ok((as_org_users(people), assigned))
}

/// Members first, then invitees, as the users lists show them.
pub(super) fn as_org_users(people: People) -> Vec<OrgUser> {
    let invited = people
        .invitees
        .into_iter()
        .map(|(d, state)| OrgUser::Invited(Box::new(d), status_name(state)));
    people
        .members
        .into_iter()
        .map(OrgUser::Active)
        .chain(invited)
        .collect()
}

pub(super) fn status_name(state: InviteeState) -> &'static str {
    match state {
        InviteeState::Pending => "PENDING",
        InviteeState::Expired => "INVITATION_EXPIRED",
        InviteeState::Declined => "INVITATION_REJECTED",
    }
}

async fn find_user(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    id: &str,
) -> Result<(OrgUser, Assignments), AtlasError> {
    check_org_id(org_id)?;
    let (users, assigned) = org_users(app, atlas, org_id).await?;
    let user = users
        .into_iter()
        .find(|u| u.id() == id)
        .ok_or_else(|| user_not_found(id))?;
    Ok((user, assigned))
}

pub(super) fn user_not_found(id: &str) -> AtlasError {
    AtlasError::new(
        StatusCode::NOT_FOUND,
        "USER_NOT_FOUND",
        format!("No user with ID {id} exists."),
        vec![json!(id)],
    )
}

/// The filters of the list (paging apart).
pub(super) struct ListQuery {
    pub paging: Paging,
    pub username: Option<String>,
    pub statuses: Vec<String>,
}

const STATUSES: [&str; 4] = [
    "PENDING",
    "ACTIVE",
    "INVITATION_EXPIRED",
    "INVITATION_REJECTED",
];

pub(super) fn list_query(query: Option<&str>) -> Result<ListQuery, AtlasError> {
    let q = QueryPairs::parse(query);
    let one = |name: &str| q.one(name);
    let many = q.all("orgMembershipStatuses");
    let single = one("orgMembershipStatus").map(str::to_owned);
    if (single.is_some() && !many.is_empty()) || many.len() > 4 {
        return Err(AtlasError::invalid_query("orgMembershipStatuses"));
    }
    let statuses: Vec<String> = match single {
        Some(s) => vec![s],
        None if many.is_empty() => vec!["ACTIVE".into(), "PENDING".into()],
        None => many,
    };
    if statuses.iter().any(|s| !STATUSES.contains(&s.as_str())) {
        return Err(AtlasError::invalid_query("orgMembershipStatuses"));
    }
    Ok(ListQuery {
        paging: Paging::from_query(query)?,
        username: one("username").map(email::normalize),
        statuses,
    })
}

/// The request's query string, whatever it holds (read by `list_query`).
pub struct RawQuery(pub Option<String>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RawQuery {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RawQuery(parts.uri.query().map(str::to_owned)))
    }
}

/// `GET /orgs/{orgId}/users`: paginated; `links` with `self`, and `next`/`previous` where they
/// exist; `totalCount` unless `includeCount=false`.
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/users", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query), ("username" = Option<String>, Query), ("orgMembershipStatuses" = Option<Vec<String>>, Query), ("orgMembershipStatus" = Option<String>, Query), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedOrgUserView (2025-02-19) or PaginatedAppUserView (2023-01-01)", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(LIST)?;
    check_org_id(&org_id)?;
    let q = list_query(query.as_deref())?;
    let (users, assigned) = org_users(&app, &atlas, &org_id).await?;
    let legacy = v.date == V2023_DEPRECATED.date;
    let matching: Vec<&OrgUser> = users
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
        .collect();
    let all = matching.iter().map(|u| match u {
        OrgUser::Active(m) if legacy => app_user_view(m, &assigned),
        u => u.view(&assigned),
    });
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply_sorted_page(v, base, &q.paging, all))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupRoles {
    group_id: Option<String>,
    group_roles: Option<Vec<String>>,
}

/// `OrgUserRolesRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RolesRequest {
    org_roles: Option<Vec<String>>,
    group_role_assignments: Option<Vec<GroupRoles>>,
}

impl RolesRequest {
    /// The organization roles (required) and the request's project and team parts.
    fn checked(
        self,
        org_id: &str,
        team_ids: Option<&[String]>,
    ) -> Result<(Roles, GrantChange), AtlasError> {
        let names = self
            .org_roles
            .ok_or_else(|| AtlasError::missing_attribute("orgRoles"))?;
        let roles = checked_roles(org_id, Some(&names))?
            .ok_or_else(|| AtlasError::missing_attribute("orgRoles"))?;
        let groups = self.group_role_assignments.map(|gs| {
            gs.into_iter()
                .map(|g| (g.group_id, g.group_roles))
                .collect()
        });
        Ok((roles, checked_grants(groups, team_ids)?))
    }
}

/// `OrgUserRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    username: Option<String>,
    roles: Option<RolesRequest>,
    team_ids: Option<Vec<String>>,
}

/// `POST /orgs/{orgId}/users`: invites (with the projects and teams it names); 201 with the
/// pending user. An address with a pending invitation or a membership is 409; an expired or
/// declined one is replaced.
#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/users", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = CreateRequest, content_type = "application/json"),
    responses((status = 201, description = "OrgPendingUserResponse", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<CreateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let username = b
        .username
        .ok_or_else(|| AtlasError::missing_attribute("username"))?;
    let (roles, parts) = b
        .roles
        .ok_or_else(|| AtlasError::missing_attribute("roles"))?
        .checked(&org_id, b.team_ids.as_deref())?;
    let grants = parts.applied_to(Grants::default());
    let sent = super::invites::invite(&app, &atlas, &org_id, &username, roles, &grants).await?;
    let (user, assigned) = find_user(&app, &atlas, &org_id, &sent.invitation.id).await?;
    Ok(atlas.reply_sorted(v, StatusCode::CREATED, &user.view(&assigned)))
}

/// The `{userId}` segment: an id, or `{userId}:addRole` / `:removeRole` (same segment).
pub(super) fn plain_id(segment: &str) -> Result<&str, AtlasError> {
    if ids::is_id(segment) {
        Ok(segment)
    } else {
        Err(user_not_found(segment))
    }
}

/// `GET /orgs/{orgId}/users/{userId}`
#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/users/{userId}", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 200, description = "OrgUserResponse", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, segment)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (user, assigned) = find_user(&app, &atlas, &org_id, plain_id(&segment)?).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view(&assigned)))
}

/// Changes a user: their organization roles (a member's membership, or a pending invitation's)
/// and, where the request gives them, their projects and teams.
async fn change(
    app: &AppState,
    atlas: &Atlas,
    org_id: &str,
    user: &OrgUser,
    roles: Option<Roles>,
    parts: GrantChange,
) -> Result<(OrgUser, Assignments), AtlasError> {
    let given = parts.is_given();
    match user {
        OrgUser::Active(m) => {
            if let Some(roles) = roles {
                let change = MemberChange {
                    roles: Some(roles),
                    ..MemberChange::default()
                };
                app.core
                    .update_member(&atlas.actor, org_id, &m.user_id, &change)
                    .await?;
            }
            if given {
                app.core
                    .set_member_assignments(&atlas.actor, org_id, &m.user_id, parts)
                    .await?;
            }
        }
        OrgUser::Invited(d, "PENDING") => {
            let id = &d.invitation.id;
            if given {
                let grants = parts.applied_to(app.core.grants_of(id).await?);
                app.core
                    .update_invitation_grants(&atlas.actor, org_id, id, &grants)
                    .await?;
            }
            if let Some(roles) = roles {
                app.core
                    .set_invitation_roles(&atlas.actor, org_id, id, roles)
                    .await?;
            }
        }
        OrgUser::Invited(..) => {
            return Err(CoreError::Conflict(crate::core::Conflict::WrongState).into());
        }
    }
    find_user(app, atlas, org_id, user.id()).await
}

/// `OrgUserUpdateRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRequest {
    roles: Option<RolesRequest>,
    team_ids: Option<Vec<String>>,
}

/// `PATCH /orgs/{orgId}/users/{userId}`: only the fields given change; a given list replaces
/// the old one (an empty one empties it).
#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/users/{userId}", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = UpdateRequest, content_type = "application/json"),
    responses((status = 200, description = "OrgUserResponse", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, segment)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<UpdateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (user, _) = find_user(&app, &atlas, &org_id, plain_id(&segment)?).await?;
    let (roles, parts) = match b.roles {
        Some(r) => {
            let (roles, parts) = r.checked(&org_id, b.team_ids.as_deref())?;
            (Some(roles), parts)
        }
        None => (None, checked_grants(None, b.team_ids.as_deref())?),
    };
    let (user, assigned) = change(&app, &atlas, &org_id, &user, roles, parts).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view(&assigned)))
}

/// `DELETE /orgs/{orgId}/users/{userId}`: removes a member, or cancels a pending invitation
/// (2025-02-19; 2023-01-01 removes members only).
#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/users/{userId}", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)),
    responses((status = 204, description = "Removed, or the invitation cancelled", content_type = "application/vnd.atlas.2025-02-19+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn remove(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, segment)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(REMOVE)?;
    let id = plain_id(&segment)?;
    let (user, _) = find_user(&app, &atlas, &org_id, id).await?;
    match &user {
        OrgUser::Active(m) => {
            app.core
                .remove_member(&atlas.actor, &org_id, &m.user_id)
                .await?;
        }
        OrgUser::Invited(..) if v.date == V2023_DEPRECATED.date => return Err(user_not_found(id)),
        OrgUser::Invited(d, _) => {
            app.core
                .cancel_org_invitation(&atlas.actor, &org_id, &d.invitation.id)
                .await?;
        }
    }
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// `AddOrRemoveOrgRole`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OneRole {
    org_role: Option<String>,
}

/// `POST /orgs/{orgId}/users/{userId}:addRole` and `…:removeRole` (one path segment, which the
/// router hands over whole).
pub async fn add_or_remove_role(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, segment)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<OneRole>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (id, adding) = role_verb(&segment)?;
    let name = b
        .org_role
        .ok_or_else(|| AtlasError::missing_attribute("orgRole"))?;
    let role = checked_roles(&org_id, Some(std::slice::from_ref(&name)))?
        .and_then(|r| r.iter().next())
        .ok_or_else(|| AtlasError::missing_attribute("orgRole"))?;
    let (user, _) = find_user(&app, &atlas, &org_id, plain_id(id)?).await?;
    let current = Roles::from_stored(user.roles());
    let next: Roles = if adding {
        current.iter().chain(std::iter::once(role)).collect()
    } else {
        current
            .iter()
            .filter(|r| org_role_name(*r) != org_role_name(role))
            .collect()
    };
    // Taking away the last role is refused by the core (a user keeps at least one).
    let none = GrantChange::default();
    let (user, assigned) = change(&app, &atlas, &org_id, &user, Some(next), none).await?;
    Ok(atlas.reply_sorted(v, StatusCode::OK, &user.view(&assigned)))
}

/// `{id}:addRole` → (id, true); `{id}:removeRole` → (id, false); anything else names no user.
pub(super) fn role_verb(segment: &str) -> Result<(&str, bool), AtlasError> {
    match segment.split_once(':') {
        Some((id, "addRole")) => Ok((id, true)),
        Some((id, "removeRole")) => Ok((id, false)),
        _ => Err(user_not_found(segment)),
    }
}

/// `UpdateOrgRolesForUser`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PutRoles {
    org_roles: Option<Vec<String>>,
}

/// `PUT /orgs/{orgId}/users/{userId}/roles` (2023-01-01, deprecated): a member's roles replaced.
#[utoipa::path(put, path = "/api/atlas/v2/orgs/{orgId}/users/{userId}/roles", tag = "Atlas organization users", security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path, description = "24 hex characters"), ("userId" = String, Path), ("envelope" = Option<bool>, Query), ("pretty" = Option<bool>, Query)), request_body(content = PutRoles, content_type = "application/json"),
    responses((status = 200, description = "UpdateOrgRolesForUser", content_type = "application/vnd.atlas.2023-01-01+json"), (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn put_roles(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<PutRoles>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(PUT_ROLES)?;
    let roles = checked_roles(&org_id, b.org_roles.as_deref())?
        .ok_or_else(|| AtlasError::missing_attribute("orgRoles"))?;
    let (user, _) = find_user(&app, &atlas, &org_id, plain_id(&id)?).await?;
    if !matches!(user, OrgUser::Active(_)) {
        return Err(user_not_found(&id));
    }
    let (user, _) = change(
        &app,
        &atlas,
        &org_id,
        &user,
        Some(roles),
        GrantChange::default(),
    )
    .await?;
    Ok(atlas.reply(
        v,
        StatusCode::OK,
        Some(json!({"orgRoles": org_roles(user.roles())})),
    ))
}

/// The `:addRole` and `:removeRole` operations share a route with `GET …/users/{userId}` (the
/// verb is part of the segment), so they are described here for `/openapi.json` on their own.
#[derive(utoipa::OpenApi)]
#[openapi(paths(add_role, remove_role))]
pub struct RoleVerbs;

super::wire::described_verb!(
    add_role,
    "/api/atlas/v2/orgs/{orgId}/users/{userId}:addRole",
    "Atlas organization users",
    ["orgId", "userId"],
    OneRole,
    "OrgUserResponse"
);
super::wire::described_verb!(
    remove_role,
    "/api/atlas/v2/orgs/{orgId}/users/{userId}:removeRole",
    "Atlas organization users",
    ["orgId", "userId"],
    OneRole,
    "OrgUserResponse"
);

#[cfg(test)]
mod tests {
    use super::super::wire::{Paging, assert_in_atlas_order};
    use super::*;

    const ID: &str = "0123456789abcdef01234567";

    fn roles() -> OrgRoles<'static> {
        OrgRoles {
            group_role_assignments: vec![GroupRoleNames {
                group_id: ID,
                group_roles: vec!["GROUP_OWNER"],
            }],
            org_roles: vec!["ORG_MEMBER"],
        }
    }

    /// `reply_sorted` writes a user as its type orders it: every key must already be in
    /// Atlas' order, optional keys included, and so must the page around them.
    #[test]
    fn every_user_view_serializes_its_keys_in_alphabetical_order() {
        static TEAMS: [String; 0] = [];
        let active = UserView::Active(ActiveUser {
            created_at: "2026-01-01T00:00:00Z".into(),
            first_name: "Ada",
            id: ID,
            last_name: "Lovelace",
            mobile_number: None,
            org_membership_status: "ACTIVE",
            roles: roles(),
            team_ids: Some(&TEAMS),
            username: "ada@example.com",
        });
        let pending = UserView::Pending(PendingUser {
            id: ID,
            invitation_created_at: "2026-01-01T00:00:00Z".into(),
            invitation_expires_at: Some("2026-01-31T00:00:00Z".into()),
            inviter_username: Some("owner@example.com"),
            org_membership_status: "PENDING",
            roles: roles(),
            team_ids: Some(&TEAMS),
            username: "new@example.com",
        });
        let app: UserView<'_, OrgRoles<'_>> = UserView::App(AppUser {
            created_at: "2026-01-01T00:00:00Z".into(),
            email_address: "ada@example.com",
            first_name: "Ada",
            id: ID,
            last_name: "Lovelace",
            mobile_number: None,
            roles: vec![
                AppRole {
                    group_id: None,
                    org_id: Some(ID),
                    role_name: "ORG_OWNER",
                },
                AppRole {
                    group_id: Some(ID),
                    org_id: Some(ID),
                    role_name: "GROUP_OWNER",
                },
            ],
            team_ids: &TEAMS,
            username: "ada@example.com",
        });
        assert_eq!(assert_in_atlas_order(&active), 9, "every active key");
        assert_eq!(assert_in_atlas_order(&pending), 8, "every pending key");
        assert_eq!(assert_in_atlas_order(&app), 9, "every app-user key");
        let paging = Paging::from_query(Some("pageNum=2&itemsPerPage=1")).unwrap();
        let page = paging.page(vec![active, pending, app], "http://x/users");
        assert_eq!(
            assert_in_atlas_order(&page),
            3,
            "links, results, totalCount"
        );
    }
}
