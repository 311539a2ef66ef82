//! `seed-demo`: a small, realistic, entirely fictional council so a new user has
//! something to look at.
//!
//! Two teams (North and South), each with a team manager and four social workers, one
//! administrator, a records officer (12 accounts), and 40 children, five per worker, with placements of
//! several kinds (foster care, a children's home, connected persons, placed with a parent,
//! short breaks), started from a few days to two and a half years ago, with their case
//! reviews. Each child's visits follow the statutory schedule (`shared::schedule`) up to a
//! last visit chosen so that, on the day seeded, about half the children are met, a
//! quarter due soon and a quarter overdue; four placements are only days old and have no
//! visit yet. Passwords are random, returned once to be printed, and stored only as
//! argon2id hashes.

use crate::store::sql::Connection;
use automerge::Automerge;
use rand::Rng;
use shared::model::{
    self, BedroomSeen, CalendarDate, NewCaseReview, NewChild, NewPlacement, NewVisit,
    PlacementProvider, StatutoryBasis, TextField, VisitKind, VisitLocation,
};
use shared::schedule::{
    Interval, Jurisdiction, PlacementFacts, ReviewFacts, ScheduleInput, SchedulePolicy, VisitFacts,
    review_due_dates, visit_requirements,
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
/// The database's error.
pub fn has_directory(conn: &Connection) -> crate::store::sql::Result<bool> {
    conn.query_row("SELECT EXISTS (SELECT 1 FROM teams)", [], |r| r.get(0))
}

/// Creates the demo council in an empty directory at `now` (ms), with visits dated before
/// the UK day it falls on.
///
/// # Errors
/// [`AdminError::AlreadyExists`] when the directory already has teams, or a database error.
pub fn seed(conn: &mut Connection, now: i64) -> Result<DemoCouncil, AdminError> {
    let today = shared::model::uk_civil_date(u64::try_from(now).unwrap_or(0));
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
            now,
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
        add_team(conn, team, now)?;
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
    account(conn, "records".into(), Role::RecordsOfficer, None)?;

    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let mut children = 0;
    let mut visits = 0;
    for (worker_index, (team, worker)) in workers.iter().enumerate() {
        for k in 0..CHILDREN_PER_WORKER {
            let n = worker_index * CHILDREN_PER_WORKER + k;
            let DemoChild {
                child,
                visits: visit_dates,
            } = demo_child(n, today, &mut rng);
            insert_child(&tx, team, &child, now)?;
            insert_allocation(&tx, &child.child_id, worker, now)?;
            children += 1;
            let latest = visit_dates.len().saturating_sub(1);
            for (index, date) in visit_dates.into_iter().enumerate() {
                let mut doc = demo_visit(&child.child_id, worker, date, visits, &mut rng)?;
                // Older visits were signed off by the team manager two days later; the
                // latest of each child awaits sign-off, so the dashboard has a queue.
                if index < latest {
                    sign_off_demo_visit(&mut doc, team, date)?;
                }
                let row = child_row(&tx, &child.child_id)?;
                store_document(&tx, new_document_id(), row, "visit", &doc, now)?;
                visits += 1;
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

/// A demo child's document and the days they were visited, oldest first.
struct DemoChild {
    child: NewChild,
    visits: Vec<CalendarDate>,
}

/// Where a demo child's visits should leave them on the day seeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Met,
    DueSoon,
    Overdue,
}

fn demo_child(n: usize, today: CalendarDate, rng: &mut impl Rng) -> DemoChild {
    let days_before = |days: i64| today.add_days(-days).unwrap_or(today);
    let child_ref = format!("DEMO-{:04}", n + 1);
    let age_days: i64 = rng.random_range(2 * 365..17 * 365);
    let kind = n % 8;
    let variant = n % 16;
    let (placement_type, provider, basis, legal_status) = match kind {
        0..=2 => ("U4", PlacementProvider::Pr1, StatutoryBasis::Standard, "C2"),
        3 => ("U1", PlacementProvider::Pr1, StatutoryBasis::Standard, "C2"),
        4 => ("U6", PlacementProvider::Pr4, StatutoryBasis::Reg24, "C2"),
        5 => ("K2", PlacementProvider::Pr4, StatutoryBasis::Standard, "C2"),
        6 if variant == 6 => ("P1", PlacementProvider::Pr0, StatutoryBasis::Reg19, "C1"),
        6 => (
            "P1",
            PlacementProvider::Pr0,
            StatutoryBasis::CareOrderWithParent,
            "C2",
        ),
        _ if variant == 15 => (
            "U3",
            PlacementProvider::Pr1,
            StatutoryBasis::ShortBreaks,
            "V4",
        ),
        _ => ("U3", PlacementProvider::Pr5, StatutoryBasis::Standard, "V2"),
    };
    // Half met, a quarter due soon, a quarter overdue, spread over the kinds.
    let target = match (n + n / 8) % 4 {
        0 | 1 => Target::Met,
        2 => Target::DueSoon,
        _ => Target::Overdue,
    };
    let brand_new = n % 10 == 9;
    let with_parent_or_connected = matches!(
        basis,
        StatutoryBasis::Reg19 | StatutoryBasis::Reg24 | StatutoryBasis::CareOrderWithParent
    );
    let placed_days_ago: i64 = if brand_new && target == Target::Overdue {
        rng.random_range(9..20)
    } else if brand_new {
        rng.random_range(1..7)
    } else if kind == 0 {
        rng.random_range(420..900)
    } else if with_parent_or_connected {
        rng.random_range(30..200)
    } else if n % 5 == 4 {
        rng.random_range(400..700)
    } else {
        rng.random_range(60..330)
    };
    let start = days_before(placed_days_ago);
    let became_looked_after = if with_parent_or_connected || brand_new {
        start
    } else {
        start.add_days(-rng.random_range(0..400)).unwrap_or(start)
    };
    let first = FIRST_NAMES[n % FIRST_NAMES.len()];
    let surname = SURNAMES[(n * 7 + 3) % SURNAMES.len()];
    let child = NewChild {
        child_id: child_ref.clone(),
        la_person_id: Some(format!("P{:06}", 100_000 + n * 37)),
        legal_name: format!("{first} {surname}"),
        preferred_name: (n.is_multiple_of(5)).then(|| first[..3].to_owned()),
        date_of_birth: days_before(age_days),
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
        legal_status: Some(legal_status.into()),
        uasc: Some(false),
        summary: format!(
            "{first} has lived with {} since the placement began. Contact with family is \
             monthly. Check how school is going and whether {first} wants more contact.",
            CARERS[n % CARERS.len()]
        ),
        placement: Some(NewPlacement {
            placement_id: format!("{child_ref}-P1"),
            start_date: start,
            end_date: None,
            placement_type: placement_type.into(),
            provider: Some(provider),
            carer_name: Some(CARERS[n % CARERS.len()].into()),
            postcode: Some(format!("DS{} {}AB", 1 + n % 9, n % 10)),
            statutory_basis: basis,
            intended_until_18: kind == 0,
            ltf_designated: kind == 0,
            // Two long-term foster children agreed to visits every six months.
            child_agreement_date: (kind == 0 && n.is_multiple_of(24))
                .then(|| start.add_days(400))
                .flatten(),
            care_order_date: (basis == StatutoryBasis::CareOrderWithParent).then_some(start),
            // Short breaks monthly, as agreed with the IRO and parents.
            short_breaks_interval: (basis == StatutoryBasis::ShortBreaks)
                .then_some(Interval::Months(1)),
            other_arrangements_interval: None,
            // One children's home visits every four weeks by local practice.
            local_interval: (n == 13).then_some(Interval::Weeks(4)),
        }),
        became_looked_after: Some(became_looked_after),
        reviews: demo_reviews(&child_ref, became_looked_after, today, rng),
        care_leaver: None,
    };
    let visits = if brand_new {
        Vec::new()
    } else {
        demo_visits(&child, today, target, rng)
    };
    DemoChild { child, visits }
}

/// Reviews held on time since the child became looked after, then the next one planned.
fn demo_reviews(
    child_ref: &str,
    became_looked_after: CalendarDate,
    today: CalendarDate,
    rng: &mut impl Rng,
) -> Vec<NewCaseReview> {
    let mut held = Vec::new();
    let mut reviews = Vec::new();
    while reviews.len() < 12 {
        let dues = review_due_dates(became_looked_after, &held, Jurisdiction::England);
        let Some(&due) = dues.last() else {
            break;
        };
        let date = due.add_days(-rng.random_range(0..7)).unwrap_or(due);
        let review_id = format!("{child_ref}-R{}", reviews.len() + 1);
        if date > today {
            reviews.push(NewCaseReview {
                review_id,
                due_date: Some(due),
                held_date: None,
            });
            break;
        }
        held.push(date);
        reviews.push(NewCaseReview {
            review_id,
            due_date: Some(due),
            held_date: Some(date),
        });
    }
    reviews
}

/// Visit days that keep to the schedule up to a last visit chosen so that the next
/// visit is due where `target` wants it (or as near as the rule allows).
fn demo_visits(
    child: &NewChild,
    today: CalendarDate,
    target: Target,
    rng: &mut impl Rng,
) -> Vec<CalendarDate> {
    let policy = SchedulePolicy::statutory(Jurisdiction::England);
    let Some(placement) = &child.placement else {
        return Vec::new();
    };
    let open_due = |visits: &[CalendarDate]| {
        visit_requirements(&schedule_facts(child, visits), &policy, today)
            .into_iter()
            .rev()
            .find(|requirement| requirement.is_open())
            .map_or(today, |requirement| requirement.due)
    };
    let (low, high) = match target {
        Target::Met => (8, 30),
        Target::DueSoon => (1, 6),
        Target::Overdue => (-30, -3),
    };
    let days_from_today = |date: CalendarDate| date.days_since_epoch() - today.days_since_epoch();
    // The last visit: any day whose next deadline lands in the window, else the nearest.
    let mut in_window = Vec::new();
    let mut nearest: Option<(i64, CalendarDate)> = None;
    let mut day = today;
    while day >= placement.start_date && days_from_today(day) > -220 {
        let due = days_from_today(open_due(&[day]));
        let distance = (low - due).max(due - high).max(0);
        if distance == 0 {
            in_window.push(day);
        }
        if nearest.is_none_or(|(best, _)| distance < best) {
            nearest = Some((distance, day));
        }
        let Some(before) = day.add_days(-1) else {
            break;
        };
        day = before;
    }
    let last = if in_window.is_empty() {
        nearest.map(|(_, day)| day)
    } else {
        Some(in_window[rng.random_range(0..in_window.len())])
    };
    let Some(last) = last else {
        return Vec::new();
    };
    // Earlier visits: each a few days before the deadline the one before it set.
    let mut visits: Vec<CalendarDate> = Vec::new();
    while visits.len() < 60 {
        let due = open_due(&visits);
        if due >= last {
            break;
        }
        let earliest = visits
            .last()
            .and_then(|visit| visit.add_days(1))
            .unwrap_or(placement.start_date);
        let next = due
            .add_days(-rng.random_range(0..5))
            .unwrap_or(due)
            .max(earliest);
        if next >= last {
            break;
        }
        visits.push(next);
    }
    visits.push(last);
    visits
}

/// What the schedule engine knows of a demo child visited on `visits`.
fn schedule_facts(child: &NewChild, visits: &[CalendarDate]) -> ScheduleInput {
    ScheduleInput {
        placements: child
            .placement
            .iter()
            .map(|placement| PlacementFacts {
                placement_id: placement.placement_id.clone(),
                start: placement.start_date,
                end: placement.end_date,
                placement_type: placement.placement_type.clone(),
                basis: placement.statutory_basis,
                intended_until_18: placement.intended_until_18,
                ltf_designated: placement.ltf_designated,
                child_agreement: placement.child_agreement_date,
                care_order_date: placement.care_order_date,
                short_breaks_interval: placement.short_breaks_interval,
                other_arrangements_interval: placement.other_arrangements_interval,
                local_interval: placement.local_interval,
            })
            .collect(),
        reviews: child
            .reviews
            .iter()
            .map(|review| ReviewFacts {
                due: review.due_date,
                held: review.held_date,
            })
            .collect(),
        visits: visits
            .iter()
            .enumerate()
            .map(|(index, date)| VisitFacts {
                visit_id: format!("visit-{index}"),
                date: *date,
                child_seen: true,
                location_virtual: false,
                kind_review_meeting: false,
                submitted: true,
                kind_recorded: true,
                made_by: None,
                discarded: false,
            })
            .collect(),
        became_looked_after: child.became_looked_after,
        ..ScheduleInput::default()
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
    model::submit_visit(&mut tx, created_at)?;
    // As a worker's tablet commits it: their name and device, and the time of writing.
    let author = model::ChangeAuthor {
        worker_id: worker.into(),
        device: "demo-seed".into(),
    };
    tx.commit_with(
        automerge::transaction::CommitOptions::default()
            .with_message(author.message())
            .with_time(i64::try_from(created_at.as_millis() / 1000).unwrap_or(0)),
    );
    Ok(doc)
}

/// Records the team manager's sign-off of a demo visit, two days after it.
fn sign_off_demo_visit(
    doc: &mut Automerge,
    team: &str,
    date: CalendarDate,
) -> Result<(), AdminError> {
    let at_days = u64::try_from(date.days_since_epoch() + 2).unwrap_or(0);
    let at = Timestamp::from_millis(at_days * 86_400_000 + 10 * 3_600_000);
    let manager = format!("mgr-{}", team.to_lowercase());
    let entry = model::OversightEntry {
        entry_id: format!(
            "signoff-{}",
            doc.get_heads()
                .first()
                .map(ToString::to_string)
                .unwrap_or_default()
        ),
        decision: model::OversightDecision::SignedOff,
        comment: "Good record; the child's words are clear.".into(),
        manager_name: display_name(&manager),
        manager_id: manager,
        heads: doc.get_heads(),
        at,
    };
    model::record_oversight(doc, &entry, (at.as_millis() / 1000) as i64)?;
    Ok(())
}

#[cfg(test)]
mod tests;
