//! The one conversion from documents to facts (`from_documents`), and the schedule of a
//! child's documents.

use super::*;

// From documents.

pub(super) fn visit_document(
    visit_id: &str,
    child_id: &str,
    date: &str,
    location: VisitLocation,
    submit: bool,
) -> Visit {
    let mut doc = AutoCommit::new();
    model::create_visit(
        &mut doc,
        &NewVisit {
            visit_id: visit_id.into(),
            child_id: child_id.into(),
            worker_id: "worker-1".into(),
            visit_date: d("2026-01-01"),
            created_at: Timestamp::from_millis(1_767_225_600_000),
        },
    )
    .expect("create visit");
    // Written as text so that drafts with impossible dates can be tested.
    doc.put(ROOT, "visitDate", date).expect("put date");
    model::set_child_seen(&mut doc, true).expect("seen");
    // A visit counts once its kind is recorded too (issue 15).
    model::set_visit_kind(&mut doc, model::VisitKind::Statutory).expect("kind");
    model::set_location(&mut doc, location).expect("location");
    if submit {
        model::set_status(&mut doc, VisitStatus::Submitted).expect("status");
    }
    Visit::read(&doc).expect("read visit")
}

#[test]
pub(super) fn schedule_input_reads_the_documents() {
    let new_child = NewChild {
        child_id: "child-1".into(),
        la_person_id: None,
        legal_name: "Test Child".into(),
        preferred_name: None,
        date_of_birth: d("2014-05-17"),
        sex: None,
        ethnicity: None,
        first_language: None,
        interpreter_needed: None,
        communication_needs: String::new(),
        legal_status: None,
        uasc: None,
        summary: String::new(),
        placement: Some(NewPlacement {
            placement_id: "P1".into(),
            start_date: d("2026-01-05"),
            end_date: None,
            placement_type: "U1".into(),
            provider: None,
            carer_name: None,
            postcode: None,
            statutory_basis: StatutoryBasis::Reg24,
            intended_until_18: false,
            ltf_designated: false,
            child_agreement_date: None,
            care_order_date: None,
            short_breaks_interval: None,
            other_arrangements_interval: None,
            local_interval: Some(Interval::Days(21)),
        }),
        became_looked_after: Some(d("2026-01-05")),
        reviews: vec![NewCaseReview {
            review_id: "R1".into(),
            due_date: Some(d("2026-02-02")),
            held_date: Some(d("2026-01-30")),
        }],
        care_leaver: Some(NewCareLeaver {
            accommodation_from: d("2030-06-01"),
            pathway_reviews: vec![d("2030-07-01")],
        }),
    };
    let mut doc = AutoCommit::new();
    model::create_child(&mut doc, &new_child).expect("create child");
    let child = Child::read(&doc).expect("read child");
    let visits = [
        visit_document(
            "V1",
            "child-1",
            "2026-01-08",
            VisitLocation::Placement,
            true,
        ),
        visit_document("V2", "child-1", "2026-02-03", VisitLocation::Virtual, false),
        visit_document(
            "V3",
            "child-2",
            "2026-01-09",
            VisitLocation::Placement,
            true,
        ),
        visit_document(
            "V4",
            "child-1",
            "2026-02-30",
            VisitLocation::Placement,
            true,
        ),
    ];
    let facts = schedule_input(&child, &visits);
    assert_eq!(
        facts,
        ScheduleInput {
            placements: vec![PlacementFacts {
                placement_id: "P1".into(),
                start: d("2026-01-05"),
                end: None,
                placement_type: "U1".into(),
                basis: StatutoryBasis::Reg24,
                intended_until_18: false,
                ltf_designated: false,
                child_agreement: None,
                care_order_date: None,
                short_breaks_interval: None,
                other_arrangements_interval: None,
                local_interval: Some(Interval::Days(21)),
            }],
            reviews: vec![ReviewFacts {
                due: Some(d("2026-02-02")),
                held: Some(d("2026-01-30")),
            }],
            visits: vec![
                VisitFacts {
                    visit_id: "V1".into(),
                    date: d("2026-01-08"),
                    child_seen: true,
                    location_virtual: false,
                    kind_review_meeting: false,
                    submitted: true,
                    kind_recorded: true,
                    made_by: None,
                    discarded: false,
                },
                VisitFacts {
                    visit_id: "V2".into(),
                    date: d("2026-02-03"),
                    child_seen: true,
                    location_virtual: true,
                    kind_review_meeting: false,
                    submitted: false,
                    kind_recorded: true,
                    made_by: None,
                    discarded: false,
                },
            ],
            requests: vec![],
            care_leaver: Some(CareLeaverFacts {
                accommodation_from: d("2030-06-01"),
                pathway_reviews: vec![d("2030-07-01")],
            }),
            became_looked_after: Some(d("2026-01-05")),
        }
    );
    // Weekly until the review of 30 January: due a week after 8 January,
    // since the video call of 3 February does not count.
    let schedule = child_schedule(&facts, &england(), d("2026-02-03"));
    assert_eq!(
        schedule.next_due.map(|r| (r.rule, r.due)),
        Some((RuleId::V7, d("2026-01-15")))
    );
    assert_eq!(schedule.status, ChildVisitStatus::Overdue);
}
