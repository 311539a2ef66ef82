//! Cross-origin requests carrying the session cookie are refused.
//!
//! The cookie is `SameSite=Strict`, but "site" is wider than "origin": a page on a sibling
//! host of the same registrable domain (`evil.council.gov.uk` beside
//! `visits.council.gov.uk`) is same-site, so the browser would send the cookie with its
//! requests and WebSocket handshakes. So a request the **session cookie** authenticates
//! (no `Authorization: Bearer`, and for `/sync` no `ticket` or `credential`) must carry an `Origin` equal
//! to the server's own: scheme (`https` with TLS here or `--behind-tls-proxy`, else `http`)
//! and the `Host` it was asked for (behind a proxy, `X-Forwarded-Host` if the proxy sets
//! it). Without an `Origin`, only a plain `GET`/`HEAD` passes (browsers omit it on
//! same-origin GETs); a state-changing request or a WebSocket upgrade (browsers always send
//! one there) is refused. Refusals are `403 {"error": …}` and audited (coalesced).
//!
//! Bearer-token, ticket and sync-credential requests are untouched: a page on another
//! origin cannot set `Authorization`, and cannot get a ticket or credential without a
//! same-origin `POST`.

use axum::extract::{Request, State};
use axum::http::header::{AUTHORIZATION, COOKIE, HOST, ORIGIN, UPGRADE};
use axum::http::{HeaderMap, Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::session_api::SESSION_COOKIE;
use super::{ApiError, AppState, ClientAddress};
use crate::directory::audit::{AuditEntry, Outcome};
use crate::directory::denial_audit::Denied;

/// Middleware: refuses cookie-authenticated requests from another origin.
pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let verdict = check(
        request.method(),
        request.uri(),
        request.headers(),
        state.secure_cookies,
        state.behind_tls_proxy,
    );
    let Err(refusal) = verdict else {
        return next.run(request).await;
    };
    let (parts, _) = request.into_parts();
    let who = Denied::Address(
        ClientAddress::of(&parts, state.behind_tls_proxy)
            .key()
            .unwrap_or_default(),
    );
    let origin = parts
        .headers
        .get(ORIGIN)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .chars()
        .take(200)
        .collect::<String>();
    // The path only: a query string may hold a ticket.
    let detail = format!("{} {} from origin {origin}", parts.method, parts.uri.path());
    tracing::warn!(%detail, "cross-origin request refused");
    let denials = state.denials.clone();
    let now = state.clock.now_ms();
    let audited = state
        .with_directory(move |conn| {
            let entry = AuditEntry::new(now, "cross-origin", Outcome::Denied).detail(detail);
            denials.record(conn, who, entry)
        })
        .await;
    if let Err(err) = audited {
        tracing::error!(cause = %err, "cross-origin refusal not audited");
    }
    refusal.into_response()
}

/// `Ok(())` if the request may go on, else the refusal.
fn check(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    tls: bool,
    behind_tls_proxy: bool,
) -> Result<(), ApiError> {
    let bearer = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    let ticket = uri.path() == "/sync"
        && uri.query().is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.starts_with("ticket=") || pair.starts_with("credential="))
        });
    if bearer || ticket || !has_session_cookie(headers) {
        return Ok(());
    }
    let websocket = headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    match headers.get(ORIGIN).map(|v| v.to_str()) {
        Some(Ok(origin)) => match own_origin(uri, headers, tls, behind_tls_proxy) {
            Some(own) if same_origin(origin, &own) => Ok(()),
            _ => Err(ApiError::Forbidden(
                "cross-origin request refused: the session cookie works only from this site".into(),
            )),
        },
        Some(Err(_)) => Err(ApiError::Forbidden("unreadable Origin header".into())),
        None if (method == Method::GET || method == Method::HEAD) && !websocket => Ok(()),
        None => Err(ApiError::Forbidden(
            "a request signed in by the session cookie must say where it comes from (Origin)"
                .into(),
        )),
    }
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    let prefix = format!("{SESSION_COOKIE}=");
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| pair.trim().starts_with(&prefix))
}

/// `scheme://host[:port]` as this request was addressed.
fn own_origin(uri: &Uri, headers: &HeaderMap, tls: bool, behind_tls_proxy: bool) -> Option<String> {
    let scheme = if tls { "https" } else { "http" };
    let forwarded = behind_tls_proxy
        .then(|| headers.get_all("x-forwarded-host").iter().next_back())
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .map(str::trim);
    let host = forwarded
        .or_else(|| headers.get(HOST).and_then(|v| v.to_str().ok()))
        .or_else(|| uri.authority().map(|a| a.as_str()))?;
    Some(format!("{scheme}://{host}"))
}

/// Whether two origins are the same, ignoring case and default ports.
fn same_origin(a: &str, b: &str) -> bool {
    fn normal(origin: &str) -> String {
        let origin = origin.trim().to_ascii_lowercase();
        origin
            .strip_suffix(":443")
            .filter(|_| origin.starts_with("https://"))
            .or_else(|| {
                origin
                    .strip_suffix(":80")
                    .filter(|_| origin.starts_with("http://"))
            })
            .map_or(origin.clone(), str::to_owned)
    }
    normal(a) == normal(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header"));
        }
        map
    }

    fn verdict(method: Method, path: &str, pairs: &[(&'static str, &str)]) -> bool {
        let uri: Uri = path.parse().expect("uri");
        check(&method, &uri, &headers(pairs), false, false).is_ok()
    }

    const COOKIE_PAIR: (&str, &str) = ("cookie", "doorstep_session=abc");
    const HOST_PAIR: (&str, &str) = ("host", "127.0.0.1:8080");

    #[test]
    fn cookie_requests_need_the_server_s_own_origin() {
        let own = ("origin", "http://127.0.0.1:8080");
        let evil = ("origin", "http://evil.example");
        assert!(verdict(
            Method::POST,
            "/api/sync-ticket",
            &[COOKIE_PAIR, HOST_PAIR, own]
        ));
        assert!(!verdict(
            Method::POST,
            "/api/sync-ticket",
            &[COOKIE_PAIR, HOST_PAIR, evil]
        ));
        assert!(!verdict(
            Method::GET,
            "/api/caseload",
            &[COOKIE_PAIR, HOST_PAIR, evil]
        ));
        assert!(!verdict(
            Method::POST,
            "/api/sync-ticket",
            &[COOKIE_PAIR, HOST_PAIR]
        ));
        assert!(
            verdict(Method::GET, "/api/caseload", &[COOKIE_PAIR, HOST_PAIR]),
            "same-origin GETs carry no Origin"
        );
        let ws = ("upgrade", "websocket");
        assert!(!verdict(
            Method::GET,
            "/sync",
            &[COOKIE_PAIR, HOST_PAIR, ws]
        ));
        assert!(!verdict(
            Method::GET,
            "/sync",
            &[COOKIE_PAIR, HOST_PAIR, ws, evil]
        ));
        assert!(verdict(
            Method::GET,
            "/sync",
            &[COOKIE_PAIR, HOST_PAIR, ws, own]
        ));
        assert!(!verdict(
            Method::DELETE,
            "/api/session",
            &[COOKIE_PAIR, HOST_PAIR, ("origin", "null")]
        ));
    }

    #[test]
    fn bearer_ticket_and_cookieless_requests_are_not_checked() {
        let evil = ("origin", "http://evil.example");
        let bearer = ("authorization", "Bearer abc");
        assert!(verdict(
            Method::POST,
            "/api/sync-ticket",
            &[COOKIE_PAIR, bearer, evil]
        ));
        assert!(verdict(
            Method::GET,
            "/sync?ticket=abc",
            &[COOKIE_PAIR, ("upgrade", "websocket"), evil]
        ));
        assert!(verdict(Method::POST, "/api/session", &[HOST_PAIR, evil]));
    }

    #[test]
    fn origins_compare_without_case_or_default_ports() {
        assert!(same_origin(
            "https://Visits.Example:443",
            "https://visits.example"
        ));
        assert!(same_origin("http://a.example", "http://a.example:80"));
        assert!(!same_origin("http://a.example:443", "http://a.example"));
        assert!(!same_origin("https://a.example", "http://a.example"));
        let proxied = headers(&[
            ("host", "127.0.0.1:8080"),
            ("x-forwarded-host", "visits.example"),
        ]);
        let uri: Uri = "/api/caseload".parse().expect("uri");
        assert_eq!(
            own_origin(&uri, &proxied, true, true).as_deref(),
            Some("https://visits.example")
        );
        assert_eq!(
            own_origin(&uri, &proxied, true, false).as_deref(),
            Some("https://127.0.0.1:8080"),
            "X-Forwarded-Host only counts behind a proxy"
        );
    }
}
