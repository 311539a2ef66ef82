//! Tests for what a worker does to a record beyond typing: concurrent answers that agree
//! (no conflict) or disagree (a conflict naming who chose what, where and when), answers
//! that follow the one they depend on, removing list entries (kept in the `removals`
//! log), discarding a draft, and what stops a record being submitted.

use automerge::transaction::CommitOptions;
use automerge::{ActorId, Automerge, ReadDoc};

use super::test_fixtures::{complete, draft_doc, edit};
use super::*;
use crate::schedule::Interval;
use crate::sync::Timestamp;

/// Two devices holding the same draft (the tablet made it; the phone synced it).
fn two_devices() -> (Automerge, Automerge) {
    let tablet = draft_doc().with_actor(ActorId::from(b"tablet"));
    let phone = tablet.fork().with_actor(ActorId::from(b"phone"));
    (tablet, phone)
}

/// Commits `change` on `doc` as `author` at `time_s`, as the device does.
fn edit_as(
    doc: &mut Automerge,
    author: &ChangeAuthor,
    time_s: i64,
    change: impl FnOnce(&mut automerge::transaction::Transaction<'_>) -> Result<(), ModelError>,
) {
    let mut tx = doc.transaction();
    change(&mut tx).expect("edit");
    tx.commit_with(
        CommitOptions::default()
            .with_message(author.message())
            .with_time(time_s),
    );
}

fn merge(a: &mut Automerge, b: &mut Automerge) {
    a.merge(b).expect("merge");
    b.merge(a).expect("merge");
}

fn author(worker: &str, device: &str) -> ChangeAuthor {
    ChangeAuthor {
        worker_id: worker.into(),
        device: device.into(),
    }
}

#[test]
fn the_same_answer_given_on_two_devices_is_no_conflict() {
    let (mut tablet, mut phone) = two_devices();
    edit(&mut tablet, |tx| set_child_seen(tx, true)).expect("tablet");
    edit(&mut phone, |tx| set_child_seen(tx, true)).expect("phone");
    edit(&mut tablet, |tx| set_welfare_safeguarded(tx, true)).expect("tablet");
    edit(&mut phone, |tx| set_welfare_safeguarded(tx, false)).expect("phone");
    merge(&mut tablet, &mut phone);
    let conflicts = single_value_conflicts(&tablet);
    let fields: Vec<VisitScalarField> = conflicts.iter().map(|c| c.field).collect();
    assert_eq!(fields, [VisitScalarField::WelfareSafeguarded]);
    assert_eq!(conflicts[0].candidates.len(), 2);
}

#[test]
fn each_side_of_a_conflict_names_who_chose_it_on_which_device_and_when() {
    let (mut tablet, mut phone) = two_devices();
    let on_tablet = author("sw-north-1", "device-tablet");
    let on_phone = author("sw-north-1", "device-phone");
    edit_as(&mut tablet, &on_tablet, 1_780_000_000, |tx| {
        set_welfare_safeguarded(tx, true)
    });
    edit_as(&mut phone, &on_phone, 1_780_000_060, |tx| {
        set_welfare_safeguarded(tx, false)
    });
    merge(&mut tablet, &mut phone);
    let conflict = single_value_conflicts(&tablet).remove(0);
    let mut sides: Vec<(String, Option<ChangeAuthor>, i64)> = conflict
        .candidates
        .iter()
        .map(|candidate| {
            let origin = change_origin(&tablet, &candidate.op).expect("an origin");
            (
                candidate.display.clone(),
                origin.author,
                origin.device_time_s,
            )
        })
        .collect();
    sides.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        sides,
        [
            ("No".to_owned(), Some(on_phone), 1_780_000_060),
            ("Yes".to_owned(), Some(on_tablet), 1_780_000_000),
        ]
    );
    assert_eq!(ChangeAuthor::parse("a message from elsewhere"), None);
}

#[test]
fn the_reason_for_not_being_seen_alone_goes_when_seen_alone_becomes_yes() {
    let (mut tablet, mut phone) = two_devices();
    edit(&mut tablet, |tx| {
        set_child_seen(tx, true)?;
        set_seen_alone(tx, true)
    })
    .expect("tablet");
    edit(&mut phone, |tx| {
        set_child_seen(tx, true)?;
        set_seen_alone(tx, false)?;
        set_not_alone_reason(tx, NotAloneReason::Refused)?;
        append_text(tx, TextField::NotAloneDetail, "Wanted the carer there")
    })
    .expect("phone");
    merge(&mut tablet, &mut phone);
    let conflict = single_value_conflicts(&tablet)
        .into_iter()
        .find(|c| c.field == VisitScalarField::SeenAlone)
        .expect("seen alone in conflict");
    let yes = conflict
        .candidates
        .iter()
        .find(|c| c.display == "Yes")
        .expect("yes")
        .value
        .clone();
    edit(&mut tablet, |tx| {
        resolve_conflict(tx, VisitScalarField::SeenAlone, &yes)
    })
    .expect("resolve");
    merge(&mut tablet, &mut phone);
    for doc in [&tablet, &phone] {
        let visit = Visit::read(doc).expect("read");
        assert_eq!(visit.seen_alone, Some(true));
        assert_eq!(visit.not_alone_reason, None);
        assert_eq!(visit.not_alone_detail, "");
        assert_eq!(single_value_conflicts(doc), vec![]);
        let sections = visit_sections(&visit);
        let reason = sections.iter().find(|s| s.field == "notAloneReason");
        assert_eq!(reason.map(|s| s.value.as_str()), Some("Not answered"));
    }
    // The reason is still in the record's history.
    let before = tablet
        .get_changes(&[])
        .iter()
        .map(|change| change.hash())
        .find(|hash| {
            visit_at(&tablet, &[*hash])
                .is_ok_and(|v| v.not_alone_reason == Some(NotAloneReason::Refused))
        });
    assert!(before.is_some(), "an earlier version holds the reason");
}

#[test]
fn a_child_not_seen_was_not_seen_alone_either() {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| {
        set_child_seen(tx, true)?;
        set_seen_alone(tx, false)?;
        set_not_alone_reason(tx, NotAloneReason::Unable)
    })
    .expect("answers");
    edit(&mut doc, |tx| set_child_seen(tx, false)).expect("not seen");
    let visit = Visit::read(&doc).expect("read");
    assert_eq!(
        (visit.seen_alone, visit.not_alone_reason),
        (None, None),
        "the answers that depended on seeing the child went"
    );
}

#[test]
fn an_open_conflict_stops_submission_and_comes_first() {
    let (mut tablet, mut phone) = two_devices();
    edit(&mut tablet, |tx| {
        complete(tx)?;
        set_welfare_safeguarded(tx, true)
    })
    .expect("tablet");
    edit(&mut phone, |tx| set_welfare_safeguarded(tx, false)).expect("phone");
    merge(&mut tablet, &mut phone);
    let problems = submission_problems(&tablet, "2024-03-10").expect("problems");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].field, "welfareSafeguarded");
    assert!(
        problems[0]
            .message
            .contains("Welfare safeguarded by the placement"),
        "{}",
        problems[0].message
    );
}

#[test]
fn a_scale_answer_needs_its_question() {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| {
        complete(tx)?;
        update_item_text(tx, ItemTextField::ScaleQuestion, 0, "")
    })
    .expect("edit");
    let problems = Visit::read(&doc)
        .expect("read")
        .problems_for_submission("2024-03-10");
    assert_eq!(
        problems
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect::<Vec<_>>(),
        [(
            "voice[0].scaleQuestion",
            "Enter the question the scale answered for entry 1 of what the child said"
        )]
    );
}

#[test]
fn removed_entries_leave_the_list_and_are_logged() {
    let mut doc = draft_doc();
    edit(&mut doc, |tx| {
        add_person(tx, "person-1", "Sam Carer", "foster carer")?;
        add_person(tx, "person-2", "Ali", "friend")?;
        let entry = add_voice_entry(tx, "entry-1")?;
        append_child_words(tx, entry, "I said it wrong")?;
        Ok(())
    })
    .expect("lists");
    let by = RemovedBy {
        entry_id: "removal-1",
        worker_id: "sw-north-1",
        at: Timestamp::from_millis(1_780_000_000_000),
    };
    // An index that now names another entry is refused.
    let moved = edit(&mut doc, |tx| {
        remove_list_entry(tx, VisitList::PersonsPresent, 0, Some("person-2"), by)
    });
    assert!(
        matches!(moved, Err(ModelError::EntryMoved { .. })),
        "{moved:?}"
    );
    edit(&mut doc, |tx| {
        remove_list_entry(tx, VisitList::PersonsPresent, 1, Some("person-2"), by)
    })
    .expect("remove person");
    let by = RemovedBy {
        entry_id: "removal-2",
        ..by
    };
    edit(&mut doc, |tx| {
        remove_list_entry(tx, VisitList::Voice, 0, Some("entry-1"), by)
    })
    .expect("remove words");
    let visit = Visit::read(&doc).expect("read");
    assert_eq!(visit.persons_present.len(), 1);
    assert_eq!(visit.persons_present[0].name, "Sam Carer");
    assert!(visit.voice.is_empty());
    let log: Vec<(VisitList, Option<String>, String)> = removals(&doc)
        .expect("removals")
        .into_iter()
        .map(|r| (r.list, r.item_id, r.summary))
        .collect();
    assert_eq!(
        log,
        [
            (
                VisitList::PersonsPresent,
                Some("person-2".into()),
                "Ali (friend)".into()
            ),
            (
                VisitList::Voice,
                Some("entry-1".into()),
                "\u{201c}I said it wrong\u{201d}".into()
            ),
        ]
    );
}

#[test]
fn a_draft_is_discarded_with_a_reason_and_a_submitted_record_is_not() {
    let mut doc = draft_doc();
    let at = Timestamp::from_millis(1_780_000_000_000);
    assert!(matches!(
        edit(&mut doc, |tx| discard_visit(tx, "  ", "sw", at)),
        Err(ModelError::EmptyDiscardReason)
    ));
    edit(&mut doc, |tx| {
        discard_visit(tx, "Started for the wrong child", "sw", at)
    })
    .expect("discard");
    let visit = Visit::read(&doc).expect("read");
    assert_eq!(
        visit.discarded,
        Some(Discard {
            reason: "Started for the wrong child".into(),
            worker_id: "sw".into(),
            at: Some(at),
        })
    );
    assert!(VisitSummary::read(&doc).expect("summary").discarded);
    assert!(
        visit
            .problems_for_submission("2024-03-10")
            .iter()
            .any(|p| p.field == "discarded")
    );

    let mut submitted = draft_doc();
    edit(&mut submitted, |tx| {
        complete(tx)?;
        submit_visit(tx, at)
    })
    .expect("submit");
    assert!(matches!(
        edit(&mut submitted, |tx| discard_visit(tx, "oops", "sw", at)),
        Err(ModelError::NotADraft)
    ));
}

#[test]
fn placement_intervals_are_recorded_in_days_weeks_or_months() -> Result<(), ModelError> {
    let mut doc = Automerge::new();
    let date = |text| CalendarDate::parse(text).expect("date");
    let child = NewChild {
        child_id: "child-1".into(),
        la_person_id: None,
        legal_name: "Test Child".into(),
        preferred_name: None,
        date_of_birth: date("2014-05-17"),
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
            start_date: date("2026-01-31"),
            end_date: None,
            placement_type: "U1".into(),
            provider: None,
            carer_name: None,
            postcode: None,
            statutory_basis: StatutoryBasis::ShortBreaks,
            intended_until_18: false,
            ltf_designated: false,
            child_agreement_date: None,
            care_order_date: None,
            short_breaks_interval: Some(Interval::Months(3)),
            other_arrangements_interval: None,
            local_interval: Some(Interval::Days(20)),
        }),
        became_looked_after: None,
        reviews: Vec::new(),
        care_leaver: None,
    };
    edit(&mut doc, |tx| create_child(tx, &child))?;
    let read = Child::read(&doc)?.placement.expect("placement");
    assert_eq!(read.short_breaks_interval, Some(Interval::Months(3)));
    assert_eq!(read.local_interval, Some(Interval::Days(20)));
    // Days are also written the old way, for readers from before the text keys.
    let placement = match doc.get(automerge::ROOT, "placement")? {
        Some((_, id)) => id,
        None => panic!("placement map"),
    };
    assert!(doc.get(&placement, "localIntervalDays")?.is_some());
    assert!(doc.get(&placement, "shortBreaksIntervalDays")?.is_none());
    // Unreadable text is an error naming the field.
    edit(&mut doc, |tx| {
        Ok(automerge::transaction::Transactable::put(
            tx,
            &placement,
            "shortBreaksInterval",
            "every so often",
        )?)
    })?;
    assert!(matches!(
        Child::read(&doc),
        Err(ModelError::WrongValueType { field, .. }) if field == "placement.shortBreaksInterval"
    ));
    Ok(())
}
