//! The middleware stack shared by every face: request ids, safe request logging, metrics, body
//! limit, timeout, panic containment.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Labels a request by its route template (`/users/v1/invitations/{invitationId}`), never by its
/// concrete path: paths can carry invitation and reset tokens, which must not reach logs.
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into())
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = route_of(&req);
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("usher_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("usher_http_request_duration_seconds", "method" => method, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

pub fn layers(app: Router, max_body_bytes: usize) -> Router {
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let request_id = req.headers().get(&REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
        tracing::info_span!("request", method = %req.method(), route = %route_of(req), request.id = %request_id)
    })
    // One line per request at INFO: status and latency, inside the span above (no path, no headers).
    .on_response(DefaultOnResponse::new().level(Level::INFO));
    app.layer(middleware::from_fn(record_metrics)).layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([
                header::AUTHORIZATION,
                header::COOKIE,
            ]))
            .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
            .layer(PropagateRequestIdLayer::new(REQUEST_ID))
            .layer(trace)
            .layer(CatchPanicLayer::new())
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                Duration::from_secs(30),
            ))
            .layer(DefaultBodyLimit::max(max_body_bytes))
            .layer(middleware::from_fn_with_state(
                max_body_bytes,
                read_body_first,
            )),
    )
}

/// Reads a declared, admissible body whole before any handler sees the request.
///
/// Many answers are given without reading the body: the Digest challenge every Atlas client meets
/// first, a missing or bad HMAC header, a version refused by `Accept`. When such an answer is
/// ready before the body has arrived (httpx and `requests` write headers and body separately),
/// hyper cannot drain the body and closes the connection, and a client that reuses its pooled
/// connection gets "Server disconnected". With the body already read, hyper keeps the connection.
/// Bodies without a length, or longer than the limit, pass through untouched: the extractors
/// answer those (413 in the caller's dialect) as before.
async fn read_body_first(
    axum::extract::State(limit): axum::extract::State<usize>,
    req: Request,
    next: Next,
) -> Response {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match declared {
        Some(len) if len > 0 && len <= limit => {
            let (parts, body) = req.into_parts();
            match axum::body::to_bytes(body, limit).await {
                Ok(bytes) => {
                    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                        .await
                }
                // The client stopped sending what it declared: nothing to answer in a dialect.
                Err(_) => StatusCode::BAD_REQUEST.into_response(),
            }
        }
        _ => next.run(req).await,
    }
}
