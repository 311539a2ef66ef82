//! Calls to Doorstep's HTTP API (same origin): sign in, refresh, sign out, sync tickets,
//! the caseload listing, the team dashboard, and a manager's review and decision.
//!
//! Answers the device only passes on to the screens (dashboard, review) stay JSON text:
//! the browser parses them, so no Rust type (and no serde code) exists for them.
//!
//! Tokens are sent as `Authorization: Bearer` and kept only in the sealed session record;
//! nothing here logs them. A `403` carrying `"wipe": true` means the device was revoked.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

use shared::schedule::{Interval, Jurisdiction, RuleId, SchedulePolicy};

use crate::ClientError;
use crate::client_error::describe_js;
use crate::guard::DevicePolicy;
use crate::js::{self, Obj};

/// What `POST /api/session` and `/api/session/refresh` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Worker {
    /// Username (visits record it as `workerId`).
    pub username: String,
    /// Name to show.
    pub display_name: String,
    /// `social-worker`, `team-manager` or `admin`.
    pub role: String,
}

/// `GET /api/caseload`, with the children this device still holds records of that are
/// no longer allocated to the worker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Caseload {
    /// The children, by case reference.
    pub children: Vec<CaseloadChild>,
    /// Children taken off the worker's caseload while this device held records about
    /// them that the server did not have yet (kept so the worker sees what became of each).
    pub former: Vec<CaseloadChild>,
    /// The council's visit-schedule rules (`schedulePolicy`), so the device computes the
    /// timescales the dashboard does.
    pub policy: SchedulePolicy,
    /// Documents the server deleted after their retention (`erased`): the device deletes
    /// its copies. Not kept: the server says it again with every caseload.
    pub erased: Vec<String>,
    /// Records a manager moved or expunged (`corrections`): the device follows. Not kept.
    pub corrections: Vec<CorrectionNotice>,
}

/// One of the caseload's `corrections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectionNotice {
    /// `moved` or `expunged`.
    pub kind: String,
    /// The record corrected (for an expunge, the old document, now gone).
    pub document: String,
    /// For an expunge, the document that replaced it.
    pub replacement: Option<String>,
    /// When it was corrected (server time, ms).
    pub at: i64,
    /// The manager who corrected it.
    pub by_name: String,
}

/// `GET /api/corrections/{id}`: what the device needs to carry its unsent edits of an
/// expunged document over onto the document that replaced it.
#[derive(Debug, Clone)]
pub struct ExpungedDetail {
    /// The new document.
    pub replacement: String,
    /// Every change of the old document the server held (hex hashes).
    pub server_had: Vec<String>,
    /// The new document's bytes.
    pub document: Vec<u8>,
}

/// One child of [`Caseload`].
#[derive(Debug, Clone, PartialEq, Eq)]
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

// The JSON layouts (camelCase, as the server writes them and as the device stores them)
// are read and written by hand: serde's generated code costs more wasm than these.

impl Session {
    /// As a plain object (`token`, `tokenExpiresAt`, … `worker`).
    pub fn to_js(&self) -> JsValue {
        Obj::new()
            .set("token", &self.token)
            .set("tokenExpiresAt", self.token_expires_at)
            .set("refreshToken", &self.refresh_token)
            .set("refreshExpiresAt", self.refresh_expires_at)
            .set("deviceId", &self.device_id)
            .set("worker", self.worker.to_js())
            .done()
    }

    /// From a plain object; `None` if a field is missing or of the wrong type.
    pub fn from_js(value: &JsValue) -> Option<Session> {
        Some(Session {
            token: js::text(value, "token")?,
            token_expires_at: js::number(value, "tokenExpiresAt")? as i64,
            refresh_token: js::text(value, "refreshToken")?,
            refresh_expires_at: js::number(value, "refreshExpiresAt")? as i64,
            device_id: js::text(value, "deviceId")?,
            worker: Worker::from_js(&js::get(value, "worker"))?,
        })
    }
}

impl Worker {
    /// As a plain object (`username`, `displayName`, `role`).
    pub fn to_js(&self) -> JsValue {
        Obj::new()
            .set("username", &self.username)
            .set("displayName", &self.display_name)
            .set("role", &self.role)
            .done()
    }

    fn from_js(value: &JsValue) -> Option<Worker> {
        Some(Worker {
            username: js::text(value, "username")?,
            display_name: js::text(value, "displayName")?,
            role: js::text(value, "role")?,
        })
    }
}

impl Caseload {
    /// As a plain object (`children` and `former`: `childRef`, `childDocumentId`,
    /// `visitDocumentIds`, `worker`; `schedulePolicy`).
    pub fn to_js(&self) -> JsValue {
        let child = |child: &CaseloadChild| {
            Obj::new()
                .set("childRef", &child.child_ref)
                .set("childDocumentId", child.child_document_id.as_ref())
                .set("visitDocumentIds", js::array(&child.visit_document_ids))
                .set("worker", child.worker.as_ref())
        };
        Obj::new()
            .set("children", js::array(self.children.iter().map(child)))
            .set("former", js::array(self.former.iter().map(child)))
            .set("schedulePolicy", policy_to_js(&self.policy))
            .done()
    }

    /// From a plain object; `None` if a child lacks its reference.
    pub fn from_js(value: &JsValue) -> Option<Caseload> {
        let children = |key| {
            js::items(value, key)
                .iter()
                .map(|child| {
                    Some(CaseloadChild {
                        child_ref: js::text(child, "childRef")?,
                        child_document_id: js::text(child, "childDocumentId"),
                        visit_document_ids: js::texts(child, "visitDocumentIds"),
                        worker: js::text(child, "worker"),
                    })
                })
                .collect::<Option<Vec<_>>>()
        };
        Some(Caseload {
            children: children("children")?,
            former: children("former")?,
            policy: policy_from_js(&js::get(value, "schedulePolicy")),
            erased: js::texts(value, "erased"),
            corrections: js::items(value, "corrections")
                .iter()
                .filter_map(|c| {
                    Some(CorrectionNotice {
                        kind: js::text(c, "kind")?,
                        document: js::text(c, "document")?,
                        replacement: js::text(c, "replacement"),
                        at: js::number(c, "at").map_or(0, |ms| ms as i64),
                        by_name: js::text(c, "byName").unwrap_or_default(),
                    })
                })
                .collect(),
        })
    }
}

/// The server's `schedulePolicy` object as a [`SchedulePolicy`]; anything missing or
/// not understood leaves England's statutory default for that part.
pub fn policy_from_js(value: &JsValue) -> SchedulePolicy {
    let jurisdiction = js::text(value, "jurisdiction")
        .and_then(|text| text.parse().ok())
        .unwrap_or(Jurisdiction::England);
    let mut policy = SchedulePolicy::statutory(jurisdiction);
    for pair in js::items(value, "localIntervals") {
        let pair = js_sys::Array::from(&pair);
        let rule = pair
            .get(0)
            .as_string()
            .and_then(|t| t.parse::<RuleId>().ok());
        let interval = pair
            .get(1)
            .as_string()
            .and_then(|t| t.parse::<Interval>().ok());
        if let (Some(rule), Some(interval)) = (rule, interval)
            && let Ok(with) = policy.clone().with_local_interval(rule, interval)
        {
            policy = with;
        }
    }
    let flag = |key, default: bool| js::get(value, key).as_bool().unwrap_or(default);
    let days = |key, default: u32| js::number(value, key).map_or(default, |n| n as u32);
    policy.virtual_visits_count = flag("virtualVisitsCount", policy.virtual_visits_count);
    policy.review_meetings_count = flag("reviewMeetingsCount", policy.review_meetings_count);
    policy.unsubmitted_visits_count =
        flag("unsubmittedVisitsCount", policy.unsubmitted_visits_count);
    policy.due_soon_days = days("dueSoonDays", policy.due_soon_days);
    policy.late_write_up_working_days =
        days("lateWriteUpWorkingDays", policy.late_write_up_working_days);
    policy.temporary_placements_restart_clock = flag(
        "temporaryPlacementsRestartClock",
        policy.temporary_placements_restart_clock,
    );
    policy
}

fn policy_to_js(policy: &SchedulePolicy) -> JsValue {
    let local = policy
        .local_intervals()
        .iter()
        .map(|(rule, interval)| js::array([rule.to_string(), interval.to_string()]));
    Obj::new()
        .set("jurisdiction", policy.jurisdiction().as_str())
        .set("localIntervals", js::array(local))
        .set("virtualVisitsCount", policy.virtual_visits_count)
        .set("reviewMeetingsCount", policy.review_meetings_count)
        .set("unsubmittedVisitsCount", policy.unsubmitted_visits_count)
        .set("dueSoonDays", policy.due_soon_days as usize)
        .set(
            "lateWriteUpWorkingDays",
            policy.late_write_up_working_days as usize,
        )
        .set(
            "temporaryPlacementsRestartClock",
            policy.temporary_placements_restart_clock,
        )
        .done()
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

/// Sends one request and answers the response's text (JSON, as the server wrote it).
/// Not generic, so the request code exists once in the wasm.
async fn call_text(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<JsValue>,
) -> Result<String, ApiFailure> {
    call_text_with(method, path, token, body, &[]).await
}

/// [`call_text`] with extra request headers.
async fn call_text_with(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<JsValue>,
    extra: &[(&str, &str)],
) -> Result<String, ApiFailure> {
    let unreachable = |err: JsValue| ApiFailure::Unreachable(describe_js(&err));
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(web_sys::RequestCredentials::SameOrigin);
    if let Some(body) = &body {
        init.set_body(&js_sys::JSON::stringify(body).map_err(unreachable)?.into());
    }
    let request = Request::new_with_str_and_init(path, &init).map_err(unreachable)?;
    let headers = request.headers();
    let _ = headers.set("Accept", "application/json");
    if body.is_some() {
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    for (name, value) in extra {
        let _ = headers.set(name, value);
    }
    let window = web_sys::window().ok_or_else(|| ApiFailure::Unreachable("no window".into()))?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(unreachable)?
        .dyn_into::<Response>()
        .map_err(unreachable)?;
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
        return Ok(if text.is_empty() { "null".into() } else { text });
    }
    // The body of an error is `{"error": message}`, with `"wipe": true` for a revoked device.
    let error = js_sys::JSON::parse(&text).unwrap_or(JsValue::NULL);
    let message = js::text(&error, "error").unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        401 => Err(ApiFailure::Unauthorized(message)),
        403 if js::get(&error, "wipe").as_bool() == Some(true) => Err(ApiFailure::Revoked),
        // A proxy or a stopped server answering for it: treat as not reachable.
        502..=504 => Err(ApiFailure::Unreachable(message)),
        _ => Err(ApiFailure::Refused(status, message)),
    }
}

/// Sends one request and answers the parsed JSON, read by `read`.
async fn call<T>(
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<JsValue>,
    read: fn(&JsValue) -> Option<T>,
) -> Result<T, ApiFailure> {
    let text = call_text(method, path, token, body).await?;
    js_sys::JSON::parse(&text)
        .ok()
        .and_then(|value| read(&value))
        .ok_or_else(|| ApiFailure::Refused(200, "unexpected answer from the server".into()))
}

/// `POST /api/session`: the session and the council's device policy.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sign_in(
    username: &str,
    password: &str,
    device_id: Option<&str>,
) -> Result<(Session, DevicePolicy), ApiFailure> {
    let body = Obj::new()
        .set("username", username)
        .set("password", password)
        .set("deviceId", device_id)
        .set("deviceLabel", "Doorstep web app")
        .done();
    call("POST", "/api/session", None, Some(body), |value| {
        let session = Session::from_js(value)?;
        Some((
            session,
            crate::guard::policy_from_js(&js::get(value, "devicePolicy")),
        ))
    })
    .await
}

/// `POST /api/session/refresh`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn refresh(refresh_token: &str) -> Result<Session, ApiFailure> {
    let body = Obj::new().set("refreshToken", refresh_token).done();
    call(
        "POST",
        "/api/session/refresh",
        None,
        Some(body),
        Session::from_js,
    )
    .await
}

/// `DELETE /api/session`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sign_out(token: &str) -> Result<(), ApiFailure> {
    call_text("DELETE", "/api/session", Some(token), None)
        .await
        .map(|_| ())
}

/// `DELETE /api/session` for a device that signed out offline: names the session by its
/// refresh token's hex SHA-256 (the device keeps nothing else of it).
///
/// # Errors
/// [`ApiFailure`].
pub async fn sign_out_offline(refresh_token_hash: &str) -> Result<(), ApiFailure> {
    let body = Obj::new()
        .set("refreshTokenHash", refresh_token_hash)
        .done();
    call_text("DELETE", "/api/session", None, Some(body))
        .await
        .map(|_| ())
}

/// `POST /api/sync-ticket`: a single-use ticket for `/sync`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn sync_ticket(token: &str) -> Result<String, ApiFailure> {
    call("POST", "/api/sync-ticket", Some(token), None, |body| {
        js::text(body, "ticket")
    })
    .await
}

/// `GET /api/caseload`, saying how many records this device holds that the server does
/// not have yet (`unsent`).
///
/// # Errors
/// [`ApiFailure`].
pub async fn caseload(token: &str, unsent: usize) -> Result<Caseload, ApiFailure> {
    let unsent = unsent.to_string();
    let text = call_text_with(
        "GET",
        "/api/caseload",
        Some(token),
        None,
        &[("X-Doorstep-Unsent", &unsent)],
    )
    .await?;
    js_sys::JSON::parse(&text)
        .ok()
        .and_then(|value| Caseload::from_js(&value))
        .ok_or_else(|| ApiFailure::Refused(200, "unexpected answer from the server".into()))
}

/// `GET /api/corrections/{id}`.
///
/// # Errors
/// [`ApiFailure`].
pub async fn expunged(token: &str, document_id: &str) -> Result<ExpungedDetail, ApiFailure> {
    let path = format!("/api/corrections/{document_id}");
    let text = call_text("GET", &path, Some(token), None).await?;
    let unexpected = || ApiFailure::Refused(200, "unexpected answer from the server".into());
    let value = js_sys::JSON::parse(&text).map_err(|_| unexpected())?;
    Ok(ExpungedDetail {
        replacement: js::text(&value, "replacement").ok_or_else(unexpected)?,
        server_had: js::texts(&value, "serverHad"),
        document: js::text(&value, "replacementDocument")
            .and_then(|text| base64_decode(&text))
            .ok_or_else(unexpected)?,
    })
}

/// Standard base64 (with padding) to bytes; `None` if it is not base64.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c)? << (18 - 6 * i);
        }
        let produced = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend(n.to_be_bytes()[1..=produced].iter());
    }
    Some(out)
}

/// `POST /api/visits/{id}/move` or `/expunge` (`action`), a manager's correction; the
/// answer as JSON text.
///
/// # Errors
/// [`ApiFailure`].
pub async fn correct(
    token: &str,
    document_id: &str,
    action: &str,
    body: JsValue,
) -> Result<String, ApiFailure> {
    let path = format!("/api/visits/{document_id}/{action}");
    call_text("POST", &path, Some(token), Some(body)).await
}

/// `POST /api/children/{childRef}/break-glass` `{reason}`: read access to a child one
/// cannot otherwise see, for a short time; the answer as JSON text.
///
/// # Errors
/// [`ApiFailure`].
pub async fn break_glass(
    token: &str,
    child_ref: &str,
    body: JsValue,
) -> Result<String, ApiFailure> {
    let path = format!(
        "/api/children/{}/break-glass",
        String::from(js_sys::encode_uri_component(child_ref))
    );
    call_text("POST", &path, Some(token), Some(body)).await
}

/// `GET /api/team/dashboard` (team managers only), as the server's JSON text: the device
/// keeps it sealed as it came and the browser parses it for the screen.
///
/// # Errors
/// [`ApiFailure`].
pub async fn team_dashboard(token: &str) -> Result<String, ApiFailure> {
    call_text("GET", "/api/team/dashboard", Some(token), None).await
}

/// `GET /api/visits/{id}/review`, as JSON text.
///
/// # Errors
/// [`ApiFailure`].
pub async fn visit_review(token: &str, document_id: &str) -> Result<String, ApiFailure> {
    let path = format!("/api/visits/{document_id}/review");
    call_text("GET", &path, Some(token), None).await
}

/// `POST /api/visits/{id}/oversight` with `body` (`decision`, `comment`, `heads`); answers
/// the record's review as JSON text.
///
/// # Errors
/// [`ApiFailure`]; `Refused(409, ..)` when the record changed since those heads.
pub async fn decide(token: &str, document_id: &str, body: JsValue) -> Result<String, ApiFailure> {
    let path = format!("/api/visits/{document_id}/oversight");
    call_text("POST", &path, Some(token), Some(body)).await
}
