//! The organization's outgoing messages, for its owners: what was sent, what is waiting, what was
//! parked after the last attempt and why; parked messages can be queued again.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::super::AppState;
use super::super::solapi::error::{ApiError, ErrorBody};
use super::super::solapi::extract::{Caller, PathParam, QueryPairs};
use crate::store::outbox::MessageRow;

/// A queued message without its content (which carries secret links).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessageView {
    pub message_id: String,
    /// `email`.
    pub kind: String,
    /// `invitation`, `verification` or `password_reset`.
    pub purpose: String,
    pub recipient: String,
    /// `PENDING`, `SENT` or `PARKED`.
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    /// The last delivery error, kept while the message is retried or parked.
    pub last_error: Option<String>,
    pub date_created: String,
    pub date_sent: Option<String>,
}

impl From<MessageRow> for MessageView {
    fn from(m: MessageRow) -> Self {
        MessageView {
            message_id: m.id,
            kind: m.kind,
            purpose: m.purpose,
            recipient: m.recipient,
            state: m.state,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error,
            date_created: m.created_at,
            date_sent: m.sent_at,
        }
    }
}

/// The account's messages, newest first, at most 500 (owners).
#[utoipa::path(get, path = "/usher/v1/accounts/{accountId}/outbox", tag = "usher delivery",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path),
        ("state" = Option<String>, Query, description = "Only messages in this state: PENDING, SENT or PARKED")),
    responses((status = 200, body = Vec<MessageView>), (status = "4XX", body = ErrorBody)))]
pub async fn list_messages(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    QueryPairs(pairs): QueryPairs,
) -> Result<Json<Vec<MessageView>>, ApiError> {
    let mut state = None;
    for (k, v) in &pairs {
        match k.as_str() {
            "state" if state.is_none() => state = Some(v.as_str()),
            _ => {
                return Err(ApiError::validation(format!(
                    "unexpected query parameter {k:?} (only state)"
                )));
            }
        }
    }
    let rows = app.core.org_messages(&actor, &account_id, state).await?;
    Ok(Json(rows.into_iter().map(MessageView::from).collect()))
}

/// Queues a parked message of the account again, due now, with a fresh attempt count (owners).
/// A message that is not parked, or not the account's, is not found.
#[utoipa::path(post, path = "/usher/v1/accounts/{accountId}/outbox/{messageId}/retry", tag = "usher delivery",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("messageId" = String, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn retry_message(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, message_id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.core
        .retry_org_message(&actor, &account_id, &message_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
