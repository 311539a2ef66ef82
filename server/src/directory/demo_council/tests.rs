//! Tests of the demo council: its promised shape, and a second seed refused.

use super::*;

#[test]
fn demo_children_are_met_due_soon_and_overdue_on_the_day_seeded() {
    use rand::SeedableRng;
    use shared::schedule::{ChildVisitStatus, child_schedule};

    let today = CalendarDate::parse("2026-11-23").expect("date");
    let policy = SchedulePolicy::statutory(Jurisdiction::England);
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut statuses = Vec::new();
    for n in 0..40 {
        let demo = demo_child(n, today, &mut rng);
        let schedule = child_schedule(&schedule_facts(&demo.child, &demo.visits), &policy, today);
        // Every visit before the last kept to the schedule.
        let late = schedule
            .requirements
            .iter()
            .filter(|requirement| requirement.met_on.is_some() && requirement.is_late())
            .count();
        assert_eq!(late, 0, "DEMO-{:04}: {:?}", n + 1, schedule.requirements);
        statuses.push(schedule.status);
    }
    let count = |status| statuses.iter().filter(|found| **found == status).count();
    let counts = [
        count(ChildVisitStatus::Met),
        count(ChildVisitStatus::DueSoon),
        count(ChildVisitStatus::Overdue),
    ];
    assert!(
        counts[0] >= 12 && counts[1] >= 7 && counts[2] >= 7,
        "met, due soon, overdue: {counts:?}"
    );
    assert_eq!(counts.iter().sum::<usize>(), 40, "{statuses:?}");
}

#[test]
fn the_demo_council_has_the_promised_shape_and_refuses_a_second_seed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut conn = super::super::open_connection(dir.path()).expect("open");
    // 23 November 2026, 12:00 UTC.
    let now = CalendarDate::parse("2026-11-23")
        .expect("date")
        .days_since_epoch()
        * 86_400_000
        + 12 * 3_600_000;
    let council = seed(&mut conn, now).expect("seed");
    assert_eq!(council.accounts.len(), 12);
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
        seed(&mut conn, now),
        Err(AdminError::AlreadyExists(_))
    ));
}
