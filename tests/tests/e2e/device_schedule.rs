//! The worker's device and the team dashboard agree on every child's timescales.
//!
//! A property test over generated children: every statutory basis, placements that
//! started, ended or will start, temporary placements, intervals agreed in days, weeks
//! or calendar months, reviews held and planned, care leavers, the child's agreement to
//! less frequent visits, care orders, and visits of every kind (in person or by video,
//! seen or not, kind recorded or not, by a social worker or a personal adviser, drafts,
//! submitted, discarded, impossible dates), in England, Wales and Scotland.
//!
//! The device's answer is `shared::schedule::documents_schedule` over the documents
//! (what `Device::caseload` shows); the dashboard's is the server's: the documents stored
//! and projected as the server stores them (`admin::store_document`, which writes the
//! projection rows the live path writes), then `team_dashboard` over the projection.

use automerge::transaction::Transactable;
use automerge::{Automerge, ROOT, ReadDoc};
use proptest::prelude::*;
use server::directory::Connection;
use server::directory::admin;
use server::projection::dashboard::{DashboardFilter, team_dashboard};
use server::sql::params;
use shared::DocumentId;
use shared::model::{
    self, CalendarDate, Child, NewCareLeaver, NewCaseReview, NewChild, NewPlacement, NewVisit,
    StatutoryBasis, VisitKind, VisitLocation, VisitMaker, VisitSummary,
};
use shared::schedule::{Interval, Jurisdiction, SchedulePolicy, documents_schedule};
use shared::sync::Timestamp;

/// Days after 1 January 2024 (the generated dates run over about three years).
fn day(offset: i64) -> CalendarDate {
    CalendarDate::parse("2024-01-01")
        .and_then(|start| start.add_days(offset))
        .expect("a date in range")
}

fn any_date() -> impl Strategy<Value = CalendarDate> {
    (0i64..1100).prop_map(day)
}

fn any_interval() -> impl Strategy<Value = Option<Interval>> {
    prop_oneof![
        2 => Just(None),
        1 => (1u32..60).prop_map(|n| Some(Interval::Days(n))),
        1 => (1u32..10).prop_map(|n| Some(Interval::Weeks(n))),
        1 => (1u32..7).prop_map(|n| Some(Interval::Months(n))),
    ]
}

fn any_basis() -> impl Strategy<Value = StatutoryBasis> {
    prop_oneof![
        Just(StatutoryBasis::Standard),
        Just(StatutoryBasis::Reg19),
        Just(StatutoryBasis::Reg24),
        Just(StatutoryBasis::IcoWithParent),
        Just(StatutoryBasis::CareOrderWithParent),
        Just(StatutoryBasis::OtherLivingArrangements),
        Just(StatutoryBasis::ShortBreaks),
    ]
}

#[derive(Debug, Clone)]
struct GenPlacement {
    start: CalendarDate,
    end: Option<CalendarDate>,
    placement_type: &'static str,
    basis: StatutoryBasis,
    intended_until_18: bool,
    ltf_designated: bool,
    child_agreement: Option<CalendarDate>,
    care_order: Option<CalendarDate>,
    short_breaks: Option<Interval>,
    other_arrangements: Option<Interval>,
    local: Option<Interval>,
    /// Store the start date as text that is not a real date.
    impossible_start: bool,
}

fn any_placement() -> impl Strategy<Value = GenPlacement> {
    (
        (
            any_date(),
            proptest::option::weighted(0.2, any_date()),
            prop_oneof![Just("U1"), Just("U4"), Just("K2"), Just("T1")],
            any_basis(),
            any::<bool>(),
            any::<bool>(),
        ),
        (
            proptest::option::weighted(0.4, any_date()),
            proptest::option::weighted(0.4, any_date()),
            any_interval(),
            any_interval(),
            any_interval(),
            proptest::bool::weighted(0.05),
        ),
    )
        .prop_map(
            |(
                (start, end, placement_type, basis, intended_until_18, ltf_designated),
                (child_agreement, care_order, short_breaks, other_arrangements, local, bad),
            )| GenPlacement {
                start,
                end,
                placement_type,
                basis,
                intended_until_18,
                ltf_designated,
                child_agreement,
                care_order,
                short_breaks,
                other_arrangements,
                local,
                impossible_start: bad,
            },
        )
}

#[derive(Debug, Clone)]
struct GenVisit {
    date: CalendarDate,
    impossible_date: bool,
    child_seen: Option<bool>,
    location: Option<VisitLocation>,
    kind: Option<VisitKind>,
    made_by: Option<VisitMaker>,
    submitted: bool,
    discarded: bool,
}

fn any_visit() -> impl Strategy<Value = GenVisit> {
    (
        any_date(),
        proptest::bool::weighted(0.05),
        prop_oneof![
            6 => Just(Some(true)),
            1 => Just(Some(false)),
            1 => Just(None)
        ],
        prop_oneof![
            Just(None),
            Just(Some(VisitLocation::Placement)),
            Just(Some(VisitLocation::School)),
            Just(Some(VisitLocation::Virtual)),
        ],
        prop_oneof![
            5 => Just(Some(VisitKind::Statutory)),
            1 => Just(Some(VisitKind::Requested)),
            1 => Just(None)
        ],
        prop_oneof![
            2 => Just(None),
            2 => Just(Some(VisitMaker::SocialWorker)),
            1 => Just(Some(VisitMaker::PersonalAdviser))
        ],
        any::<bool>(),
        proptest::bool::weighted(0.1),
    )
        .prop_map(
            |(date, impossible_date, child_seen, location, kind, made_by, submitted, discard)| {
                GenVisit {
                    date,
                    impossible_date,
                    child_seen,
                    location,
                    kind,
                    made_by,
                    submitted,
                    discarded: discard && !submitted,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct GenChild {
    placement: Option<GenPlacement>,
    became_looked_after: Option<CalendarDate>,
    reviews: Vec<(Option<CalendarDate>, Option<CalendarDate>)>,
    care_leaver: Option<(CalendarDate, Vec<CalendarDate>)>,
    visits: Vec<GenVisit>,
    today: CalendarDate,
    jurisdiction: Jurisdiction,
}

fn any_child() -> impl Strategy<Value = GenChild> {
    (
        proptest::option::weighted(0.9, any_placement()),
        proptest::option::weighted(0.5, any_date()),
        proptest::collection::vec(
            (
                proptest::option::of(any_date()),
                proptest::option::of(any_date()),
            ),
            0..3,
        ),
        proptest::option::weighted(
            0.2,
            (any_date(), proptest::collection::vec(any_date(), 0..3)),
        ),
        proptest::collection::vec(any_visit(), 0..8),
        (300i64..1100).prop_map(day),
        prop_oneof![
            4 => Just(Jurisdiction::England),
            1 => Just(Jurisdiction::Wales),
            1 => Just(Jurisdiction::Scotland)
        ],
    )
        .prop_map(
            |(
                placement,
                became_looked_after,
                reviews,
                care_leaver,
                visits,
                today,
                jurisdiction,
            )| {
                GenChild {
                    placement,
                    became_looked_after,
                    reviews,
                    care_leaver,
                    visits,
                    today,
                    jurisdiction,
                }
            },
        )
}

/// The child document, written as the server's import writes it, then with the
/// generated oddities (an impossible start date) written over it as a client might.
fn child_document(child_ref: &str, child: &GenChild) -> Automerge {
    let new_child = NewChild {
        child_id: child_ref.into(),
        la_person_id: None,
        legal_name: format!("Child {child_ref}"),
        preferred_name: None,
        date_of_birth: day(-3000),
        sex: None,
        ethnicity: None,
        first_language: None,
        interpreter_needed: None,
        communication_needs: String::new(),
        legal_status: Some("C2".into()),
        uasc: None,
        summary: String::new(),
        placement: child.placement.as_ref().map(|p| NewPlacement {
            placement_id: format!("{child_ref}-P"),
            start_date: p.start,
            end_date: p.end,
            placement_type: p.placement_type.into(),
            provider: None,
            carer_name: None,
            postcode: None,
            statutory_basis: p.basis,
            intended_until_18: p.intended_until_18,
            ltf_designated: p.ltf_designated,
            child_agreement_date: p.child_agreement,
            care_order_date: p.care_order,
            short_breaks_interval: p.short_breaks,
            other_arrangements_interval: p.other_arrangements,
            local_interval: p.local,
        }),
        became_looked_after: child.became_looked_after,
        reviews: child
            .reviews
            .iter()
            .enumerate()
            .map(|(index, (due, held))| NewCaseReview {
                review_id: format!("R{index}"),
                due_date: *due,
                held_date: *held,
            })
            .collect(),
        care_leaver: child
            .care_leaver
            .as_ref()
            .map(|(from, reviews)| NewCareLeaver {
                accommodation_from: *from,
                pathway_reviews: reviews.clone(),
            }),
    };
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_child(&mut tx, &new_child).expect("create child");
    if child.placement.as_ref().is_some_and(|p| p.impossible_start)
        && let Ok(Some((_, placement))) = tx.get(ROOT, "placement")
    {
        tx.put(&placement, "startDate", "2025-02-30").expect("put");
    }
    tx.commit();
    doc
}

fn visit_document(child_ref: &str, index: usize, visit: &GenVisit) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    model::create_visit(
        &mut tx,
        &NewVisit {
            visit_id: format!("{child_ref}-V{index}"),
            child_id: child_ref.into(),
            worker_id: "sw-1".into(),
            visit_date: visit.date,
            created_at: Timestamp::from_millis(1_700_000_000_000),
        },
    )
    .expect("create visit");
    if visit.impossible_date {
        tx.put(ROOT, "visitDate", "2025-13-01").expect("put");
    }
    if let Some(seen) = visit.child_seen {
        model::set_child_seen(&mut tx, seen).expect("seen");
    }
    if let Some(location) = visit.location {
        model::set_location(&mut tx, location).expect("location");
    }
    if let Some(kind) = visit.kind {
        model::set_visit_kind(&mut tx, kind).expect("kind");
    }
    if let Some(maker) = visit.made_by {
        model::set_made_by(&mut tx, maker).expect("made by");
    }
    if visit.submitted {
        model::submit_visit(&mut tx, Timestamp::from_millis(1_700_000_100_000)).expect("submit");
    }
    if visit.discarded {
        model::discard_visit(
            &mut tx,
            "Started in error",
            "sw-1",
            Timestamp::from_millis(1),
        )
        .expect("discard");
    }
    tx.commit();
    doc
}

fn policy(jurisdiction: Jurisdiction) -> SchedulePolicy {
    SchedulePolicy::statutory(jurisdiction)
}

/// One team per case, holding the one child.
fn store(conn: &mut Connection, case: usize, child: &GenChild) -> (i64, Automerge, Vec<Automerge>) {
    let team =
        admin::add_team(conn, &format!("Team {case}"), tests::council::now_ms()).expect("team");
    let child_ref = format!("C-{case}");
    let child_doc = child_document(&child_ref, child);
    let document = DocumentId::from_bytes(rand::random());
    conn.execute(
        "INSERT INTO children (child_ref, team_id, document_id, created_at) VALUES (?1, ?2, ?3, 0)",
        params![child_ref, team, document.as_bytes().as_slice()],
    )
    .expect("child row");
    let child_row = conn.last_insert_rowid().expect("row id");
    admin::store_document(
        conn,
        document,
        child_row,
        "child",
        &child_doc,
        tests::council::now_ms(),
    )
    .expect("store child");
    let visits: Vec<Automerge> = child
        .visits
        .iter()
        .enumerate()
        .map(|(index, visit)| visit_document(&child_ref, index, visit))
        .collect();
    for visit in &visits {
        let id = DocumentId::from_bytes(rand::random());
        admin::store_document(
            conn,
            id,
            child_row,
            "visit",
            visit,
            tests::council::now_ms(),
        )
        .expect("store visit");
    }
    (team, child_doc, visits)
}

#[test]
fn the_device_and_the_dashboard_agree_on_every_childs_timescales() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conn =
        std::cell::RefCell::new(server::directory::open_connection(dir.path()).expect("database"));
    let case = std::cell::Cell::new(0usize);
    let bases = std::cell::RefCell::new(std::collections::HashSet::new());
    let config = ProptestConfig {
        cases: 384,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(child in any_child())| {
        case.set(case.get() + 1);
        if let Some(placement) = &child.placement {
            bases.borrow_mut().insert(model::Coded::code(placement.basis));
        }
        let mut conn = conn.borrow_mut();
        let (team, child_doc, visits) = store(&mut conn, case.get(), &child);
        let policy = policy(child.jurisdiction);

        let read = Child::read(&child_doc).expect("child reads");
        let summaries: Vec<VisitSummary> = visits
            .iter()
            .map(|visit| VisitSummary::read(visit).expect("visit reads"))
            .collect();
        let device = documents_schedule(&read, &summaries, &policy, child.today);

        let dashboard =
            team_dashboard(&conn, team, child.today, &policy, &DashboardFilter::default())
                .expect("dashboard");
        prop_assert_eq!(dashboard.children.len(), 1);
        let row = &dashboard.children[0];
        let next = device.next_due.as_ref();
        prop_assert_eq!(row.status, device.status.as_str());
        prop_assert_eq!(row.next_due.clone(), next.map(|r| r.due.to_string()));
        prop_assert_eq!(row.rule_id.clone(), next.map(|r| r.rule.to_string()));
        prop_assert_eq!(
            row.last_qualifying_visit.clone(),
            device.last_qualifying_visit.map(|d| d.to_string())
        );
        let reason = next
            .map(|r| r.reason.clone())
            .or_else(|| device.no_schedule_reason.clone())
            .unwrap_or_else(|| "No visit schedule: no current placement recorded".into());
        prop_assert_eq!(&row.reason, &reason);
    });
    let every_basis = [
        "standard",
        "reg19",
        "reg24",
        "icoWithParent",
        "careOrderWithParent",
        "otherLivingArrangements",
        "shortBreaks",
    ];
    for basis in every_basis {
        assert!(
            bases.borrow().contains(basis),
            "no generated child had basis {basis}"
        );
    }
}
