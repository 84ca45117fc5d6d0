//! Programmatic API keys of an organization (`/orgs/{orgId}/apiKeys`, version 2023-01-01): keys
//! of the organization itself, with roles of their own. The public key is the Digest username
//! (and the SOLAPI `apiKey`), the private key the password (and the HMAC secret).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::invites::{check_org_id, checked_roles, org_error, org_roles, seconds};
use super::users::RawQuery;
use super::wire::{Atlas, AtlasBody, AtlasError, Paging, V2023, Version};
use crate::core::CoreError;
use crate::core::access_lists::AccessEntry;
use crate::faces::AppState;
use crate::store::access_lists::AccessEntryRow;
use crate::store::rows::ApiKeyRow;

const CURRENT: &[Version] = &[V2023];

/// `ApiKeyUserDetails`. The private key whole only when just created; afterwards as Atlas
/// redacts it, the last 12 characters left (`********-****-****-01bdd56c8977`).
fn view(k: &ApiKeyRow, private_key: &str) -> Value {
    let roles: Vec<Value> = org_roles(&k.roles)
        .into_iter()
        .map(|r| json!({"orgId": k.org_id, "roleName": r}))
        .collect();
    json!({
        "desc": k.description,
        "id": k.atlas_id,
        "privateKey": private_key,
        "publicKey": k.id,
        "roles": roles,
    })
}

fn redacted(k: &ApiKeyRow, app: &AppState) -> String {
    let secret = app
        .core
        .crypto
        .decrypt(&k.id, &k.secret_encrypted)
        .ok()
        .and_then(|s| String::from_utf8(s).ok())
        .unwrap_or_default();
    let tail = &secret[secret.len().saturating_sub(12)..];
    format!("********-****-****-{tail}")
}

fn key_error(org_id: &str, id: &str) -> impl Fn(CoreError) -> AtlasError {
    let (org_id, id) = (org_id.to_owned(), id.to_owned());
    move |e| match e {
        CoreError::NotFound if !id.is_empty() => {
            AtlasError::resource_not_found(format!("API key {id}"))
        }
        CoreError::Invalid { field: "desc", .. } => AtlasError::invalid_attribute("desc"),
        other => org_error(&org_id)(other),
    }
}

/// `CreateAtlasOrganizationApiKey`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateRequest {
    desc: Option<String>,
    roles: Option<Vec<String>>,
}

/// `UpdateAtlasOrganizationApiKey`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateRequest {
    desc: Option<String>,
    roles: Option<Vec<String>>,
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/apiKeys", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])),
    params(("orgId" = String, Path), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedApiApiUserView, private keys redacted", content_type = "application/vnd.atlas.2023-01-01+json"),
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
    let keys = app
        .core
        .org_api_keys(&atlas.actor, &org_id)
        .await
        .map_err(org_error(&org_id))?;
    let all = keys.iter().map(|k| view(k, &redacted(k, &app))).collect();
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply_page(v, base, &paging, all))
}

#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/apiKeys", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path)),
    request_body(content = CreateRequest, content_type = "application/json"),
    responses((status = 200, description = "ApiKeyUserDetails with the private key, shown once", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn create(
    State(app): State<AppState>,
    atlas: Atlas,
    Path(org_id): Path<String>,
    AtlasBody(b): AtlasBody<CreateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let desc = b
        .desc
        .ok_or_else(|| AtlasError::missing_attribute("desc"))?;
    let roles = checked_roles(&org_id, b.roles.as_deref())?
        .ok_or_else(|| AtlasError::missing_attribute("roles"))?;
    let created = app
        .core
        .create_org_api_key(&atlas.actor, &org_id, &desc, roles)
        .await
        .map_err(key_error(&org_id, ""))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&created.row, &created.secret))))
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path)),
    responses((status = 200, description = "ApiKeyUserDetails, private key redacted", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_one(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let k = app
        .core
        .org_api_key(&atlas.actor, &org_id, &id)
        .await
        .map_err(key_error(&org_id, &id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&k, &redacted(&k, &app)))))
}

#[utoipa::path(patch, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path)),
    request_body(content = UpdateRequest, content_type = "application/json"),
    responses((status = 200, description = "ApiKeyUserDetails, private key redacted", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn update(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<UpdateRequest>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let roles = checked_roles(&org_id, b.roles.as_deref())?;
    let k = app
        .core
        .update_org_api_key(
            &atlas.actor,
            &app.auth.keys,
            &org_id,
            &id,
            b.desc.as_deref(),
            roles,
        )
        .await
        .map_err(key_error(&org_id, &id))?;
    Ok(atlas.reply(v, StatusCode::OK, Some(view(&k, &redacted(&k, &app)))))
}

#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path)),
    responses((status = 204, description = "Deleted; it stops working at once", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    app.core
        .delete_org_api_key(&atlas.actor, &app.auth.keys, &org_id, &id)
        .await
        .map_err(key_error(&org_id, &id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}

/// `UserAccessListResponse`. usher does not count uses of an entry (`count` stays 0, and
/// `lastUsed`/`lastUsedAddress` are left out).
fn entry_view(org_id: &str, atlas_id: &str, e: &AccessEntryRow, base: &str) -> Value {
    let mut v = json!({
        "cidrBlock": e.cidr,
        "count": 0,
        "created": seconds(&e.created_at),
        "links": [{
            "href": format!("{base}/api/atlas/v2/orgs/{org_id}/apiKeys/{atlas_id}/accessList/{}",
                e.cidr.replace('/', "%2F")),
            "rel": "self",
        }],
    });
    if let Some(ip) = &e.ip_address {
        v["ipAddress"] = json!(ip);
    }
    v
}

fn entry_error(e: &str) -> AtlasError {
    AtlasError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_IP_ADDRESS_OR_CIDR_NOTATION",
        format!("The address {e} must be in valid IP address or CIDR notation."),
        vec![json!(e)],
    )
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path), ("pageNum" = Option<u32>, Query), ("itemsPerPage" = Option<u32>, Query), ("includeCount" = Option<bool>, Query)),
    responses((status = 200, description = "PaginatedApiUserAccessListResponseView", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn list_access(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    let paging = Paging::from_query(query.as_deref())?;
    let (_, entries) = app
        .core
        .key_access_list(&atlas.actor, &org_id, &id)
        .await
        .map_err(key_error(&org_id, &id))?;
    let base = &app.core.settings.links.api_base;
    let all = entries
        .iter()
        .map(|e| entry_view(&org_id, &id, e, base))
        .collect();
    Ok(atlas.reply_page(v, base, &paging, all))
}

/// `UserAccessListRequest`: one address or one network.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessRequest {
    ip_address: Option<String>,
    cidr_block: Option<String>,
}

/// Adds entries (an array); 200 with the key's whole list, as Atlas answers. From then on the
/// key is accepted only from those networks, in both dialects.
#[utoipa::path(post, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path)),
    request_body(content = Vec<AccessRequest>, content_type = "application/json"),
    responses((status = 200, description = "PaginatedApiUserAccessListResponseView", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn add_access(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id)): Path<(String, String)>,
    AtlasBody(b): AtlasBody<Vec<AccessRequest>>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    check_org_id(&org_id)?;
    if b.is_empty() {
        return Err(AtlasError::invalid_attribute("ipAddress"));
    }
    let mut entries = Vec::new();
    for r in &b {
        let entry = match (&r.ip_address, &r.cidr_block) {
            (Some(ip), None) => ip
                .parse()
                .map(AccessEntry::Address)
                .map_err(|_| entry_error(ip))?,
            (None, Some(cidr)) => cidr
                .parse()
                .map(AccessEntry::Network)
                .map_err(|_| entry_error(cidr))?,
            (Some(_), Some(_)) => return Err(AtlasError::invalid_attribute("cidrBlock")),
            (None, None) => return Err(AtlasError::missing_attribute("ipAddress")),
        };
        entries.push(entry);
    }
    let rows = app
        .core
        .add_key_access(&atlas.actor, &org_id, &id, &entries)
        .await
        .map_err(key_error(&org_id, &id))?;
    let base = &app.core.settings.links.api_base;
    let all = rows
        .iter()
        .map(|e| entry_view(&org_id, &id, e, base))
        .collect();
    Ok(atlas.reply_page(v, base, &Paging::from_query(None)?, all))
}

/// The entry a path names (an address, or a network with its `/` as `%2F`).
async fn find_entry(
    app: &AppState,
    atlas: &Atlas,
    (org_id, id, entry): (&str, &str, &str),
) -> Result<(AccessEntry, AccessEntryRow), AtlasError> {
    check_org_id(org_id)?;
    let (_, entries) = app
        .core
        .key_access_list(&atlas.actor, org_id, id)
        .await
        .map_err(key_error(org_id, id))?;
    let parsed = AccessEntry::parse(entry).ok_or_else(|| entry_error(entry))?;
    let cidr = parsed.network().to_string();
    let row = entries
        .into_iter()
        .find(|e| e.cidr == cidr)
        .ok_or_else(|| AtlasError::resource_not_found(format!("access list entry {entry}")))?;
    Ok((parsed, row))
}

#[utoipa::path(get, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path), ("ipAddress" = String, Path, description = "An address, or a network with `/` as `%2F`")),
    responses((status = 200, description = "UserAccessListResponse", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn get_access(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id, entry)): Path<(String, String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (_, row) = find_entry(&app, &atlas, (&org_id, &id, &entry)).await?;
    let base = &app.core.settings.links.api_base;
    Ok(atlas.reply(
        v,
        StatusCode::OK,
        Some(entry_view(&org_id, &id, &row, base)),
    ))
}

#[utoipa::path(delete, path = "/api/atlas/v2/orgs/{orgId}/apiKeys/{apiUserId}/accessList/{ipAddress}", tag = "Atlas API keys",
    security(("digest" = []), ("bearer" = [])), params(("orgId" = String, Path), ("apiUserId" = String, Path), ("ipAddress" = String, Path, description = "An address, or a network with `/` as `%2F`")),
    responses((status = 204, description = "Removed; no body", content_type = "application/vnd.atlas.2023-01-01+json"),
        (status = "4XX", description = "ApiError", content_type = "application/json")))]
pub async fn delete_access(
    State(app): State<AppState>,
    atlas: Atlas,
    Path((org_id, id, entry)): Path<(String, String, String)>,
) -> Result<Response, AtlasError> {
    let v = atlas.version(CURRENT)?;
    let (parsed, _) = find_entry(&app, &atlas, (&org_id, &id, &entry)).await?;
    app.core
        .remove_key_access(&atlas.actor, &org_id, &id, parsed)
        .await
        .map_err(key_error(&org_id, &id))?;
    Ok(atlas.reply(v, StatusCode::NO_CONTENT, None))
}
