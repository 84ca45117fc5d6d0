//! Extractors whose rejections speak the SOLAPI error dialect.

use crate::faces::client_ip::ClientIp;
use axum::body::Bytes;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{StatusCode, header, request::Parts};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::core::Actor;
use crate::faces::AppState;

/// A JSON body. An empty body reads as `{}` (SOLAPI documents `{}` for several endpoints and
/// clients send nothing); malformed JSON, wrong types and unknown fields are `ValidationError`;
/// an oversized body is 413 `PayloadTooLarge`.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::validation(e.body_text())
            }
        })?;
        let slice: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(slice)
            .map(Body)
            .map_err(|e| ApiError::validation(format!("invalid JSON body: {e}")))
    }
}

/// An authenticated caller (HMAC API key or bearer session).
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let app = AppState::from_ref(state);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        let actor = app.auth.authenticate(header).await?;
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, &app).await;
        if actor.key.as_ref().is_some_and(|k| !k.admits(ip)) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "IPNotAllowed",
                format!(
                    "허용되지 않은 IP 주소입니다. (the API key's access list does not include {ip})"
                ),
            ));
        }
        Ok(Caller(actor))
    }
}

/// A caller if the request carries credentials; anonymous otherwise. Bad credentials are still
/// an error (they never silently downgrade to anonymous).
pub struct MaybeCaller(pub Option<Actor>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller
where
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if parts.headers.get(header::AUTHORIZATION).is_none() {
            return Ok(MaybeCaller(None));
        }
        Ok(MaybeCaller(Some(
            Caller::from_request_parts(parts, state).await?.0,
        )))
    }
}

/// SOLAPI list filters: `field=value` or `field[eq]=value` (the only operator the users pages
/// allow). Unknown fields and other operators are refused rather than ignored.
pub fn eq_filters(
    pairs: Vec<(String, String)>,
    allowed: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    pairs
        .into_iter()
        .map(|(k, v)| {
            let (name, op) = match k.split_once('[') {
                Some((n, rest)) => (
                    n.to_owned(),
                    rest.strip_suffix(']').unwrap_or("?").to_owned(),
                ),
                None => (k.clone(), "eq".to_owned()),
            };
            if op != "eq" {
                return Err(ApiError::validation(format!(
                    "{name}: only the eq operator is supported"
                )));
            }
            if !allowed.contains(&name.as_str()) {
                return Err(ApiError::validation(format!(
                    "'{name}' is not an allowed query parameter"
                )));
            }
            Ok((name, v))
        })
        .collect()
}

/// The value of filter `name`, if given.
pub fn filter_value(filters: &[(String, String)], name: &str) -> Option<String> {
    filters
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// Path parameters with rejections in the SOLAPI dialect.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct PathParam<T>(pub T);

/// Raw query pairs with rejections in the SOLAPI dialect.
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Query(pairs) =
            axum::extract::Query::<Vec<(String, String)>>::from_request_parts(parts, state).await?;
        Ok(QueryPairs(pairs))
    }
}
