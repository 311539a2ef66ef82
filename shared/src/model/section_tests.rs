//! Tests for the plain-words sections of a visit, who changed each section, and reading
//! a record at earlier heads.
use automerge::{ActorId, Automerge, ChangeHash};

use super::test_fixtures::*;
use super::*;
use crate::sync::Timestamp;

#[test]
fn sections_read_in_plain_words() -> Result<(), ModelError> {
    let doc = submitted_doc();
    let visit = Visit::read(&doc)?;
    let sections = visit_sections(&visit);
    let value = |field: &str| {
        sections
            .iter()
            .find(|section| section.field == field)
            .map(|section| (section.label, section.value.as_str()))
    };
    // 24 since issue 15 added who made the visit (`madeBy`).
    assert_eq!(sections.len(), 24);
    assert_eq!(sections[0].field, "visitDate");
    assert_eq!(
        value("visitDate"),
        Some(("Date of the visit", "1 March 2024"))
    );
    assert_eq!(
        value("purpose").map(|(label, _)| label),
        Some("Purpose of the visit")
    );
    assert_eq!(value("seenAlone"), Some(("Seen alone", "Yes")));
    assert_eq!(value("announced").map(|(_, value)| value), Some("No"));
    assert_eq!(
        value("notAloneReason").map(|(_, value)| value),
        Some("Not answered")
    );
    assert_eq!(
        value("personsPresent").map(|(_, value)| value),
        Some("Sam Carer (foster carer)")
    );
    assert_eq!(
        value("voice"),
        Some((
            "The child's words",
            "\u{201c}I like it here\u{201d}\nParaphrase: Feels settled\nTopics: Home, Feelings\n\
             Scale (How happy are you here?): 8 out of 10\nRead back to the child: Yes"
        ))
    );
    assert_eq!(
        value("createdAt").map(|(_, value)| value),
        Some("1 March 2024 at 10:46 UTC")
    );
    assert_eq!(value("status").map(|(_, value)| value), Some("Submitted"));
    // Every field of the visit has its section, each once.
    let mut fields: Vec<&str> = sections.iter().map(|section| section.field).collect();
    fields.sort_unstable();
    fields.dedup();
    assert_eq!(fields.len(), 24);

    // Status and submission time alone are not differences.
    let mut resubmitted = visit.clone();
    resubmitted.status = Some(VisitStatus::Draft);
    resubmitted.submitted_at = None;
    assert!(differences(&visit, &resubmitted).is_empty());
    let mut rescored = visit.clone();
    rescored.voice[0].scale = Some(3);
    assert_eq!(
        differences(&visit, &rescored)
            .iter()
            .map(|difference| difference.field)
            .collect::<Vec<_>>(),
        ["voice"]
    );
    Ok(())
}

#[test]
fn provenance_names_the_last_actor_and_time_of_each_section() -> Result<(), ModelError> {
    let mut doc = Automerge::new().with_actor(ActorId::from(b"worker-phone"));
    edit_at(&mut doc, 1_000, |tx| create_visit(tx, &new_visit()))?;
    edit_at(&mut doc, 1_100, |tx| complete(tx))?;
    let mut colleague = with_actor(&doc, b"colleague-laptop");
    edit_at(&mut colleague, 2_000, |tx| {
        update_text(tx, TextField::Observations, "Relaxed; showed me the garden")?;
        append_child_words(tx, 0, " and my dog")
    })?;
    doc.merge(&mut colleague)?;
    edit_at(&mut doc, 3_000, |tx| set_seen_alone(tx, false))?;

    let provenance = section_provenance(&doc);
    let of = |field: &str| {
        provenance
            .iter()
            .find(|entry| entry.field == field)
            .map(|entry| (entry.actor.clone(), entry.device_time_s))
    };
    let colleague_actor = ActorId::from(b"colleague-laptop");
    let worker_actor = ActorId::from(b"worker-phone");
    assert_eq!(of("observations"), Some((colleague_actor.clone(), 2_000)));
    assert_eq!(of("voice"), Some((colleague_actor, 2_000)));
    assert_eq!(of("purpose"), Some((worker_actor.clone(), 1_100)));
    assert_eq!(of("seenAlone"), Some((worker_actor.clone(), 3_000)));
    assert_eq!(of("visitId"), Some((worker_actor, 1_000)));
    assert_eq!(of("submittedAt"), None);
    let observations = provenance
        .iter()
        .find(|entry| entry.field == "observations")
        .map(|entry| entry.change);
    assert_eq!(observations, colleague.get_heads().first().copied());

    // Provenance comes in reading order and never names a non-section key.
    let order: Vec<&str> = provenance.iter().map(|entry| entry.field).collect();
    let reading: Vec<&str> = visit_sections(&Visit::read(&doc)?)
        .into_iter()
        .map(|section| section.field)
        .filter(|field| order.contains(field))
        .collect();
    assert_eq!(order, reading);
    assert!(section_provenance(&Automerge::new()).is_empty());
    Ok(())
}

#[test]
fn each_change_belongs_to_the_first_batch_whose_heads_reach_it() -> Result<(), ModelError> {
    let mut doc = Automerge::new().with_actor(ActorId::from(b"worker-phone"));
    edit_at(&mut doc, 1_000, |tx| create_visit(tx, &new_visit()))?;
    edit_at(&mut doc, 1_050, |tx| set_seen_alone(tx, true))?;
    let first = doc.get_heads();
    let first_changes: Vec<ChangeHash> = doc
        .get_changes(&[])
        .iter()
        .map(|change| change.hash())
        .collect();
    // A second device edits concurrently; the server receives both, then their merge.
    let mut tablet = doc.fork().with_actor(ActorId::from(b"worker-tablet"));
    edit_at(&mut doc, 1_100, |tx| complete(tx))?;
    let second = doc.get_heads();
    edit_at(&mut tablet, 1_150, |tx| set_seen_alone(tx, false))?;
    let tablet_change = tablet.get_heads()[0];
    doc.merge(&mut tablet).map_err(ModelError::from)?;
    let third = doc.get_heads();
    let stranger = vec![ChangeHash([7; 32])];
    let batches = [stranger, first, second.clone(), third];
    let batch_of = batch_of_each_change(&doc, &batches);
    assert_eq!(batch_of.len(), 4);
    for change in &first_changes {
        assert_eq!(batch_of.get(change), Some(&1));
    }
    assert_eq!(batch_of.get(&second[0]), Some(&2));
    assert_eq!(batch_of.get(&tablet_change), Some(&3));
    // Without batches nothing is known; with only the last, everything is in it.
    assert!(batch_of_each_change(&doc, &[]).is_empty());
    let all = batch_of_each_change(&doc, &[doc.get_heads()]);
    assert_eq!(all.len(), 4);
    assert!(all.values().all(|batch| *batch == 0));
    Ok(())
}

#[test]
fn reading_at_heads_follows_the_history() -> Result<(), ModelError> {
    let mut doc = draft_doc();
    let draft_heads = doc.get_heads();
    edit(&mut doc, |tx| complete(tx))?;
    assert_eq!(visit_at(&doc, &draft_heads)?, Visit::read(&draft_doc())?);
    assert_eq!(visit_at(&doc, &doc.get_heads())?, Visit::read(&doc)?);
    assert_ne!(doc.get_heads(), draft_heads);
    Ok(())
}

#[test]
fn a_long_history_is_read_whole() -> Result<(), ModelError> {
    // A record typed keystroke by keystroke: one change per character.
    let mut doc = submitted_doc();
    let entry = sign_off(&mut doc, "oversight-1");
    record_amendment(
        &mut doc,
        "More detail",
        "0f9e8d7c-worker",
        "amendment-1",
        Timestamp::from_millis(1_709_500_000_000),
    )?;
    let mut typed = String::from("Placement meeting needs");
    for (second, letter) in (10_000..).zip(" and school is going well".chars().cycle().take(400)) {
        typed.push(letter);
        edit_at(&mut doc, second, |tx| {
            update_text(tx, TextField::Analysis, &typed)
        })?;
    }
    let review = review(&doc)?;
    assert_eq!(review.state, ReviewState::AmendedAfterSignOff);
    assert_eq!(review.signed, Some(entry));
    assert_eq!(review.differences.len(), 1);
    assert_eq!(review.differences[0].current, typed);
    let analysis = section_provenance(&doc)
        .into_iter()
        .find(|provenance| provenance.field == "analysis")
        .map(|provenance| provenance.device_time_s);
    assert_eq!(analysis, Some(10_399));
    assert_eq!(
        batch_of_each_change(&doc, &[doc.get_heads()]).len(),
        doc.get_changes(&[]).len()
    );
    Ok(())
}
