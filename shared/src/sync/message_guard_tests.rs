//! Tests of [`check_sync_message`]: every honest message automerge writes passes; each
//! hostile one that would hurt automerge (or slip past it) is refused with its reason.

use std::io::Write;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjType, ROOT};

use super::{GuardError, SyncLimits, check_sync_message};

fn uleb(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn sleb(out: &mut Vec<u8>, mut value: i64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0);
        out.push(if done { byte } else { byte | 0x80 });
        if done {
            return;
        }
    }
}

/// A sync message with the given `have` bloom filter bytes and change chunks.
fn message(bloom: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x42];
    uleb(&mut out, 0); // heads
    uleb(&mut out, 0); // need
    uleb(&mut out, 1); // one have
    uleb(&mut out, 0); // lastSync
    uleb(&mut out, bloom.len() as u64);
    out.extend(bloom);
    uleb(&mut out, chunks.len() as u64);
    for chunk in chunks {
        uleb(&mut out, chunk.len() as u64);
        out.extend(chunk);
    }
    out
}

fn bloom(entries: u64, bits_per_entry: u64, probes: u64, bits: usize) -> Vec<u8> {
    let mut out = Vec::new();
    uleb(&mut out, entries);
    uleb(&mut out, bits_per_entry);
    uleb(&mut out, probes);
    out.extend(vec![0xff; bits]);
    out
}

/// A chunk with automerge's header around `body` (the checksum is not the guard's job).
fn chunk(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, kind];
    uleb(&mut out, body.len() as u64);
    out.extend(body);
    out
}

/// A change body whose only column is an integer column holding `data`.
fn change_body(column_spec: u64, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    uleb(&mut out, 0); // no dependencies
    uleb(&mut out, 16);
    out.extend([7u8; 16]); // actor
    uleb(&mut out, 1); // seq
    uleb(&mut out, 1); // start op
    sleb(&mut out, 0); // time
    uleb(&mut out, 0); // message
    uleb(&mut out, 0); // other actors
    uleb(&mut out, 1); // one column
    uleb(&mut out, column_spec);
    uleb(&mut out, data.len() as u64);
    out.extend(data);
    out
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data).expect("deflate");
    encoder.finish().expect("deflate")
}

fn typed_visit(bursts: usize) -> Automerge {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let text = tx
        .put_object(ROOT, "observations", ObjType::Text)
        .expect("text");
    tx.commit();
    for burst in 0..bursts {
        let mut tx = doc.transaction();
        tx.splice_text(&text, 0, 0, &format!("burst {burst} of what I saw. "))
            .expect("splice");
        tx.commit();
    }
    doc
}

/// Every message two automerge peers exchange while syncing `doc` to an empty peer.
fn honest_messages(doc: &Automerge) -> Vec<Vec<u8>> {
    let mut other = Automerge::new();
    let (mut ours, mut theirs) = (sync::State::new(), sync::State::new());
    let mut sent = Vec::new();
    for _ in 0..10 {
        let mut moved = false;
        if let Some(message) = doc.generate_sync_message(&mut ours) {
            let bytes = message.encode();
            sent.push(bytes.clone());
            other
                .receive_sync_message(&mut theirs, sync::Message::decode(&bytes).expect("decode"))
                .expect("receive");
            moved = true;
        }
        if let Some(message) = other.generate_sync_message(&mut theirs) {
            let bytes = message.encode();
            sent.push(bytes.clone());
            let mut doc = doc.clone();
            doc.receive_sync_message(&mut ours, sync::Message::decode(&bytes).expect("decode"))
                .expect("receive");
            moved = true;
        }
        if !moved {
            break;
        }
    }
    assert_eq!(other.get_heads(), doc.get_heads(), "the peers synced");
    sent
}

#[test]
fn every_message_of_an_honest_sync_passes() {
    let limits = SyncLimits::default();
    for doc in [Automerge::new(), typed_visit(1), typed_visit(300)] {
        for bytes in honest_messages(&doc) {
            check_sync_message(&bytes, &limits).expect("an honest message passes");
        }
    }
    // A whole document in one message (automerge's V2, sent to peers that lack most of
    // it), whose columns are deflated.
    let doc = typed_visit(300);
    let mut whole = sync::Message::decode(&honest_messages(&Automerge::new())[0]).expect("decode");
    whole.changes = doc.save().into();
    whole.version = sync::MessageVersion::V2;
    check_sync_message(&whole.encode(), &limits).expect("a whole document passes");
    // Each change alone, and compressed as automerge compresses large changes.
    let mut v1 = sync::Message::decode(&honest_messages(&Automerge::new())[0]).expect("decode");
    v1.changes = doc
        .get_changes(&[])
        .iter()
        .map(|change| change.raw_bytes().to_vec())
        .collect::<Vec<_>>()
        .into();
    check_sync_message(&v1.clone().encode(), &limits).expect("raw changes pass");
    let mut big = Automerge::new();
    let mut tx = big.transaction();
    tx.put(
        ROOT,
        "analysis",
        "a long paragraph of analysis ".repeat(100),
    )
    .expect("put");
    tx.commit();
    let mut change = big.get_changes(&[]).remove(0).clone();
    let compressed = change.bytes().to_vec();
    assert_eq!(compressed[8], 2, "automerge compressed the large change");
    v1.changes = vec![compressed].into();
    check_sync_message(&v1.encode(), &limits).expect("a compressed change passes");
}

#[test]
fn a_bloom_filter_automerge_would_divide_by_zero_on_is_refused() {
    let bytes = message(&bloom(1, 0, 7, 0), &[]);
    assert_eq!(
        check_sync_message(&bytes, &SyncLimits::default()),
        Err(GuardError::BadBloomFilter {
            bits_per_entry: 0,
            probes: 7
        })
    );
    // Unguarded, automerge 0.12 panics on it (the panic that stopped the hub).
    let poisoned = std::panic::catch_unwind(|| {
        let doc = typed_visit(3);
        let mut state = sync::State::new();
        let mut doc = doc;
        let message = sync::Message::decode(&bytes).expect("automerge accepts it");
        let _ = doc.receive_sync_message(&mut state, message);
        let _ = doc.generate_sync_message(&mut state);
    });
    assert!(poisoned.is_err(), "automerge divides by zero");
}

#[test]
fn a_bloom_filter_with_billions_of_probes_is_refused() {
    let bytes = message(&bloom(1, 10, u64::from(u32::MAX), 2), &[]);
    assert!(matches!(
        check_sync_message(&bytes, &SyncLimits::default()),
        Err(GuardError::BadBloomFilter {
            probes: u32::MAX,
            ..
        })
    ));
}

#[test]
fn a_bloom_filter_whose_bits_do_not_match_its_size_is_refused() {
    let short = message(&bloom(100, 10, 7, 3), &[]);
    assert!(check_sync_message(&short, &SyncLimits::default()).is_err());
    let long = message(&bloom(1, 10, 7, 9), &[]);
    assert_eq!(
        check_sync_message(&long, &SyncLimits::default()),
        Err(GuardError::TrailingBytes("bloom filter"))
    );
}

#[test]
fn a_deflate_bomb_is_refused_before_it_inflates_past_the_limit() {
    let limits = SyncLimits {
        max_inflated_bytes: 1024 * 1024,
        ..SyncLimits::default()
    };
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bomb = chunk(2, &deflate(&zeros));
    assert!(bomb.len() < 16 * 1024, "a small frame");
    let bytes = message(&[], &[bomb]);
    assert!(matches!(
        check_sync_message(&bytes, &limits),
        Err(GuardError::OverLimit {
            what: "inflated bytes",
            ..
        })
    ));
}

#[test]
fn bytes_that_are_not_a_chunk_are_refused() {
    for garbage in [b"garbage".to_vec(), vec![0x85, 0x6f, 0x4a], Vec::new()] {
        let bytes = message(&[], &[garbage]);
        assert!(
            check_sync_message(&bytes, &SyncLimits::default()).is_err(),
            "{bytes:?}"
        );
    }
    let unknown_type = message(&[], &[chunk(9, &[])]);
    assert_eq!(
        check_sync_message(&unknown_type, &SyncLimits::default()),
        Err(GuardError::ChunkType(9))
    );
}

#[test]
fn a_column_declaring_billions_of_rows_is_refused() {
    // Integer RLE column (type 2): one run of a trillion copies of the value 1.
    let mut data = Vec::new();
    sleb(&mut data, 1_000_000_000_000);
    uleb(&mut data, 1);
    let bytes = message(&[], &[chunk(1, &change_body(2 << 4 | 2, &data))]);
    assert!(matches!(
        check_sync_message(&bytes, &SyncLimits::default()),
        Err(GuardError::OverLimit {
            what: "column rows",
            ..
        })
    ));
    // The same through a boolean column, a null run, and a group column's items.
    let mut boolean = Vec::new();
    uleb(&mut boolean, u64::MAX / 2);
    let mut nulls = Vec::new();
    sleb(&mut nulls, 0);
    uleb(&mut nulls, 1 << 40);
    let mut groups = Vec::new();
    sleb(&mut groups, 2);
    uleb(&mut groups, 1 << 40);
    for (spec, data) in [(4, boolean), (2, nulls), (0, groups)] {
        let bytes = message(&[], &[chunk(1, &change_body(3 << 4 | spec, &data))]);
        assert!(
            matches!(
                check_sync_message(&bytes, &SyncLimits::default()),
                Err(GuardError::OverLimit { .. })
            ),
            "column type {spec}"
        );
    }
}

#[test]
fn many_chunks_each_within_the_row_limit_are_refused_together() {
    let limits = SyncLimits::default();
    let mut data = Vec::new();
    sleb(
        &mut data,
        i64::try_from(limits.max_rows / 10).expect("rows"),
    );
    uleb(&mut data, 1);
    let one = chunk(1, &change_body(2 << 4 | 2, &data));
    check_sync_message(&message(&[], std::slice::from_ref(&one)), &limits).expect("one chunk fits");
    let eleven = vec![one; 11];
    assert!(matches!(
        check_sync_message(&message(&[], &eleven), &limits),
        Err(GuardError::OverLimit {
            what: "rows in the message",
            ..
        })
    ));
}

#[test]
fn a_compressed_column_inside_a_change_is_refused() {
    let bytes = message(&[], &[chunk(1, &change_body(2 << 4 | 0b1000 | 2, &[1, 1]))]);
    assert_eq!(
        check_sync_message(&bytes, &SyncLimits::default()),
        Err(GuardError::CompressedChangeColumn)
    );
}

#[test]
fn counts_over_their_limits_and_truncated_messages_are_refused() {
    let limits = SyncLimits::default();
    let mut many_heads = vec![0x42];
    uleb(&mut many_heads, 1_000_000);
    assert!(matches!(
        check_sync_message(&many_heads, &limits),
        Err(GuardError::OverLimit { what: "heads", .. })
    ));
    let mut many_haves = vec![0x42, 0, 0];
    uleb(&mut many_haves, 1_000);
    assert!(matches!(
        check_sync_message(&many_haves, &limits),
        Err(GuardError::OverLimit {
            what: "have entries",
            ..
        })
    ));
    let honest = message(&[], &[]);
    for cut in 1..honest.len() {
        assert!(
            check_sync_message(&honest[..cut], &limits).is_err(),
            "cut at {cut}"
        );
    }
    assert_eq!(
        check_sync_message(&[0x07], &limits),
        Err(GuardError::NotASyncMessage(0x07))
    );
    let mut trailing = honest.clone();
    trailing.extend([1, 0x82, 9, 9]);
    assert_eq!(
        check_sync_message(&trailing, &limits),
        Err(GuardError::TrailingBytes("flags"))
    );
    let mut overlong = vec![0x42];
    overlong.extend([0xff; 11]);
    assert_eq!(
        check_sync_message(&overlong, &limits),
        Err(GuardError::NumberTooLarge)
    );
}
