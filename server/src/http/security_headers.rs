//! Security headers on every HTTP response.
//!
//! The content security policy suits a wasm PWA served entirely by Doorstep: nothing from
//! other origins, wasm compilation allowed, no framing.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// The content security policy.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; worker-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Middleware adding the headers; `tls` adds HSTS.
pub async fn add_security_headers(
    State(tls): State<bool>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    // A response with its own, stricter policy keeps it (the printable records: no
    // script at all, their inline style sheet only).
    let own_policy = headers.contains_key("content-security-policy");
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    };
    if !own_policy {
        set("content-security-policy", CONTENT_SECURITY_POLICY);
    }
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "no-referrer");
    if is_api {
        set("cache-control", "no-store");
    }
    if tls {
        set(
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    response
}
