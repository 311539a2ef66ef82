//! The API's handlers driven without a socket: requests go straight into the router with
//! `tower::ServiceExt::oneshot`, against a real directory in a temporary data directory
//! and a fixed [`Clock`], so what a handler stamps can be checked against the clock it
//! was given rather than the machine's.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use shared::PeerId;
use shared::sync::{CoreConfig, SyncCore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use super::{AppState, app};
use crate::clock::Clock;
use crate::directory::admin::{self, NewUser};
use crate::directory::{Role, denial_audit::DenialAudit};
use crate::health::Health;
use crate::store::{ConnectionPool, DocumentStore};

/// 2030-03-17, far from the machine's clock: anything stamped with it came from the
/// injected clock.
const FIXED_MS: i64 = 1_900_000_000_000;
const PASSWORD: &str = "correct horse battery staple";

/// A router over a fresh data directory with a team, a worker and their manager.
struct TestApp {
    router: Router,
    _dir: tempfile::TempDir,
}

fn test_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let clock = Clock::fixed(FIXED_MS);
    let store = DocumentStore::open(dir.path(), clock.clone()).expect("store");
    {
        let mut conn = crate::directory::open_connection(dir.path()).expect("directory");
        admin::add_team(&mut conn, "North", FIXED_MS).expect("team");
        for (username, role) in [("wendy", Role::SocialWorker), ("mark", Role::TeamManager)] {
            let user = NewUser {
                username,
                display_name: username,
                role,
                team: Some("North"),
                password: PASSWORD,
            };
            admin::add_user(&mut conn, &user, FIXED_MS).expect("user");
        }
    }
    let database = store.database().clone();
    let storage_id = store.storage_id().expect("storage id");
    let directory = database.connect().expect("hub's directory connection");
    let policy =
        shared::schedule::SchedulePolicy::statutory(shared::schedule::Jurisdiction::England);
    let core = SyncCore::new(CoreConfig::server(PeerId::new("test-server"), storage_id));
    let metrics = crate::metrics::Metrics::new();
    let (hub, _thread) = crate::hub::spawn_hub(
        core,
        store,
        directory,
        policy.clone(),
        Duration::ZERO,
        clock.clone(),
        metrics.clone(),
    )
    .expect("hub");
    let state = AppState {
        hub,
        directory: Arc::new(ConnectionPool::open(&database, 2).expect("pool")),
        health: Arc::new(Health::new(None)),
        denials: Arc::new(DenialAudit::new(Duration::from_secs(60))),
        behind_tls_proxy: false,
        max_frame_bytes: 1024 * 1024,
        secure_cookies: false,
        shutdown: CancellationToken::new(),
        sockets: TaskTracker::new(),
        web_dir: None,
        schedule_policy: policy,
        device_policy: crate::config::DevicePolicy::default(),
        max_messages_per_sec: 500,
        message_burst: 5_000,
        hashers: Arc::new(
            crate::directory::password_hashers::PasswordHashers::start(1, 16).expect("hashers"),
        ),
        sign_in_wait: Duration::from_secs(10),
        tickets: Arc::new(crate::directory::sync_tickets::SyncTickets::new()),
        metrics,
        clock,
        break_glass_for: Duration::from_secs(2 * 60 * 60),
    };
    TestApp {
        router: app(state),
        _dir: dir,
    }
}

/// Sends one request; returns the status and the JSON body (`Null` if it is not JSON).
async fn call(router: &Router, request: Request<Body>) -> (StatusCode, Value) {
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn get(path: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).expect("request")
}

/// Signs `username` in through `POST /api/session`; returns the session's JSON.
async fn sign_in(router: &Router, username: &str) -> Value {
    let body = serde_json::json!({ "username": username, "password": PASSWORD });
    let request = Request::post("/api/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (status, session) = call(router, request).await;
    assert_eq!(status, StatusCode::CREATED, "{session}");
    session
}

#[tokio::test]
async fn a_request_without_a_session_is_refused_with_a_json_401() {
    let test = test_app();
    for path in [
        "/api/caseload",
        "/api/team/dashboard",
        "/api/visits/x/review",
    ] {
        let (status, body) = call(&test.router, get(path, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(body["error"], "sign in again", "{path}");
    }
    let (status, _) = call(&test.router, get("/api/caseload", Some("not-a-token"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_session_is_stamped_by_the_injected_clock_and_opens_the_caseload() {
    let test = test_app();
    let session = sign_in(&test.router, "wendy").await;
    assert_eq!(
        session["tokenExpiresAt"].as_i64(),
        Some(FIXED_MS + crate::directory::sessions::ACCESS_TTL_MS)
    );
    let token = session["token"].as_str().expect("token");
    let (status, caseload) = call(&test.router, get("/api/caseload", Some(token))).await;
    assert_eq!(status, StatusCode::OK, "{caseload}");
    assert_eq!(caseload["username"], "wendy");
    assert_eq!(caseload["role"], "social-worker");
    assert_eq!(caseload["children"], serde_json::json!([]));
}

#[tokio::test]
async fn only_a_team_manager_sees_the_dashboard_dated_by_the_injected_clock() {
    let test = test_app();
    let worker = sign_in(&test.router, "wendy").await;
    let token = worker["token"].as_str().expect("token");
    let (status, body) = call(&test.router, get("/api/team/dashboard", Some(token))).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        body["error"],
        "only a team manager can see the team dashboard"
    );

    let manager = sign_in(&test.router, "mark").await;
    let token = manager["token"].as_str().expect("token");
    let (status, dashboard) = call(&test.router, get("/api/team/dashboard", Some(token))).await;
    assert_eq!(status, StatusCode::OK, "{dashboard}");
    let today = shared::model::uk_civil_date(FIXED_MS as u64).to_string();
    assert_eq!(dashboard["asOf"], today.as_str());
}

#[tokio::test]
async fn a_visit_nobody_has_and_a_malformed_id_get_the_same_404() {
    let test = test_app();
    let manager = sign_in(&test.router, "mark").await;
    let token = manager["token"].as_str().expect("token");
    let unknown = shared::DocumentId::from_bytes([7; 16]).to_string();
    for id in [unknown.as_str(), "not-an-id"] {
        let path = format!("/api/visits/{id}/review");
        let (status, body) = call(&test.router, get(&path, Some(token))).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{id}");
        assert_eq!(body["error"], "no such record", "{id}");
    }
}

#[tokio::test]
async fn break_glass_asks_for_a_reason_before_anything_about_the_child() {
    let test = test_app();
    let manager = sign_in(&test.router, "mark").await;
    let token = manager["token"].as_str().expect("token");
    let post = |body: Option<&str>| {
        let mut request = Request::post("/api/children/C-NONE/break-glass")
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        request
            .body(body.map_or_else(Body::empty, |text| Body::from(text.to_owned())))
            .expect("request")
    };
    for body in [None, Some("{}"), Some(r#"{"reason":" \n "}"#)] {
        let (status, answer) = call(&test.router, post(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body:?}");
        assert_eq!(
            answer["error"],
            "a reason is required: say why you need to see this child's record"
        );
    }
    let (status, answer) = call(&test.router, post(Some(r#"{"reason":"urgent"}"#))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
    assert_eq!(answer["error"], "no child with reference \"C-NONE\"");
}
