//! Tests of correcting a misfiled visit: moving, expunging as a new lineage, and carrying
//! a device's offline edits over onto it without the expunged text.

use std::collections::HashSet;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{Automerge, ObjType, ROOT, ReadDoc};
use proptest::prelude::*;

use super::correction::{
    self, CarryOver, CorrectionKind, CorrectionNote, carry_over, expunged_copy, merge_text,
    move_visit,
};
use super::*;
use crate::sync::Timestamp;

const PASSAGE: &str = "the Smith family at 12 Acacia Road";

fn note(reason: &str) -> CorrectionNote {
    CorrectionNote {
        at: Timestamp::from_millis(1_764_000_000_000),
        by_id: "mgr-north".into(),
        by_name: "Morgan North".into(),
        reason: reason.into(),
    }
}

fn visit_with(observations: &str) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    create_visit(
        &mut tx,
        &NewVisit {
            visit_id: "visit-1".into(),
            child_id: "C-1".into(),
            worker_id: "sw-1".into(),
            visit_date: CalendarDate::parse("2026-11-20").expect("date"),
            created_at: Timestamp::from_millis(1_763_600_000_000),
        },
    )
    .expect("create");
    append_text(&mut tx, TextField::Observations, observations).expect("text");
    let entry = add_voice_entry(&mut tx, "voice-1").expect("voice");
    append_child_words(&mut tx, entry, &format!("I told {PASSAGE} about school.")).expect("words");
    add_person(&mut tx, "person-1", "Jo (foster carer)", "carer").expect("person");
    tx.commit();
    doc
}

fn observations_id(doc: &impl ReadDoc) -> automerge::ObjId {
    doc.get(ROOT, "observations").expect("get").expect("text").1
}

fn bytes_contain(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn all_hashes(doc: &Automerge) -> HashSet<automerge::ChangeHash> {
    doc.get_changes(&[]).iter().map(|c| c.hash()).collect()
}

#[test]
fn a_move_files_the_visit_under_the_other_child_and_notes_it() {
    let mut doc = visit_with("Seen at home.");
    let mut tx = doc.transaction();
    move_visit(&mut tx, "C-2", &note("recorded against the wrong child")).expect("move");
    tx.commit();
    assert_eq!(Visit::read(&doc).expect("visit").child_id, "C-2");
    let noted = correction::corrections(&doc);
    assert_eq!(noted.len(), 1);
    assert_eq!(
        noted[0].kind,
        CorrectionKind::Moved {
            from_child: "C-1".into(),
            to_child: "C-2".into()
        }
    );
    assert_eq!(noted[0].note, note("recorded against the wrong child"));
    let mut tx = doc.transaction();
    assert!(matches!(
        move_visit(&mut tx, "C-2", &note("again")),
        Err(ModelError::AlreadyFiledUnder { ref child_id }) if child_id == "C-2"
    ));
    assert!(matches!(
        move_visit(&mut tx, "C-3", &note(" ")),
        Err(ModelError::EmptyCorrectionReason)
    ));
    tx.rollback();
    let mut not_a_visit = Automerge::new();
    let mut tx = not_a_visit.transaction();
    assert!(matches!(
        move_visit(&mut tx, "C-3", &note("wrong child")),
        Err(ModelError::WrongDocumentType { .. })
    ));
}

#[test]
fn an_expunge_removes_every_occurrence_from_a_new_history_and_keeps_the_rest() {
    let mut doc = visit_with(&format!("Seen at home. Mentioned {PASSAGE}. Bedroom tidy."));
    // A single string inside a list entry, and values of every scalar type.
    let mut tx = doc.transaction();
    let persons = tx
        .get(ROOT, "personsPresent")
        .expect("get")
        .expect("list")
        .1;
    let person = tx.get(&persons, 0).expect("get").expect("entry").1;
    tx.put(&person, "role", format!("carer, not {PASSAGE}"))
        .expect("role");
    let extras = tx.put_object(ROOT, "extras", ObjType::Map).expect("map");
    for (key, value) in scalars() {
        tx.put(&extras, key, value).expect("scalar");
    }
    tx.commit();
    // A conflict: the copy holds the winning value only.
    let mut other = doc.fork();
    let mut tx = other.transaction();
    set_visit_kind(&mut tx, VisitKind::Requested).expect("kind");
    tx.commit();
    let mut tx = doc.transaction();
    set_visit_kind(&mut tx, VisitKind::Other).expect("kind");
    tx.commit();
    doc.merge(&mut other).expect("merge");
    assert_eq!(doc.get_all(ROOT, "visitKind").expect("all").len(), 2);
    let expunged = expunged_copy(
        &doc,
        &[PASSAGE.into()],
        "old-id",
        &note("another family"),
        "",
    )
    .expect("expunge");
    assert_eq!(
        expunged.removed, 3,
        "the observations, the child's words and the carer's role"
    );
    let new = expunged.document;
    let read = Visit::read(&new).expect("visit");
    assert_eq!(read.observations, "Seen at home. Mentioned . Bedroom tidy.");
    assert_eq!(read.voice[0].words, "I told  about school.");
    assert_eq!(read.persons_present.len(), 1);
    assert_eq!(read.persons_present[0].role, "carer, not ");
    assert_eq!(read.visit_id, "visit-1");
    assert_eq!(read.created_at, Visit::read(&doc).expect("old").created_at);
    assert_eq!(
        new.get(ROOT, "observations").expect("get").expect("text").0,
        automerge::Value::Object(ObjType::Text),
        "texts stay texts"
    );
    let extras = new.get(ROOT, "extras").expect("get").expect("map").1;
    for (key, value) in scalars() {
        let copied = new.get(&extras, key).expect("get").expect("copied").0;
        assert_eq!(copied.as_scalar(), Some(&value), "{key}");
    }
    assert_eq!(new.get_all(ROOT, "visitKind").expect("all").len(), 1);
    assert_eq!(
        new.get(ROOT, "visitKind").expect("get").expect("kind").0,
        doc.get(ROOT, "visitKind").expect("get").expect("kind").0,
        "the winner of the conflict"
    );
    assert!(!bytes_contain(&new.save(), "Acacia"));
    let reloaded = Automerge::load(&new.save()).expect("load");
    assert!(!bytes_contain(&reloaded.save(), "Acacia"));
    assert!(
        new.get_changes(&[])
            .iter()
            .all(|c| !all_hashes(&doc).contains(&c.hash())),
        "a new lineage shares no change with the old"
    );
    assert_eq!(
        correction::corrections(&new)[0].kind,
        CorrectionKind::Expunged {
            replaces: "old-id".into()
        }
    );
    // Refusals.
    assert!(matches!(
        expunged_copy(&doc, &["not there".into()], "old", &note("r"), ""),
        Err(ModelError::PassageNotFound(ref passage)) if passage == "not there"
    ));
    for empty in [vec![" ".to_owned()], vec![String::new()], Vec::new()] {
        assert!(matches!(
            expunged_copy(&doc, &empty, "old", &note("r"), ""),
            Err(ModelError::EmptyPassage)
        ));
    }
    assert!(matches!(
        expunged_copy(&doc, &[PASSAGE.into()], "old", &note(""), ""),
        Err(ModelError::EmptyCorrectionReason)
    ));
    assert!(matches!(
        expunged_copy(&Automerge::new(), &[PASSAGE.into()], "old", &note("r"), ""),
        Err(ModelError::WrongDocumentType { .. })
    ));
}

#[test]
fn a_removal_that_joins_a_new_occurrence_removes_that_too() {
    let doc = visit_with("At AcaAcaciacia Road");
    let expunged =
        expunged_copy(&doc, &["Acacia".into()], "old", &note("r"), "m").expect("expunge");
    let read = Visit::read(&expunged.document).expect("visit");
    assert_eq!(read.observations, "At  Road");
    assert_eq!(
        expunged.removed, 3,
        "two in the observations, one in the child's words"
    );
    assert!(!bytes_contain(&expunged.document.save(), "Acacia"));
    let changes = expunged.document.get_changes(&[]);
    assert_eq!(changes.len(), 2, "the state, then the heads and the note");
    for change in changes {
        assert_eq!(change.message(), Some("m"));
        assert_eq!(change.timestamp(), 1_764_000_000);
    }
}

/// A value of each scalar type automerge stores, to check a copy keeps its type.
fn scalars() -> Vec<(&'static str, automerge::ScalarValue)> {
    use automerge::ScalarValue;
    vec![
        ("str", ScalarValue::Str("words".into())),
        ("int", ScalarValue::Int(-3)),
        ("uint", ScalarValue::Uint(7)),
        ("f64", ScalarValue::F64(1.5)),
        ("boolean", ScalarValue::Boolean(true)),
        ("timestamp", ScalarValue::Timestamp(1_764_000_000_000)),
        ("counter", ScalarValue::counter(4)),
        ("null", ScalarValue::Null),
        ("bytes", ScalarValue::Bytes(vec![1, 2, 3])),
    ]
}

#[test]
fn a_signed_off_record_stays_signed_off_on_its_new_lineage() {
    let mut doc = visit_with(&format!("Mentioned {PASSAGE}."));
    let mut tx = doc.transaction();
    set_status(&mut tx, VisitStatus::Submitted).expect("submit");
    tx.commit();
    let entry = OversightEntry {
        entry_id: "decision-1".into(),
        decision: OversightDecision::SignedOff,
        comment: "Good record".into(),
        manager_id: "mgr-north".into(),
        manager_name: "Morgan North".into(),
        heads: doc.get_heads(),
        at: Timestamp::from_millis(1_764_000_000_000),
    };
    record_oversight_by(&mut doc, &entry, 1_764_000_000, None).expect("sign off");
    assert_eq!(review(&doc).expect("review").state, ReviewState::SignedOff);
    let new = expunged_copy(&doc, &[PASSAGE.into()], "old", &note("another family"), "")
        .expect("expunge")
        .document;
    let reviewed = review(&new).expect("the signed version is readable on the new lineage");
    assert_eq!(reviewed.state, ReviewState::SignedOff);
    let pinned = &oversight_entries(&new).expect("entries")[0].heads;
    let signed = visit_at(&new, pinned).expect("the pinned version exists");
    assert_eq!(signed.observations, "Mentioned .");
    // A peer may not touch the corrections.
    let mut after = new.clone();
    let mut tx = after.transaction();
    tx.delete(ROOT, correction::CORRECTIONS_KEY)
        .expect("delete");
    tx.commit();
    assert!(check_peer_change(&new, &after).is_err());
}

/// The issue's scenario: device B holds the passage, goes offline, types around and inside
/// it, adds an action and answers a choice; meanwhile the passage is expunged and another
/// device answers something else. B's work is carried over; the passage is nowhere.
#[test]
fn offline_edits_are_carried_over_without_the_expunged_text() {
    let server = visit_with(&format!("Seen at home. Mentioned {PASSAGE} by mistake."));
    let server_had = all_hashes(&server);
    let mut device = server.fork();
    let mut tx = device.transaction();
    let text = observations_id(&tx);
    let current = tx.text(&text).expect("text");
    // Typed right after the passage, inside it ("Road" to "Rd"), and at the end.
    let edited = current
        .replace("Road", "Rd (unit 5)")
        .replace(" by mistake.", " by mistake. Child was cheerful.");
    tx.update_text(&text, &edited).expect("type");
    add_action(
        &mut tx,
        &NewAction {
            action_id: "action-1".into(),
            description: "Book the dentist".into(),
            owner_type: None,
            owner_name: "Jo".into(),
            due_date: None,
        },
    )
    .expect("action");
    set_visit_kind(&mut tx, VisitKind::Statutory).expect("kind");
    tx.commit();

    // The server expunges; then another device's answer lands on the new lineage.
    let mut new = expunged_copy(
        &server,
        &[PASSAGE.into()],
        "old",
        &note("another family"),
        "",
    )
    .expect("expunge")
    .document;
    let mut tx = new.transaction();
    set_announced(&mut tx, true).expect("announced");
    tx.commit();

    let outcome =
        carry_over(&device, &server_had, &mut new, CommitOptions::default()).expect("carry over");
    assert!(outcome.carried >= 3, "{outcome:?}");
    assert!(outcome.set_aside.is_empty(), "{outcome:?}");
    let read = Visit::read(&new).expect("visit");
    assert_eq!(
        read.observations,
        "Seen at home. Mentioned  (unit 5) by mistake. Child was cheerful."
    );
    assert!(
        read.observations.starts_with("Seen at home. Mentioned"),
        "{}",
        read.observations
    );
    for fragment in ["Acacia", "Smith", "Rd", "Road"] {
        assert!(
            !read.observations.contains(fragment),
            "{fragment}: {}",
            read.observations
        );
    }
    assert_eq!(read.actions.len(), 1);
    assert_eq!(read.visit_kind, Some(VisitKind::Statutory));
    assert_eq!(
        read.announced,
        Some(true),
        "the other device's answer stays"
    );
    for fragment in [PASSAGE, "Acacia"] {
        assert!(!bytes_contain(&new.save(), fragment), "{fragment}");
    }
    // A second carry-over of the same work changes nothing.
    let again = carry_over(
        &device,
        &server_had,
        &mut new.clone(),
        CommitOptions::default(),
    )
    .expect("again");
    assert_eq!(again.set_aside, Vec::new());
}

#[test]
fn a_device_with_nothing_unsent_carries_nothing_and_conflicting_answers_are_set_aside() {
    let server = visit_with("Seen.");
    let server_had = all_hashes(&server);
    let mut new = expunged_copy(&server, &["Seen".into()], "old", &note("r"), "")
        .expect("expunge")
        .document;
    let heads = new.get_heads();
    assert_eq!(
        carry_over(
            &server.fork(),
            &server_had,
            &mut new,
            CommitOptions::default()
        )
        .expect("nothing"),
        CarryOver::default()
    );
    assert_eq!(new.get_heads(), heads, "nothing written");

    let mut device = server.fork();
    let mut tx = device.transaction();
    set_visit_kind(&mut tx, VisitKind::Requested).expect("kind");
    tx.commit();
    let mut tx = new.transaction();
    set_visit_kind(&mut tx, VisitKind::Other).expect("kind");
    tx.commit();
    let outcome =
        carry_over(&device, &server_had, &mut new, CommitOptions::default()).expect("carry");
    assert_eq!(outcome.set_aside.len(), 1, "{outcome:?}");
    assert_eq!(outcome.set_aside[0].path, "visitKind");
    assert_eq!(outcome.set_aside[0].yours, "requested");
    assert_eq!(outcome.set_aside[0].theirs, "other");
    assert_eq!(
        Visit::read(&new).expect("visit").visit_kind,
        Some(VisitKind::Other),
        "the other answer is not overwritten"
    );
}

#[test]
fn a_long_text_merges_quickly_and_a_code_both_sides_changed_is_not_merged_by_character() {
    let base: String = (0..3_000).map(|n| format!("line {n}. ")).collect();
    assert!(base.len() > 30_000);
    let local = base.replacen("line 100.", "line 100 (typed offline).", 1) + "The end.";
    let theirs = base.replacen("line 2000. ", "", 1);
    let merged = merge_text(&base, &local, &theirs).expect("in bounds");
    assert!(merged.merged.contains("(typed offline)") && merged.merged.ends_with("The end."));
    assert!(!merged.merged.contains("line 2000. "));
    assert!(!merged.overlapping);
    let code = merge_text("statutory", "requested", "other").expect("in bounds");
    assert!(code.overlapping, "{code:?}");
}

/// A longest common subsequence by dynamic programming, to check the fast one against.
fn lcs_length(a: &[char], b: &[char]) -> usize {
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        let mut prev = 0;
        for (j, y) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = if x == y {
                prev + 1
            } else {
                row[j + 1].max(row[j])
            };
            prev = keep;
        }
    }
    row[b.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_alignment_is_a_longest_common_subsequence(a in "[abc ]{0,40}", b in "[abc ]{0,40}") {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let pairs = correction::common_subsequence_for_tests(&a, &b).expect("in bounds");
        for window in pairs.windows(2) {
            prop_assert!(window[0].0 < window[1].0 && window[0].1 < window[1].1);
        }
        for &(i, j) in &pairs {
            prop_assert_eq!(a[i], b[j]);
        }
        prop_assert_eq!(pairs.len(), lcs_length(&a, &b));
    }

    #[test]
    fn the_text_merge_keeps_both_sides_typing_and_neither_sides_removals(
        base in proptest::collection::vec(0u32..1000, 0..30),
        local_cuts in proptest::collection::vec(any::<bool>(), 30),
        their_cuts in proptest::collection::vec(any::<bool>(), 30),
        local_typed in "[x-z]{0,5}",
        their_typed in "[u-w]{0,5}",
        at_local in 0usize..31,
        at_theirs in 0usize..31,
    ) {
        // Base characters are unique (from a private range), so each is traceable.
        let base: Vec<char> = {
            let mut seen = HashSet::new();
            base.into_iter()
                .filter(|n| seen.insert(*n))
                .filter_map(|n| char::from_u32(0x4e00 + n))
                .collect()
        };
        let side = |cuts: &[bool], typed: &str, at: usize| -> String {
            let mut kept: Vec<char> = base.iter().zip(cuts).filter(|(_, cut)| !**cut).map(|(c, _)| *c).collect();
            let at = at.min(kept.len());
            for (k, c) in typed.chars().enumerate() {
                kept.insert(at + k, c);
            }
            kept.into_iter().collect()
        };
        let base_text: String = base.iter().collect();
        let local = side(&local_cuts, &local_typed, at_local);
        let theirs = side(&their_cuts, &their_typed, at_theirs);
        let merged = merge_text(&base_text, &local, &theirs).expect("in bounds").merged;
        prop_assert_eq!(merge_text(&base_text, &base_text, &theirs).expect("in bounds").merged, theirs.clone());
        prop_assert_eq!(merge_text(&base_text, &local, &base_text).expect("in bounds").merged, local.clone());
        for (index, c) in base.iter().enumerate() {
            let removed = local_cuts[index] || their_cuts[index];
            prop_assert_eq!(merged.contains(*c), !removed, "{} in {}", c, merged);
        }
        prop_assert!(merged.contains(&local_typed));
        prop_assert!(merged.contains(&their_typed));
    }
}
