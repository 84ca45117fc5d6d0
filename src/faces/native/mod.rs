//! usher's own namespace (`/usher/v1`): what people and operators need that neither dialect
//! documents — sessions, API keys, e-mail verification, declining an invitation. Errors use the
//! same `{errorCode, errorMessage}` shape as the SOLAPI face.

mod outbox;
mod webhooks;

use axum::Json;
use axum::extract::State;

use crate::faces::client_ip::ClientIp;
use axum::http::{HeaderMap, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::AppState;
use super::solapi::error::{ApiError, ErrorBody};
use super::solapi::extract::{Body, Caller, MaybeCaller, PathParam};
use super::solapi::views::{Invitation, Member};
use crate::core::invitations::Reference;
use crate::store::rows::ApiKeyRow;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(delete_current_session))
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
        .routes(routes!(verify_email))
        .routes(routes!(decline_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(set_language))
        .routes(routes!(outbox::list_messages))
        .routes(routes!(outbox::retry_message))
        .routes(routes!(webhooks::create_webhook, webhooks::list_webhooks))
        .routes(routes!(webhooks::update_webhook, webhooks::delete_webhook))
        .routes(routes!(webhooks::rotate_webhook_secret))
        .routes(routes!(webhooks::test_webhook))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

/// A new session; `token` is shown only here. Send it as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionCreated {
    pub token: String,
    pub expires_at: String,
    pub member: Member,
}

/// Signs in with e-mail and password. Wrong e-mail and wrong password answer alike.
#[utoipa::path(post, path = "/usher/v1/sessions", tag = "usher sessions", request_body = LoginBody,
    responses((status = 200, body = SessionCreated), (status = "4XX", body = ErrorBody)))]
pub async fn create_session(
    State(app): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Body(b): Body<LoginBody>,
) -> Result<Json<SessionCreated>, ApiError> {
    app.limits.check_login(client).await?;
    let device = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown");
    let s = app
        .core
        .login(&b.email, &b.password, &client.to_string(), device)
        .await?;
    Ok(Json(SessionCreated {
        token: s.token,
        expires_at: s.expires_at,
        member: Member::new(&s.user, &[]),
    }))
}

/// Signs out: ends the session whose bearer token authenticates this request.
#[utoipa::path(delete, path = "/usher/v1/sessions/current", tag = "usher sessions", security(("bearer" = [])),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete_current_session(
    State(app): State<AppState>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let value = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    app.auth.authenticate(value).await?;
    let token = value
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| {
            v.get(7..)
                .filter(|_| v[..7].eq_ignore_ascii_case("bearer "))
        })
        .ok_or_else(|| ApiError::validation("sign out with the session's bearer token"))?;
    app.core.logout(token.trim()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An API key as listed: never its secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub api_key: String,
    pub account_id: String,
    pub member_id: Option<String>,
    pub description: String,
    pub date_created: String,
}

impl From<&ApiKeyRow> for ApiKeyView {
    fn from(k: &ApiKeyRow) -> Self {
        ApiKeyView {
            api_key: k.id.clone(),
            account_id: k.org_id.clone(),
            member_id: k.user_id.clone(),
            description: k.description.clone(),
            date_created: k.created_at.clone(),
        }
    }
}

/// A new API key with its secret, shown only in this answer.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    #[serde(flatten)]
    pub key: ApiKeyView,
    pub api_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyBody {
    pub description: Option<String>,
}

/// Creates an API key that acts as the caller in the account (OWNER or DEVELOPER).
#[utoipa::path(post, path = "/usher/v1/accounts/{accountId}/api-keys", tag = "usher API keys",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)), request_body = ApiKeyBody,
    responses((status = 200, body = ApiKeyCreated), (status = "4XX", body = ErrorBody)))]
pub async fn create_api_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    Body(b): Body<ApiKeyBody>,
) -> Result<Json<ApiKeyCreated>, ApiError> {
    let k = app
        .core
        .create_api_key(&actor, &account_id, b.description.as_deref().unwrap_or(""))
        .await?;
    Ok(Json(ApiKeyCreated {
        key: ApiKeyView::from(&k.row),
        api_secret: k.secret,
    }))
}

/// Lists the account's API keys (OWNER or DEVELOPER); secrets are never shown again.
#[utoipa::path(get, path = "/usher/v1/accounts/{accountId}/api-keys", tag = "usher API keys",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)),
    responses((status = 200, body = Vec<ApiKeyView>), (status = "4XX", body = ErrorBody)))]
pub async fn list_api_keys(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<Vec<ApiKeyView>>, ApiError> {
    let keys = app.core.list_api_keys(&actor, &account_id).await?;
    Ok(Json(keys.iter().map(ApiKeyView::from).collect()))
}

/// Revokes an API key of the account (OWNER or DEVELOPER).
#[utoipa::path(delete, path = "/usher/v1/accounts/{accountId}/api-keys/{apiKey}", tag = "usher API keys",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("apiKey" = String, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn revoke_api_key(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, key_id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.core
        .revoke_api_key(&actor, &app.auth.keys, &account_id, &key_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenBody {
    pub token: String,
}

/// Confirms an e-mail address with the token from the verification e-mail.
#[utoipa::path(post, path = "/usher/v1/email-verifications", tag = "usher sessions", request_body = TokenBody,
    responses((status = 200, body = Member), (status = "4XX", body = ErrorBody)))]
pub async fn verify_email(
    State(app): State<AppState>,
    Body(b): Body<TokenBody>,
) -> Result<Json<Member>, ApiError> {
    let user = app.core.verify_email(&b.token).await?;
    Ok(Json(Member::new(&user, &[])))
}

/// The invitee declines: with the e-mailed token (no sign-in needed), or signed in as the
/// invited e-mail with the invitation id.
#[utoipa::path(post, path = "/usher/v1/invitations/{invitationId}/decline", tag = "usher invitations",
    params(("invitationId" = String, Path, description = "The token from the invitation e-mail, or the invitation id")),
    responses((status = 200, body = Invitation), (status = "4XX", body = ErrorBody)))]
pub async fn decline_invitation(
    State(app): State<AppState>,
    MaybeCaller(actor): MaybeCaller,
    PathParam(reference): PathParam<String>,
) -> Result<Json<Invitation>, ApiError> {
    let row = app
        .core
        .decline_invitation(actor.as_ref(), Reference::parse(&reference)?)
        .await?;
    Ok(Json(Invitation::from(&row)))
}

/// An invitation as usher's own namespace shows it: the SOLAPI fields plus its state and expiry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationState {
    #[serde(flatten)]
    pub invitation: Invitation,
    pub state: String,
    pub expires_at: String,
}

/// An owner resends a pending invitation: the token rotates (earlier links stop working), the
/// expiry starts again and a new e-mail is sent. An expired invitation answers 410; invite again.
#[utoipa::path(post, path = "/usher/v1/invitations/{invitationId}/resend", tag = "usher invitations",
    security(("hmac" = []), ("bearer" = [])),
    params(("invitationId" = String, Path, description = "The invitation id")),
    responses((status = 200, body = InvitationState), (status = "4XX", body = ErrorBody)))]
pub async fn resend_invitation(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(id): PathParam<String>,
) -> Result<Json<InvitationState>, ApiError> {
    let row = app.core.resend_invitation(&actor, &id).await?;
    Ok(Json(InvitationState {
        invitation: Invitation::from(&row),
        state: row.state.clone(),
        expires_at: row.expires_at.clone(),
    }))
}

/// The language of an account's e-mails.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LanguageBody {
    /// `en`, `ko`, or `null` for the server's default (`mail_language`).
    pub language: Option<String>,
}

/// Sets the language of the account's invitation e-mails (owners).
#[utoipa::path(put, path = "/usher/v1/accounts/{accountId}/language", tag = "usher delivery",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)), request_body = LanguageBody,
    responses((status = 200, body = LanguageBody), (status = "4XX", body = ErrorBody)))]
pub async fn set_language(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    Body(b): Body<LanguageBody>,
) -> Result<Json<LanguageBody>, ApiError> {
    app.core
        .set_org_language(&actor, &account_id, b.language.as_deref())
        .await?;
    Ok(Json(b))
}
