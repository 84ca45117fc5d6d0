//! The HTTP faces: wire formats, status codes, error vocabularies and auth schemes — nothing
//! else. Every route is registered through `utoipa_axum::routes!`, so `/openapi.json` is
//! generated from the handlers themselves.

pub mod atlas;
pub mod client_ip;
pub mod limits;
pub mod native;
pub mod ops;
pub mod pages;
pub mod solapi;

use std::sync::Arc;

use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::Authenticator;
use crate::core::Core;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub core: Arc<Core>,
    pub auth: Arc<Authenticator>,
    pub limits: Arc<limits::Limits>,
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// See [`client_ip`].
    pub trusted_proxy_hops: usize,
    /// Cookies carry `Secure` (and the `__Host-` prefix): `public_url` is https.
    pub secure_cookies: bool,
    /// The algorithm the Atlas face's Digest challenge names (MD5, as Atlas, unless configured).
    pub digest_algorithm: crate::auth::digest::Algorithm,
}

/// Every API route with its OpenAPI description.
pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(base_document())
        .merge(solapi::routes())
        .merge(native::routes())
        .merge(ops::routes())
        .merge(atlas::routes())
}

/// The OpenAPI document (also what `usher openapi` prints).
pub fn openapi() -> OpenApi {
    api_router().split_for_parts().1
}

fn base_document() -> OpenApi {
    let mut doc = utoipa::openapi::OpenApiBuilder::new()
        .info(
            utoipa::openapi::InfoBuilder::new()
                .title("usher")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Organization membership and invitations. `/users/v1` speaks the SOLAPI users API v1; \
                     `/api/atlas/v2` speaks the MongoDB Atlas Administration API v2 (HTTP Digest API keys; the exact response schemas are Atlas' own); `/usher/v1` is usher's own namespace (sessions, API keys, verification).",
                ))
                .build(),
        )
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "hmac",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "HMAC-SHA256 apiKey=<key>, date=<ISO 8601>, salt=<12-64 chars>, signature=<hex HMAC(secret, date+salt)>",
        ))),
    );
    components.add_security_scheme(
        "digest",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Digest).build()),
    );
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// The complete application: API routes, the API browser, and the middleware stack.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    let (api, doc) = api_router().split_for_parts();
    let docs = utoipa_swagger_ui::SwaggerUi::new("/docs").url("/openapi.json", doc);
    let app: Router = api
        .merge(pages::routes())
        .with_state(state)
        .merge(docs)
        .fallback(|| async { solapi::error::ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            let status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
            solapi::error::ApiError::new(
                status,
                "MethodNotAllowed",
                "허용되지 않는 메서드입니다. (method not allowed)",
            )
        });
    crate::http::layers(app, max_body_bytes)
}
