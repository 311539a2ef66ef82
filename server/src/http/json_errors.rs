//! Every API error is JSON `{"error": "…"}`, including the ones axum's extractors make.
//!
//! Handlers answer with [`super::ApiError`], but a request that never reaches a handler
//! (a body that is not JSON, a wrong `Content-Type`, a missing WebSocket upgrade, an
//! unknown method) is refused by axum itself with a plain-text body. This middleware turns
//! such answers into the same JSON shape, keeping their status, so integrators (and
//! `server/openapi.yaml`) see one error format.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::Response;

/// The largest plain-text error body rewritten (axum's rejections are one sentence).
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// Middleware: a 4xx or 5xx answer that is not JSON becomes `{"error": "<its text>"}`.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = match to_bytes(body, MAX_TEXT_BYTES).await {
        Ok(bytes) if !bytes.is_empty() => String::from_utf8_lossy(&bytes).trim().to_owned(),
        _ => status
            .canonical_reason()
            .unwrap_or("request refused")
            .to_ascii_lowercase(),
    };
    let body = serde_json::json!({ "error": text }).to_string();
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}
