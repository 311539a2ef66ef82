//! `seed-demo`: a small, realistic, entirely fictional council so a new user has
//! something to look at.
//!
//! Two teams (North and South), each with a team manager and four social workers, one
//! administrator (11 accounts), 40 children with placements of several kinds, five per
//! worker, and one to three past visits per child. About a quarter of the children were
//! last visited more than six weeks ago, so they show as overdue. Passwords are random,
//! returned once to be printed, and stored only as argon2id hashes.

use automerge::Automerge;
use rand::Rng;
use rusqlite::Connection;
use shared::model::{
    self, BedroomSeen, CalendarDate, NewChild, NewPlacement, NewVisit, PlacementProvider,
    StatutoryBasis, TextField, VisitKind, VisitLocation, VisitStatus,
};
use shared::sync::Timestamp;

use super::Role;
use super::admin::{
    AdminError, NewUser, add_team, add_user, child_row, insert_allocation, insert_child,
    new_document_id, store_document,
};

/// A demo account and its one-time password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoAccount {
    /// Sign-in name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Team, if any.
    pub team: Option<String>,
    /// The password, shown once.
    pub password: String,
}

/// What was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCouncil {
    /// Every account with its password.
    pub accounts: Vec<DemoAccount>,
    /// How many children.
    pub children: usize,
    /// How many past visits.
    pub visits: usize,
}

const TEAMS: [&str; 2] = ["North", "South"];
const WORKERS_PER_TEAM: usize = 4;
const CHILDREN_PER_WORKER: usize = 5;

const FIRST_NAMES: &[&str] = &[
    "Amara", "Ben", "Chloe", "Dylan", "Ella", "Finn", "Grace", "Harvey", "Isla", "Jayden", "Kacey",
    "Leo", "Maya", "Noah", "Olivia", "Priya", "Quinn", "Riley", "Sofia", "Tyler",
];
const SURNAMES: &[&str] = &[
    "Adeyemi", "Brennan", "Clarke", "Dobson", "Evans", "Fraser", "Gill", "Hughes", "Iqbal",
    "Jones", "Kowalski", "Lewis", "Murphy", "Nowak", "Okafor", "Patel", "Quinlan", "Rahman",
    "Smith", "Taylor",
];
const CARERS: &[&str] = &[
    "Mr and Mrs Ahmed",
    "Ms Carter",
    "Oakwood House",
    "Mr and Mr Doyle",
    "Mrs Lin (aunt)",
    "Riverside Children's Home",
    "Ms Osei",
    "Mum (placed with parent)",
];
const CHILD_WORDS: &[&str] = &[
    "I like it here. My carer lets me help make tea on Fridays.",
    "School is alright. I want to do more football.",
    "I miss my brother. Can I see him more than once a month?",
    "My room is nice now I've got my posters up.",
    "I don't like it when the other kids are loud at night.",
    "I want to stay here until I'm big.",
];

/// Whether the directory already has teams (so a demo council would clash).
///
/// # Errors
/// The SQLite error.
pub fn has_directory(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM teams)", [], |r| r.get(0))
}

/// Creates the demo council in an empty directory, with visits dated before `today`.
///
/// # Errors
/// [`AdminError::AlreadyExists`] when the directory already has teams, or a database error.
pub fn seed(conn: &mut Connection, today: CalendarDate) -> Result<DemoCouncil, AdminError> {
    if has_directory(conn)? {
        return Err(AdminError::AlreadyExists(
            "a directory (teams are already set up)".into(),
        ));
    }
    let mut rng = rand::rng();
    let mut accounts = Vec::new();
    let mut account = |conn: &mut Connection,
                       username: String,
                       role: Role,
                       team: Option<&str>|
     -> Result<String, AdminError> {
        let password = random_password(&mut rand::rng());
        add_user(
            conn,
            &NewUser {
                username: &username,
                display_name: &display_name(&username),
                role,
                team,
                password: &password,
            },
        )?;
        accounts.push(DemoAccount {
            username: username.clone(),
            role,
            team: team.map(str::to_owned),
            password,
        });
        Ok(username)
    };
    let mut workers = Vec::new();
    for team in TEAMS {
        add_team(conn, team)?;
        let lower = team.to_ascii_lowercase();
        account(conn, format!("mgr-{lower}"), Role::TeamManager, Some(team))?;
        for n in 1..=WORKERS_PER_TEAM {
            let username = account(
                conn,
                format!("sw-{lower}-{n}"),
                Role::SocialWorker,
                Some(team),
            )?;
            workers.push((team, username));
        }
    }
    account(conn, "admin".into(), Role::Admin, None)?;

    let tx = conn.transaction()?;
    let mut children = 0;
    let mut visits = 0;
    for (worker_index, (team, worker)) in workers.iter().enumerate() {
        for k in 0..CHILDREN_PER_WORKER {
            let n = worker_index * CHILDREN_PER_WORKER + k;
            let child = demo_child(n, today, &mut rng);
            insert_child(&tx, team, &child)?;
            insert_allocation(&tx, &child.child_id, worker)?;
            children += 1;
            // Every fourth child was last seen seven to eleven weeks ago: overdue.
            let overdue = n % 4 == 3;
            let mut days_ago: i64 = if overdue {
                rng.random_range(49..78)
            } else {
                rng.random_range(3..35)
            };
            for _ in 0..=(n % 3) {
                let date = today.add_days(-days_ago).unwrap_or(today);
                let doc = demo_visit(&child.child_id, worker, date, visits, &mut rng)?;
                let row = child_row(&tx, &child.child_id)?;
                store_document(&tx, new_document_id(), row, "visit", &doc)?;
                visits += 1;
                days_ago += rng.random_range(35..43);
            }
        }
    }
    tx.commit()?;
    Ok(DemoCouncil {
        accounts,
        children,
        visits,
    })
}

fn display_name(username: &str) -> String {
    match username.split('-').collect::<Vec<_>>().as_slice() {
        ["mgr", team] => format!("Team manager, {team}"),
        ["sw", team, n] => format!("Social worker {n}, {team}"),
        _ => "Administrator".into(),
    }
}

fn random_password(rng: &mut impl Rng) -> String {
    // 16 characters from an alphabet without look-alikes: about 90 bits.
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

fn demo_child(n: usize, today: CalendarDate, rng: &mut impl Rng) -> NewChild {
    let child_ref = format!("DEMO-{:04}", n + 1);
    let age_days: i64 = rng.random_range(2 * 365..17 * 365);
    let placed_days_ago: i64 = rng.random_range(20..900);
    let kind = n % 8;
    let (placement_type, provider, basis) = match kind {
        0..=2 => ("U4", Some(PlacementProvider::Pr1), StatutoryBasis::Standard),
        3 => ("U1", Some(PlacementProvider::Pr1), StatutoryBasis::Standard),
        4 => ("U6", Some(PlacementProvider::Pr4), StatutoryBasis::Reg24),
        5 => ("K2", Some(PlacementProvider::Pr4), StatutoryBasis::Standard),
        6 => (
            "P1",
            Some(PlacementProvider::Pr0),
            StatutoryBasis::CareOrderWithParent,
        ),
        _ => ("U3", Some(PlacementProvider::Pr5), StatutoryBasis::Standard),
    };
    let first = FIRST_NAMES[n % FIRST_NAMES.len()];
    let surname = SURNAMES[(n * 7 + 3) % SURNAMES.len()];
    NewChild {
        child_id: child_ref.clone(),
        la_person_id: Some(format!("P{:06}", 100_000 + n * 37)),
        legal_name: format!("{first} {surname}"),
        preferred_name: (n.is_multiple_of(5)).then(|| first[..3].to_owned()),
        date_of_birth: today.add_days(-age_days).unwrap_or(today),
        sex: Some(if n.is_multiple_of(2) { "2" } else { "1" }.into()),
        ethnicity: None,
        first_language: Some(
            if n.is_multiple_of(9) {
                "Polish"
            } else {
                "English"
            }
            .into(),
        ),
        interpreter_needed: Some(false),
        communication_needs: if n.is_multiple_of(6) {
            "Prefers to talk while drawing or walking; give time to answer.".into()
        } else {
            String::new()
        },
        legal_status: Some(if kind == 7 { "V2" } else { "C2" }.into()),
        uasc: Some(false),
        summary: format!(
            "{first} has lived with {} since the placement began. Contact with family is \
             monthly. Check how school is going and whether {first} wants more contact.",
            CARERS[n % CARERS.len()]
        ),
        placement: Some(NewPlacement {
            placement_id: format!("{child_ref}-P1"),
            start_date: today.add_days(-placed_days_ago).unwrap_or(today),
            end_date: None,
            placement_type: placement_type.into(),
            provider,
            carer_name: Some(CARERS[n % CARERS.len()].into()),
            postcode: Some(format!("DS{} {}AB", 1 + n % 9, n % 10)),
            statutory_basis: basis,
            intended_until_18: kind == 0,
            ltf_designated: kind == 0 && placed_days_ago > 365,
        }),
    }
}

fn demo_visit(
    child_ref: &str,
    worker: &str,
    date: CalendarDate,
    serial: usize,
    rng: &mut impl Rng,
) -> Result<Automerge, AdminError> {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let created_at = Timestamp::from_millis(
        u64::try_from(date.days_since_epoch()).unwrap_or(0) * 86_400_000 + 15 * 3_600_000,
    );
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: format!("{child_ref}-V{serial}"),
            child_id: child_ref.into(),
            worker_id: worker.into(),
            visit_date: date,
            created_at,
        },
    )?;
    model::set_visit_kind(&mut tx, VisitKind::Statutory)?;
    model::set_location(&mut tx, VisitLocation::Placement)?;
    model::set_announced(&mut tx, true)?;
    model::append_text(&mut tx, TextField::Purpose, "Statutory visit")?;
    model::set_child_seen(&mut tx, true)?;
    model::set_seen_alone(&mut tx, true)?;
    model::set_bedroom_seen(&mut tx, BedroomSeen::Yes)?;
    model::append_text(
        &mut tx,
        TextField::Observations,
        "Warm welcome from the carer. Bedroom clean and personalised.",
    )?;
    let entry = model::add_voice_entry(&mut tx, &format!("{child_ref}-V{serial}-W1"))?;
    let words = CHILD_WORDS[rng.random_range(0..CHILD_WORDS.len())];
    model::append_child_words(&mut tx, entry, words)?;
    model::append_text(
        &mut tx,
        TextField::Analysis,
        "Settled and well cared for; wishes about family time to go to the review.",
    )?;
    model::set_welfare_safeguarded(&mut tx, true)?;
    model::set_status(&mut tx, VisitStatus::Submitted)?;
    tx.commit();
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_council_has_the_promised_shape_and_refuses_a_second_seed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = super::super::open_connection(dir.path()).expect("open");
        let today = CalendarDate::parse("2026-11-23").expect("date");
        let council = seed(&mut conn, today).expect("seed");
        assert_eq!(council.accounts.len(), 11);
        assert_eq!(council.children, 40);
        assert!(council.visits >= 40);
        let allocated: i64 = conn
            .query_row(
                "SELECT count(*) FROM allocations WHERE ended_at IS NULL",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(allocated, 40);
        assert!(matches!(
            seed(&mut conn, today),
            Err(AdminError::AlreadyExists(_))
        ));
    }
}
