//! A small test council in a data directory, and signing in to a running server.
//!
//! Layout (every password is [`PASSWORD`]):
//! - team "North": social workers `sw-north-1` (children `C-N1`, `C-N2`) and `sw-north-2`
//!   (`C-N3`), manager `mgr-north`; child `C-N4` is unallocated.
//! - team "South": social worker `sw-south-1` (`C-S1`), manager `mgr-south`.
//! - `admin`, an administrator.
//! - with [`add_records_officer`]: `records-1`, a records officer (subject access).

use std::net::SocketAddr;
use std::path::Path;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use server::directory::Role;
use server::directory::admin::{self, NewUser};
use shared::DocumentId;
use shared::model::{CalendarDate, NewChild, NewPlacement, StatutoryBasis};

use crate::test_server::{bearer_request, http_request};

/// The password of every test account.
pub const PASSWORD: &str = "correct horse battery staple";

/// The time an administrator's command made now would stamp (the system clock's, as the
/// command line's entry point reads it).
pub fn now_ms() -> i64 {
    server::clock::Clock::system().now_ms()
}

/// Creates the test council in `data_dir` (before the server starts, or while it runs).
/// Returns each child's reference and child-document id.
///
/// # Errors
/// If the directory cannot be written.
pub fn create(data_dir: &Path) -> anyhow::Result<Vec<(String, DocumentId)>> {
    create_in(&mut server::directory::open_connection(data_dir)?)
}

/// Creates the test council through `conn` (SQLite or PostgreSQL).
///
/// # Errors
/// If the directory cannot be written.
pub fn create_in(
    conn: &mut server::directory::Connection,
) -> anyhow::Result<Vec<(String, DocumentId)>> {
    let conn = &mut *conn;
    let now = now_ms();
    for team in ["North", "South"] {
        admin::add_team(conn, team, now)?;
    }
    let users = [
        ("sw-north-1", Role::SocialWorker, Some("North")),
        ("sw-north-2", Role::SocialWorker, Some("North")),
        ("sw-south-1", Role::SocialWorker, Some("South")),
        ("mgr-north", Role::TeamManager, Some("North")),
        ("mgr-south", Role::TeamManager, Some("South")),
        ("admin", Role::Admin, None),
    ];
    for (username, role, team) in users {
        admin::add_user(
            conn,
            &NewUser {
                username,
                display_name: username,
                role,
                team,
                password: PASSWORD,
            },
            now,
        )?;
    }
    let mut children = Vec::new();
    for (child_ref, team) in [
        ("C-N1", "North"),
        ("C-N2", "North"),
        ("C-N3", "North"),
        ("C-N4", "North"),
        ("C-S1", "South"),
    ] {
        let document = admin::add_child(conn, team, &test_child(child_ref), now)?;
        children.push((child_ref.to_owned(), document));
    }
    for (child_ref, username) in [
        ("C-N1", "sw-north-1"),
        ("C-N2", "sw-north-1"),
        ("C-N3", "sw-north-2"),
        ("C-S1", "sw-south-1"),
    ] {
        admin::allocate(conn, child_ref, username, now)?;
    }
    Ok(children)
}

/// Adds `records-1`, a records officer, to the council in `data_dir`.
pub fn add_records_officer(data_dir: &Path) -> anyhow::Result<()> {
    let mut conn = server::directory::open_connection(data_dir)?;
    admin::add_user(
        &mut conn,
        &NewUser {
            username: "records-1",
            display_name: "Records Officer",
            role: Role::RecordsOfficer,
            team: None,
            password: PASSWORD,
        },
        now_ms(),
    )?;
    Ok(())
}

/// A fictional child with a placement.
pub fn test_child(child_ref: &str) -> NewChild {
    let date = |text| CalendarDate::parse(text).expect("valid date");
    NewChild {
        child_id: child_ref.to_owned(),
        la_person_id: Some(format!("LA-{child_ref}")),
        legal_name: format!("Test Child {child_ref}"),
        preferred_name: None,
        date_of_birth: date("2014-05-17"),
        sex: None,
        ethnicity: None,
        first_language: Some("English".into()),
        interpreter_needed: Some(false),
        communication_needs: String::new(),
        legal_status: Some("C2".into()),
        uasc: Some(false),
        summary: String::new(),
        placement: Some(NewPlacement {
            placement_id: format!("P-{child_ref}"),
            start_date: date("2025-01-10"),
            end_date: None,
            placement_type: "U1".into(),
            provider: None,
            carer_name: Some("Test Carer".into()),
            postcode: None,
            statutory_basis: StatutoryBasis::Standard,
            intended_until_18: true,
            ltf_designated: false,
            child_agreement_date: None,
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: None,
            local_interval: None,
        }),
        became_looked_after: None,
        reviews: Vec::new(),
        care_leaver: None,
    }
}

/// A signed-in session.
#[derive(Debug, Clone)]
pub struct Session {
    /// The server.
    pub addr: SocketAddr,
    /// Access token.
    pub token: String,
    /// Refresh token.
    pub refresh_token: String,
    /// The device the session is bound to.
    pub device_id: String,
    /// Who signed in.
    pub username: String,
}

impl Session {
    /// Signs in (optionally on a known device).
    ///
    /// # Errors
    /// If the server refuses (the error names the HTTP status and message).
    pub async fn login(
        addr: SocketAddr,
        username: &str,
        password: &str,
        device_id: Option<&str>,
    ) -> anyhow::Result<Self> {
        let body = json!({ "username": username, "password": password, "deviceId": device_id, "deviceLabel": "test" });
        let (status, _, body) =
            http_request(addr, "POST", "/api/session", &[], Some(&body)).await?;
        if status != 201 {
            bail!("sign-in refused: {status} {body}");
        }
        let body: Value = serde_json::from_str(&body)?;
        let text = |key: &str| -> anyhow::Result<String> {
            Ok(body[key].as_str().context("session field")?.to_owned())
        };
        Ok(Self {
            addr,
            token: text("token")?,
            refresh_token: text("refreshToken")?,
            device_id: text("deviceId")?,
            username: username.to_owned(),
        })
    }

    /// A native device signed in with this session, connected to `/sync` with a fresh
    /// ticket.
    ///
    /// # Errors
    /// If a ticket is refused or the connection fails.
    pub async fn device(&self, name: &str) -> anyhow::Result<crate::NativeClient> {
        let client = crate::NativeClient::new(name);
        client.connect(&self.sync_url().await?).await?;
        Ok(client)
    }

    /// An HTTP request to this session's server with its access token (`status, headers,
    /// body`).
    ///
    /// # Errors
    /// If the connection fails or the response is not HTTP.
    pub async fn request(
        &self,
        method: &str,
        path: &str,
        json: Option<&Value>,
    ) -> anyhow::Result<(u16, Vec<(String, String)>, String)> {
        bearer_request(self.addr, method, path, &self.token, json).await
    }

    /// A `/sync` URL carrying a fresh single-use ticket.
    ///
    /// # Errors
    /// If the server refuses a ticket.
    pub async fn sync_url(&self) -> anyhow::Result<String> {
        let (status, _, body) = self.request("POST", "/api/sync-ticket", None).await?;
        if status != 200 {
            bail!("sync ticket refused: {status} {body}");
        }
        let body: Value = serde_json::from_str(&body)?;
        let ticket = body["ticket"].as_str().context("ticket")?;
        Ok(format!("ws://{}/sync?ticket={ticket}", self.addr))
    }
}
