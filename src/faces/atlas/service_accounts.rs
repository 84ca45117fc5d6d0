//! Service accounts of an organization (`/orgs/{orgId}/serviceAccounts`, version 2024-08-05)
//! and the OAuth2 endpoints they use (`/api/oauth/token`, `/api/oauth/revoke`).

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::invites::{check_org_id, checked_roles, org_error, org_roles, seconds};
use super::users::RawQuery;
use super::wire::{Atlas, AtlasBody, AtlasError, Paging, V2024_08, Version};
use crate::core::CoreError;
use crate::core::service_accounts::{AccountChange, NewSecret, ServiceAccount};
use crate::faces::AppState;
use crate::faces::client_ip::ClientIp;
use crate::store::service_accounts::SecretRow;

const CURRENT: &[Version] = &[V2024_08];

/// `ServiceAccountSecret`; the value only when just minted.
fn secret_view(s: &SecretRow, value: Option<&str>) -> Value {
    let mut v = json!({
        "createdAt": seconds(&s.created_at),
        "expiresAt": seconds(&s.expires_at),
        "id": s.id,
        "lastUsedAt": s.last_used_at.as_deref().map(seconds),
        "maskedSecretValue": s.masked,
    });
    if let Some(value) = value {
        v["secret"] = json!(value);
    }
    v
}

/// `OrgServiceAccount`.
fn view(a: &ServiceAccount, fresh: Option<&NewSecret>) -> Value {
    let secrets: Vec<Value> = a
        .secrets
        .iter()
        .map(|s| {
            let value = fresh.filter(|f| f.row.id == s.id).map(|f| f.value.as_str());
            secret_view(s, value)
        })
        .collect();
    json!({
        "clientId": a.account.client_id,
        "createdAt": seconds(&a.account.created_at),
        "description": a.account.description,
        "name": a.account.name,
        "roles": org_roles(&a.account.roles),
        "secrets": secrets,
    })
}

fn account_error(org_id: &str, client_id: &str) -> impl Fn(CoreError) -> AtlasError {
    let (org_id, client_id) = (org_id.to_owned(), client_id.to_owned());
    move |e| match e {
        CoreError::NotFound if !client_id.is_empty() => {
            AtlasError::resource_not_found(format!("service account {client_id}"))
        }
        other => org_error(&org_id)(other),
    }
}

/// `OrgServiceAccountRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    name: Option<String>,
    description: Option<String>,
    roles: Option<Vec<String>>,
    secret_expires_after_hours: Option<i64>,
}

/// `OrgServiceAccountUpdateRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRequest {
    name: Option<String>,
    description: Option<String>,
    roles: Option<Vec<String>>,
}

/// `ServiceAccountSecretRequest`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretRequest {
    secret_expires_after_hours: Option<i64>,
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query)),
    responses((status = 200, description = "PaginatedOrgServiceAccounts", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let paging = Paging::from_query(query.as_deref())?;
    let accounts = app
        .core
        .service_accounts(&atlas.actor, &org_id)
        .await
        .map_err(org_error(&org_id))?;
    let all = accounts.iter().map(|a| view(a, None)).collect();
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply_page(v, base, &paging, all))
}

#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path)),
    request_body(content = CreateRequest, content_type = "application/json"),
    responses((status = 201, description = "OrgServiceAccount with its first secret, shown once", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<CreateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let name = b
        .name
        .ok_or_else(|| AtlasError::missing_attribute("name"))?;
    let description = b
        .description
        .ok_or_else(|| AtlasError::missing_attribute("description"))?;
    let roles = checked_roles(&org_id, b.roles.as_deref())?
        .ok_or_else(|| AtlasError::missing_attribute("roles"))?;
    let hours = b
        .secret_expires_after_hours
        .ok_or_else(|| AtlasError::missing_attribute("secretExpiresAfterHours"))?;
    let (account, secret) = app
        .core
        .create_service_account(&atlas.actor, &org_id, &name, &description, roles, hours)
        .await
        .map_err(org_error(&org_id))?;
    Ok(atlas.reply(v, StatusCode::CREATED, Some(view(&account, Some(&secret)))))
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("clientId" = String, Path)),
    responses((status = 200, description = "OrgServiceAccount", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, client_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let a = app
        .core
        .service_account(&atlas.actor, &org_id, &client_id)
        .await
        .map_err(account_error(&org_id, &client_id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&a, None))))
}

#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("clientId" = String, Path)),
    request_body(content = UpdateRequest, content_type = "application/json"),
    responses((status = 200, description = "OrgServiceAccount", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, client_id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<UpdateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let change = AccountChange {
        name: b.name,
        description: b.description,
        roles: checked_roles(&org_id, b.roles.as_deref())?,
    };
    let a = app
        .core
        .update_service_account(&atlas.actor, &org_id, &client_id, change)
        .await
        .map_err(account_error(&org_id, &client_id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&a, None))))
}

#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("clientId" = String, Path)),
    responses((status = 204, description = "Deleted with its secrets and tokens", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, client_id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    app.core
        .delete_service_account(&atlas.actor, &org_id, &client_id)
        .await
        .map_err(account_error(&org_id, &client_id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}/secrets", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("clientId" = String, Path)),
    request_body(content = SecretRequest, content_type = "application/json"),
    responses((status = 201, description = "ServiceAccountSecret, its value shown once", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create_secret(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, client_id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<SecretRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let hours = b
        .secret_expires_after_hours
        .ok_or_else(|| AtlasError::missing_attribute("secretExpiresAfterHours"))?;
    let s = app
        .core
        .create_service_account_secret(&atlas.actor, &org_id, &client_id, hours)
        .await
        .map_err(account_error(&org_id, &client_id))?;
    Ok(atlas.reply(
        v,
        StatusCode::CREATED,
        Some(secret_view(&s.row, Some(&s.value))),
    ))
}

#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/serviceAccounts/{clientId}/secrets/{secretId}", tag = "Atlas service accounts",
    security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path), ("clientId" = String, Path), ("secretId" = String, Path)),
    responses((status = 204, description = "Deleted", content_type = "application/vnd.atlas.2024-08-05+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete_secret(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, client_id, secret_id)): Path<(String, String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    app.core
        .delete_service_account_secret(&atlas.actor, &org_id, &client_id, &secret_id)
        .await
        .map_err(account_error(&org_id, &client_id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// An OAuth2 error (RFC 6749 §5.2): `{"error": code}`, never cached.
fn oauth_error(status: StatusCode, code: &str) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"usher\""),
        );
    }
    (status, headers, axum::Json(json!({"error": code}))).into_response()
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1), else `client_id` and
/// `client_secret` in the form.
fn client_credentials(headers: &HeaderMap, form: &[(String, String)]) -> Option<(String, String)> {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
    {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (id, secret) = text.split_once(':')?;
        return Some((id.to_owned(), secret.to_owned()));
    }
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some((field("client_id")?, field("client_secret")?))
}

fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// `POST /api/oauth/token`: the client-credentials grant. 200
/// `{access_token, token_type: "Bearer", expires_in: 3600}`.
pub async fn token(
    State(app): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(CoreError::RateLimited { retry_after_secs }) = app.limits.check_login(ip).await {
        let mut r = oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down");
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        return r;
    }
    let form = form_fields(&body);
    match form
        .iter()
        .find(|(k, _)| k == "grant_type")
        .map(|(_, v)| v.as_str())
    {
        Some("client_credentials") => {}
        Some(_) => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
        None => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
    }
    let Some((client_id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    match app.core.issue_access_token(&client_id, &secret).await {
        Ok((token, ttl)) => {
            let mut headers = HeaderMap::new();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            let body = json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": ttl.whole_seconds(),
            });
            (StatusCode::OK, headers, axum::Json(body)).into_response()
        }
        Err(CoreError::BadCredentials) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
        Err(e) => AtlasError::from(e).into_response(),
    }
}

/// `POST /api/oauth/revoke` (RFC 7009): the client revokes one of its tokens; 200 whether or not
/// the token was live.
pub async fn revoke(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let form = form_fields(&body);
    let Some((client_id, secret)) = client_credentials(&headers, &form) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let Some(token) = form
        .iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.clone())
    else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_request");
    };
    match app
        .core
        .revoke_access_token(&client_id, &secret, &token)
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(CoreError::BadCredentials) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
        Err(e) => AtlasError::from(e).into_response(),
    }
}
