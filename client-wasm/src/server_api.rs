//! Calls to Doorstep's HTTP API (same origin): sign in, refresh, sign out, sync tickets
//! and the caseload listing.
//!
//! Tokens are sent as `Authorization: Bearer` and kept only in the sealed session record;
//! nothing here logs them. A `403` carrying `"wipe": true` means the device was revoked.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use crate::ClientError;
use crate::client_error::describe_js;

/// What `POST /api/session` and `/api/session/refresh` answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Access token (hours).
    pub token: String,
    /// When it expires, ms since the epoch.
    pub token_expires_at: i64,
    /// Refresh token (weeks: workers may be offline for days).
    pub refresh_token: String,
    /// When that expires.
    pub refresh_expires_at: i64,
    /// This device's id at the server.
    pub device_id: String,
    /// Who signed in.
    pub worker: Worker,
}

/// The signed-in worker.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Worker {
    /// Username (visits record it as `workerId`).
    pub username: String,
    /// Name to show.
    pub display_name: String,
    /// `social-worker`, `team-manager` or `admin`.
    pub role: String,
}

/// `GET /api/caseload`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "camelCase")]
pub struct Caseload {
    /// The children, by case reference.
    pub children: Vec<CaseloadChild>,
}

/// One child of [`Caseload`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CaseloadChild {
    /// Case reference.
    pub child_ref: String,
    /// The child document.
    pub child_document_id: Option<String>,
    /// The visit documents the server holds.
    pub visit_document_ids: Vec<String>,
    /// The allocated social worker.
    pub worker: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    #[serde(default)]
    wipe: bool,
}

#[derive(Deserialize)]
struct TicketBody {
    ticket: String,
}

/// How an API call failed.
#[derive(Debug)]
pub enum ApiFailure {
    /// No answer at all (offline, server down).
    Unreachable(String),
    /// `401`: the session is not valid.
    Unauthorized(String),
    /// `403` with `wipe`: the device was revoked.
    Revoked,
    /// Any other error status, with the server's message.
    Refused(u16, String),
}

impl From<ApiFailure> for ClientError {
    fn from(failure: ApiFailure) -> Self {
        match failure {
            ApiFailure::Unreachable(_) => {
                ClientError::Offline("Signing in needs a connection to the server.".into())
            }
            ApiFailure::Unauthorized(message) => ClientError::SignInRefused(message),
            ApiFailure::Revoked => ClientError::DeviceRevoked,
            ApiFailure::Refused(_, message) => ClientError::Server(message),
        }
    }
}

/// A value as a plain JavaScript object.
fn to_js<T: Serialize>(value: &T) -> JsValue {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Parses JSON text with the browser's parser into `T`.
fn parse<T: DeserializeOwned>(text: &str) -> Option<T> {
    let value = js_sys::JSON::parse(text).ok()?;
    serde_wasm_bindgen::from_value(value).ok()
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> Result<T, ApiFailure> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(body) = &body {
        let text = js_sys::JSON::stringify(&to_js(body))
            .map_err(|err| ApiFailure::Unreachable(describe_js(&err)))?;
        init.set_body(&text);
    }
    let request = Request::new_with_str_and_init(path, &init)
        .map_err(|err| ApiFailure::Unreachable(describe_js(&err)))?;
    let headers = request.headers();
    let _ = headers.set("Accept", "application/json");
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unreachable("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|err| ApiFailure::Unreachable(describe_js(&err)))?
        .dyn_into::<Response>()
        .map_err(|err| ApiFailure::Unreachable(describe_js(&err)))?;
    let status = response.status();
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if response.ok() {
        let text = if text.is_empty() { "null" } else { &text };
        return parse(text).ok_or_else(|| {
            ApiFailure::Refused(status, "unexpected answer from the server".into())
        });
    }
    let error: Option<ErrorBody> = parse(&text);
    let message = error
        .as_ref()
        .map(|e| e.error.clone())
        .unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        401 => Err(ApiFailure::Unauthorized(message)),
        403 if error.is_some_and(|e| e.wipe) => Err(ApiFailure::Revoked),
        // A proxy or a stopped server answering for it: treat as not reachable.
        502..=504 => Err(ApiFailure::Unreachable(message)),
        _ => Err(ApiFailure::Refused(status, message)),
    }
}

/// `POST /api/session`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sign_in(
    username: &str,
    password: &str,
    device_id: Option<&str>,
) -> Result<Session, ApiFailure> {
    let body = serde_json::json!({
        "username": username,
        "password": password,
        "deviceId": device_id,
        "deviceLabel": "Doorstep web app",
    });
    call("POST", "/api/session", None, Some(body)).await
}

/// `POST /api/session/refresh`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn refresh(refresh_token: &str) -> Result<Session, ApiFailure> {
    let body = serde_json::json!({ "refreshToken": refresh_token });
    call("POST", "/api/session/refresh", None, Some(body)).await
}

/// `DELETE /api/session`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sign_out(token: &str) -> Result<(), ApiFailure> {
    call::<serde_json::Value>("DELETE", "/api/session", Some(token), None)
        .await
        .map(|_| ())
}

/// `POST /api/sync-ticket`: a single-use ticket for `/sync`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sync_ticket(token: &str) -> Result<String, ApiFailure> {
    call::<TicketBody>("POST", "/api/sync-ticket", Some(token), None)
        .await
        .map(|body| body.ticket)
}

/// `GET /api/caseload`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn caseload(token: &str) -> Result<Caseload, ApiFailure> {
    call("GET", "/api/caseload", Some(token), None).await
}
