//! Realistic visit documents for tests and the benchmark, built with `shared::model`.

use automerge::Automerge;
use shared::model::{self, CalendarDate, NewVisit, TextField};
use shared::sync::Timestamp;

/// Sentences a child might say, used to build the child's words edit by edit.
const WORDS: &[&str] = &[
    "I like living here. ",
    "My carer makes pancakes on Saturdays. ",
    "School is ok but maths is hard. ",
    "I miss my brother and I want to see him more. ",
    "I feel safe in my room. ",
    "Sometimes I get worried at night. ",
];

/// A visit document whose child's words (about `words_bytes` long) were typed as many
/// small edits, one automerge change each, like a worker typing on a tablet.
///
/// # Panics
/// Never for valid constants; model errors on a fresh document are bugs and panic in tests.
/// `worker` is the username of the social worker who records it (the server refuses a
/// new visit whose `workerId` is not the worker signed in on the connection).
pub fn visit_with_history(seed: u64, worker: &str, words_bytes: usize) -> Automerge {
    visit_for_child(seed, &format!("child-{}", seed % 40), worker, words_bytes)
}

/// Like [`visit_with_history`], for the child with case reference `child_ref`.
///
/// # Panics
/// Never for valid constants; model errors on a fresh document are bugs and panic in tests.
pub fn visit_for_child(seed: u64, child_ref: &str, worker: &str, words_bytes: usize) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let new_visit = NewVisit {
        visit_id: format!("visit-{seed}"),
        child_id: child_ref.to_owned(),
        worker_id: worker.to_owned(),
        visit_date: CalendarDate::parse("2026-11-20").expect("valid date"),
        created_at: Timestamp::from_millis(1_795_000_000_000 + seed),
    };
    model::create_visit(&mut tx, &new_visit).expect("create visit");
    model::append_text(&mut tx, TextField::Purpose, "Six-weekly statutory visit").expect("purpose");
    model::set_visit_kind(&mut tx, model::VisitKind::Statutory).expect("kind");
    model::set_child_seen(&mut tx, true).expect("seen");
    model::set_seen_alone(&mut tx, true).expect("alone");
    let entry = model::add_voice_entry(&mut tx, &format!("voice-{seed}")).expect("voice entry");
    tx.commit();

    let mut written = 0;
    let mut sentence = seed as usize;
    while written < words_bytes {
        let text = WORDS[sentence % WORDS.len()];
        // Type each sentence in small bursts of a few characters.
        for burst in text.as_bytes().chunks(12) {
            let burst = std::str::from_utf8(burst).unwrap_or(" ");
            let mut tx = doc.transaction();
            model::append_child_words(&mut tx, entry, burst).expect("words");
            tx.commit();
        }
        written += text.len();
        sentence += 1;
    }
    let mut tx = doc.transaction();
    model::append_text(
        &mut tx,
        TextField::Observations,
        "Bedroom warm and personalised.",
    )
    .expect("observations");
    tx.commit();
    doc
}
