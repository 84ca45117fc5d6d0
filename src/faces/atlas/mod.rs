//! The MongoDB Atlas Administration API v2 face (`/api/atlas/v2`): HTTP Digest API keys and
//! bearer sessions, versioned media types, `envelope`/`pretty`, `ApiError`. So far: the legacy
//! organization invitations and the organization's MongoDB Cloud Users. See docs/atlas.md.

pub mod api_keys;
pub mod invites;
pub mod service_accounts;
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
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get_one, users::update, users::remove))
        .routes(routes!(users::put_roles))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(
            api_keys::get_one,
            api_keys::update,
            api_keys::delete
        ))
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
        );
    router.get_openapi_mut().merge(users::RoleVerbs::openapi());
    router
}
