//! The MongoDB Atlas Administration API v2 face (`/api/atlas/v2`): HTTP Digest API keys and
//! bearer sessions, versioned media types, `envelope`/`pretty`, `ApiError`. See docs/atlas.md.

pub mod api_keys;
pub mod group_invites;
pub mod group_users;
pub mod invites;
pub mod orgs;
pub mod projects;
pub mod service_accounts;
pub mod teams;
pub mod users;
pub mod wire;

use axum::routing::post;
use utoipa::OpenApi as _;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::faces::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    let mut router = OpenApiRouter::new()
        .routes(routes!(
            invites::list,
            invites::create,
            invites::update_by_username
        ))
        .routes(routes!(
            invites::get_one,
            invites::update_by_id,
            invites::delete
        ))
        .routes(routes!(orgs::list))
        .routes(routes!(orgs::get_one, orgs::update))
        .routes(routes!(orgs::groups))
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(
            projects::get_one,
            projects::update,
            projects::delete
        ))
        .routes(routes!(projects::by_name))
        .routes(routes!(
            group_invites::list,
            group_invites::create,
            group_invites::update_by_username
        ))
        .routes(routes!(
            group_invites::get_one,
            group_invites::update_by_id,
            group_invites::delete
        ))
        .routes(routes!(group_users::list, group_users::add))
        .routes(routes!(group_users::get_one, group_users::remove))
        .routes(routes!(group_users::put_roles))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::get_one, teams::rename, teams::delete))
        .routes(routes!(teams::by_name))
        .routes(routes!(teams::list_users, teams::add_users))
        .routes(routes!(teams::remove_user))
        .routes(routes!(teams::project_list, teams::project_add))
        .routes(routes!(
            teams::project_get,
            teams::project_update,
            teams::project_remove
        ))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get_one, users::update, users::remove))
        .routes(routes!(users::put_roles))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(
            api_keys::get_one,
            api_keys::update,
            api_keys::delete
        ))
        .routes(routes!(api_keys::list_access, api_keys::add_access))
        .routes(routes!(api_keys::get_access, api_keys::delete_access))
        .routes(routes!(service_accounts::list, service_accounts::create))
        .routes(routes!(
            service_accounts::get_one,
            service_accounts::update,
            service_accounts::delete
        ))
        .routes(routes!(service_accounts::create_secret))
        .routes(routes!(service_accounts::delete_secret))
        .route("/api/oauth/token", post(service_accounts::token))
        .route("/api/oauth/revoke", post(service_accounts::revoke))
        // `{userId}` is the whole segment, so `{userId}:addRole` arrives here as a POST.
        .route(
            "/api/atlas/v2/orgs/{orgId}/users/{userId}",
            post(users::add_or_remove_role),
        )
        // Likewise `{teamId}:addUser` / `:removeUser`.
        .route(
            "/api/atlas/v2/orgs/{orgId}/teams/{teamId}",
            post(teams::add_or_remove_user),
        )
        .route(
            "/api/atlas/v2/groups/{groupId}/users/{userId}",
            post(group_users::add_or_remove_role),
        );
    let doc = router.get_openapi_mut();
    doc.merge(users::RoleVerbs::openapi());
    doc.merge(group_users::RoleVerbs::openapi());
    doc.merge(teams::TeamVerbs::openapi());
    router
}
