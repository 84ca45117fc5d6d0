//! The MongoDB Atlas Administration API v2 face (`/api/atlas/v2`): HTTP Digest API keys and
//! bearer sessions, versioned media types, `envelope`/`pretty`, `ApiError`. So far: the legacy
//! organization invitations. See docs/atlas.md.

pub mod invites;
pub mod wire;

use axum::Router;
use axum::routing::get;

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
}
