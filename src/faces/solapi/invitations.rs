//! Invitations (#24–#29).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;

use super::accounts::parse_role;
use super::error::{ApiError, ErrorBody};
use super::extract::{Body, Caller, MaybeCaller, PathParam, QueryPairs, eq_filters, filter_value};
use super::views::{Account, Invitation, InvitationExpanded, InvitationListItem};
use crate::core::invitations::Reference;
use crate::core::roles::Roles;
use crate::faces::AppState;
use crate::store::invitations::ListFilter;

/// #24 초대장 목록 조회 (OWNER): pending invitations of the account, oldest first. Filters
/// `memberId` (the inviter), `email`, `role`, `dateCreated`, `dateUpdated` (exact match).
#[utoipa::path(get, path = "/users/v1/accounts/{accountId}/invitations", tag = "SOLAPI invitations",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)),
    responses((status = 200, body = Vec<InvitationListItem>), (status = "4XX", body = ErrorBody)))]
pub async fn list_account_invitations(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    QueryPairs(q): QueryPairs,
) -> Result<Json<Vec<InvitationListItem>>, ApiError> {
    let f = eq_filters(
        q,
        &["memberId", "email", "role", "dateCreated", "dateUpdated"],
    )?;
    let filter = ListFilter {
        inviter_id: filter_value(&f, "memberId"),
        email_normalized: filter_value(&f, "email").map(|e| crate::core::email::normalize(&e)),
        roles: filter_value(&f, "role")
            .as_deref()
            .map(parse_role)
            .transpose()?
            .map(|r| r.as_str().to_owned()),
        created_at: filter_value(&f, "dateCreated"),
        updated_at: filter_value(&f, "dateUpdated"),
    };
    let rows = app
        .core
        .list_org_invitations(&actor, &account_id, &filter)
        .await?;
    Ok(Json(rows.iter().map(InvitationListItem::from).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InvitationBody {
    pub email: String,
    /// OWNER, DEVELOPER or MEMBER.
    pub role: String,
}

/// #25 초대장 발송 (OWNER): invites an e-mail into the caller's current account (the API key's
/// account, or the session's selected one). The invitee gets an e-mail with a secret link.
#[utoipa::path(post, path = "/users/v1/invitations", tag = "SOLAPI invitations", security(("hmac" = []), ("bearer" = [])),
    request_body = InvitationBody, responses((status = 200, body = Invitation), (status = "4XX", body = ErrorBody)))]
pub async fn send_invitation(
    State(app): State<AppState>,
    Caller(actor): Caller,
    Body(b): Body<InvitationBody>,
) -> Result<Json<Invitation>, ApiError> {
    let role = parse_role(&b.role)?;
    let sent = app
        .core
        .send_invitation(&actor, &b.email, Roles::one(role))
        .await?;
    Ok(Json(Invitation::from(&sent.invitation)))
}

/// #26 내 초대 조회: pending invitations addressed to the caller's e-mail.
#[utoipa::path(get, path = "/users/v1/invitations", tag = "SOLAPI invitations", security(("hmac" = []), ("bearer" = [])),
    responses((status = 200, body = Vec<InvitationListItem>), (status = "4XX", body = ErrorBody)))]
pub async fn my_invitations(
    State(app): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<Vec<InvitationListItem>>, ApiError> {
    let rows = app.core.my_invitations(&actor).await?;
    Ok(Json(rows.iter().map(InvitationListItem::from).collect()))
}

/// #27 초대 조회: a pending invitation. Public through the e-mailed token; through the bare id
/// only for the account's OWNERs and the invitee (anyone else: 404).
#[utoipa::path(get, path = "/users/v1/invitations/{invitationId}", tag = "SOLAPI invitations",
    params(("invitationId" = String, Path, description = "The token from the invitation e-mail, or the invitation id")),
    responses((status = 200, body = InvitationExpanded), (status = "4XX", body = ErrorBody)))]
pub async fn get_invitation(
    State(app): State<AppState>,
    MaybeCaller(actor): MaybeCaller,
    PathParam(reference): PathParam<String>,
) -> Result<Json<InvitationExpanded>, ApiError> {
    let d = app
        .core
        .get_invitation(actor.as_ref(), Reference::parse(&reference)?)
        .await?;
    Ok(Json(InvitationExpanded::from(&d)))
}

/// #28 초대 수락(회원): the signed-in invitee (bearer session) accepts and joins the account.
#[utoipa::path(post, path = "/users/v1/invitations/{invitationId}", tag = "SOLAPI invitations", security(("bearer" = [])),
    params(("invitationId" = String, Path, description = "The token from the invitation e-mail, or the invitation id")),
    responses((status = 200, body = Account), (status = "4XX", body = ErrorBody)))]
pub async fn accept_invitation(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(reference): PathParam<String>,
) -> Result<Json<Account>, ApiError> {
    let org = app
        .core
        .accept_invitation(&actor, Reference::parse(&reference)?)
        .await?;
    Ok(Json(Account::from(&org)))
}

/// #29 초대 취소 (OWNER): cancels a pending invitation and returns it.
#[utoipa::path(delete, path = "/users/v1/invitations/{invitationId}", tag = "SOLAPI invitations",
    security(("hmac" = []), ("bearer" = [])), params(("invitationId" = String, Path)),
    responses((status = 200, body = Invitation), (status = "4XX", body = ErrorBody)))]
pub async fn cancel_invitation(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(id): PathParam<String>,
) -> Result<Json<Invitation>, ApiError> {
    let row = app.core.cancel_invitation(&actor, &id).await?;
    Ok(Json(Invitation::from(&row)))
}
