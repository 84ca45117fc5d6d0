//! The SOLAPI users API v1 face (`/users/v1`), per `reference/solapi-users-v1.md`. Numbers in
//! the handler docs (#1–#29) are the reference catalogue's.

pub mod accounts;
pub mod error;
pub mod extract;
pub mod invitations;
pub mod member;
pub mod signup;
pub mod views;

use axum::routing::get;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup::signup))
        .routes(routes!(signup::email_existence))
        .routes(routes!(signup::agreement))
        .routes(routes!(signup::signup_through_invitation))
        .routes(routes!(member::get_member, member::update_member))
        .routes(routes!(member::update_email))
        .routes(routes!(member::update_phone))
        .routes(routes!(member::add_extra_phone))
        .routes(routes!(member::activate_member))
        .routes(routes!(signup::request_password_reset))
        .routes(routes!(signup::reset_password))
        .routes(routes!(accounts::create_account))
        .routes(routes!(accounts::list_accounts))
        // SOLAPI documents the list with a trailing slash; accept it without one too.
        .route("/users/v1/accounts", get(accounts::list_accounts))
        .routes(routes!(accounts::get_account, accounts::update_account))
        .routes(routes!(accounts::activate_account))
        .routes(routes!(accounts::switch_account))
        .routes(routes!(accounts::list_members))
        .routes(routes!(
            accounts::get_account_member,
            accounts::update_account_member,
            accounts::remove_account_member
        ))
        .routes(routes!(accounts::get_me, accounts::update_me))
        .routes(routes!(invitations::list_account_invitations))
        .routes(routes!(
            invitations::send_invitation,
            invitations::my_invitations
        ))
        .routes(routes!(
            invitations::get_invitation,
            invitations::accept_invitation,
            invitations::cancel_invitation
        ))
}
