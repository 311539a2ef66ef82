//! The web app: the PWA's static files (built by `scripts/build-web.sh`) served at `/`.
//!
//! Every file is sent with `Cache-Control: no-cache`: the browser revalidates with the
//! server whenever it is online, and the service worker (`sw.js`) is what keeps the app
//! working offline. Without a web directory, `/` explains how to build one.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::AppState;

/// Adds the web app (or the "not installed" answer) as the router's fallback.
pub(super) fn add_to(router: Router<AppState>, web_dir: Option<&Path>) -> Router<AppState> {
    match web_dir {
        Some(dir) => router.fallback_service(
            tower::ServiceBuilder::new()
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-cache"),
                ))
                .service(ServeDir::new(dir).append_index_html_on_directories(true)),
        ),
        None => router.fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "Not found. This server runs without the web app: build it with \
                 scripts/build-web.sh and start the server with --web-dir target/web.\n",
            )
        }),
    }
}
