//! Tests for merging concurrent edits from two devices, and reading any content a peer
//! could write without panicking.
use automerge::{ActorId, AutoCommit, Automerge, ROOT};
use proptest::prelude::*;

use super::test_fixtures::*;
use super::*;

#[test]
fn concurrent_edits_merge_and_conflicting_answers_are_reported() -> Result<(), ModelError> {
    let mut tablet = Automerge::new().with_actor(ActorId::from(b"tablet"));
    edit(&mut tablet, |tx| {
        create_visit(tx, &new_visit())?;
        let entry = add_voice_entry(tx, "entry-1")?;
        append_child_words(tx, entry, "I want ")
    })?;
    let mut phone = tablet.fork().with_actor(ActorId::from(b"phone"));

    edit(&mut tablet, |tx| {
        append_child_words(tx, 0, "a dog")?;
        set_seen_alone(tx, true)
    })?;
    edit(&mut phone, |tx| {
        append_child_words(tx, 0, "to see my nan")?;
        set_seen_alone(tx, false)
    })?;
    tablet.merge(&mut phone)?;
    phone.merge(&mut tablet)?;

    assert_eq!(tablet.get_heads(), phone.get_heads());
    let merged = Visit::read(&tablet)?;
    assert_eq!(merged, Visit::read(&phone)?);
    let words = &merged.voice[0].words;
    assert!(words.starts_with("I want "), "{words:?}");
    assert!(
        words.contains("a dog") && words.contains("to see my nan"),
        "{words:?}"
    );
    assert_eq!(
        words.chars().count(),
        "I want a dogto see my nan".chars().count()
    );

    for doc in [&tablet, &phone] {
        let conflicts = single_value_conflicts(doc);
        assert_eq!(conflicts.len(), 1, "{conflicts:?}");
        assert_eq!(conflicts[0].field, VisitScalarField::SeenAlone);
        let mut shown: Vec<&str> = conflicts[0]
            .candidates
            .iter()
            .map(|c| c.display.as_str())
            .collect();
        shown.sort_unstable();
        assert_eq!(shown, ["No", "Yes"]);
    }

    // A person on the phone chooses "No"; once merged the conflict is gone.
    let chosen = single_value_conflicts(&phone)[0]
        .candidates
        .iter()
        .find(|candidate| candidate.display == "No")
        .map(|candidate| candidate.value.clone())
        .expect("No is a candidate");
    edit(&mut phone, |tx| {
        resolve_conflict(tx, VisitScalarField::SeenAlone, &chosen)
    })?;
    tablet.merge(&mut phone)?;
    assert_eq!(single_value_conflicts(&tablet), vec![]);
    assert_eq!(Visit::read(&tablet)?.seen_alone, Some(false));
    Ok(())
}

proptest! {
    // Automerge is slow in debug builds; 64 random documents keep this test quick.
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn reading_any_content_never_panics(values in proptest::collection::vec(any_value(), 24)) {
        let mut doc = AutoCommit::new();
        create_visit(&mut doc, &new_visit()).expect("create");
        let keys = VisitScalarField::ALL.iter().map(|field| field.key()).chain([
            "purpose", "analysis", "personsPresent", "voice", "actions", "a", "b", "c",
        ]);
        for (key, value) in keys.zip(values) {
            put_any(&mut doc, &ROOT, key, value).expect("put");
        }
        if let Ok(visit) = Visit::read(&doc) {
            visit.problems_for_submission(TODAY);
        }
        single_value_conflicts(&doc);
    }
}
