//! An organization's webhook endpoints, for its owners (docs/webhooks.md).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::super::AppState;
use super::super::solapi::error::{ApiError, ErrorBody};
use super::super::solapi::extract::{Body, Caller, PathParam};
use crate::core::webhooks::{CreatedEndpoint, EndpointChange};
use crate::store::webhooks::EndpointRow;

/// An endpoint; its secret is shown only when created or rotated.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    pub webhook_id: String,
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub date_created: String,
    pub date_updated: String,
    /// `whsec_…`: only in the answers of create and rotate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<EndpointRow> for Webhook {
    fn from(r: EndpointRow) -> Self {
        Webhook {
            webhook_id: r.id,
            url: r.url,
            events: r.events.split(' ').map(str::to_owned).collect(),
            description: r.description,
            enabled: r.enabled == 1,
            date_created: r.created_at,
            date_updated: r.updated_at,
            secret: None,
        }
    }
}

impl From<CreatedEndpoint> for Webhook {
    fn from(c: CreatedEndpoint) -> Self {
        Webhook {
            secret: Some(c.secret),
            ..Webhook::from(c.row)
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where events are POSTed (http or https).
    pub url: String,
    /// Events to receive; omitted or empty: all of them.
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    /// A disabled endpoint receives nothing (events are not even queued for it).
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestEvent {
    pub event_id: String,
}

/// Registers an endpoint (owners). The answer carries its signing secret, shown only here.
#[utoipa::path(post, path = "/usher/v1/accounts/{accountId}/webhooks", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)), request_body = CreateWebhook,
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn create_webhook(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
    Body(b): Body<CreateWebhook>,
) -> Result<Json<Webhook>, ApiError> {
    let created = app
        .core
        .create_endpoint(&actor, &account_id, &b.url, &b.events, &b.description)
        .await?;
    Ok(Json(created.into()))
}

/// The account's endpoints, without secrets (owners).
#[utoipa::path(get, path = "/usher/v1/accounts/{accountId}/webhooks", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path)),
    responses((status = 200, body = Vec<Webhook>), (status = "4XX", body = ErrorBody)))]
pub async fn list_webhooks(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam(account_id): PathParam<String>,
) -> Result<Json<Vec<Webhook>>, ApiError> {
    let rows = app.core.list_endpoints(&actor, &account_id).await?;
    Ok(Json(rows.into_iter().map(Webhook::from).collect()))
}

/// Changes an endpoint's URL, events, description or enabled state (owners).
#[utoipa::path(put, path = "/usher/v1/accounts/{accountId}/webhooks/{webhookId}", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("webhookId" = String, Path)),
    request_body = UpdateWebhook,
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn update_webhook(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, id)): PathParam<(String, String)>,
    Body(b): Body<UpdateWebhook>,
) -> Result<Json<Webhook>, ApiError> {
    let change = EndpointChange {
        url: b.url.as_deref(),
        events: b.events,
        description: b.description.as_deref(),
        enabled: b.enabled,
    };
    let row = app
        .core
        .update_endpoint(&actor, &account_id, &id, change)
        .await?;
    Ok(Json(row.into()))
}

/// Deletes an endpoint; its deliveries still waiting are parked (owners).
#[utoipa::path(delete, path = "/usher/v1/accounts/{accountId}/webhooks/{webhookId}", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 204), (status = "4XX", body = ErrorBody)))]
pub async fn delete_webhook(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, id)): PathParam<(String, String)>,
) -> Result<StatusCode, ApiError> {
    app.core.delete_endpoint(&actor, &account_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown only here; deliveries still waiting are signed with it (owners).
#[utoipa::path(post, path = "/usher/v1/accounts/{accountId}/webhooks/{webhookId}/secret", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 200, body = Webhook), (status = "4XX", body = ErrorBody)))]
pub async fn rotate_webhook_secret(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, id)): PathParam<(String, String)>,
) -> Result<Json<Webhook>, ApiError> {
    let rotated = app
        .core
        .rotate_endpoint_secret(&actor, &account_id, &id)
        .await?;
    Ok(Json(rotated.into()))
}

/// Sends a `webhook.test` event to the endpoint (owners); answers its event id.
#[utoipa::path(post, path = "/usher/v1/accounts/{accountId}/webhooks/{webhookId}/test", tag = "usher webhooks",
    security(("hmac" = []), ("bearer" = [])), params(("accountId" = String, Path), ("webhookId" = String, Path)),
    responses((status = 200, body = TestEvent), (status = "4XX", body = ErrorBody)))]
pub async fn test_webhook(
    State(app): State<AppState>,
    Caller(actor): Caller,
    PathParam((account_id, id)): PathParam<(String, String)>,
) -> Result<Json<TestEvent>, ApiError> {
    let event_id = app.core.send_test_event(&actor, &account_id, &id).await?;
    Ok(Json(TestEvent { event_id }))
}
