//! The MongoDB Atlas Administration API v2 face (`/api/atlas/v2`): HTTP Digest API keys and
//! bearer sessions, versioned media types, `envelope`/`pretty`, `ApiError`. So far: the legacy
//! organization invitations and the organization's MongoDB Cloud Users. See docs/atlas.md.

pub mod invites;
pub mod users;
pub mod wire;

use axum::Router;
use axum::routing::{get, put};

use crate::faces::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/atlas/v2/orgs/{orgId}/invites",
            get(invites::list)
                .post(invites::create)
                .patch(invites::update_by_username),
        )
        .route(
            "/api/atlas/v2/orgs/{orgId}/invites/{invitationId}",
            get(invites::get_one)
                .patch(invites::update_by_id)
                .delete(invites::delete),
        )
        .route(
            "/api/atlas/v2/orgs/{orgId}/users",
            get(users::list).post(users::create),
        )
        // `{userId}` is the whole segment, so `{userId}:addRole` arrives here as a POST.
        .route(
            "/api/atlas/v2/orgs/{orgId}/users/{userId}",
            get(users::get_one)
                .patch(users::update)
                .delete(users::remove)
                .post(users::add_or_remove_role),
        )
        .route(
            "/api/atlas/v2/orgs/{orgId}/users/{userId}/roles",
            put(users::put_roles),
        )
}
