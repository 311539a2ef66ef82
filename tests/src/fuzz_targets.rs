//! The bodies of Doorstep's fuzz targets: what a hostile peer or file can reach, each
//! taking arbitrary bytes and panicking only on a real bug.
//!
//! `tests/fuzz` (a cargo-fuzz project) runs each under libFuzzer; `tests/tests/e2e/fuzz_corpus.rs`
//! replays every committed corpus and crasher file through the same functions in the
//! ordinary test run, so a crash found once stays a regression test.
//!
//! - [`protocol_decode`]: the automerge-repo CBOR decoder (round trip where it decodes).
//! - [`sync_message`]: the guard, then automerge's sync on a real visit.
//! - [`core_frames`]: the server's sync core receiving a stream of frames on an
//!   authenticated, granted connection, with real automerge and in-memory storage.
//! - [`model_reads`]: every typed read and check of a document built from the bytes.
//! - [`csv_import`]: the child CSV import parser.

use std::collections::HashMap;
use std::sync::OnceLock;

use automerge::sync::{self, SyncDoc};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ObjType, ROOT, ReadDoc, ScalarValue};
use shared::model;
use shared::protocol::{self, Message};
use shared::schedule::{Jurisdiction, SchedulePolicy};
use shared::sync::{
    Access, AccessGrant, ConnectionId, CoreConfig, Direction, Event, IoResult, StorageOutcome,
    StorageTaskKind, StoredChunks, SyncCore, SyncLimits, Timestamp, check_sync_message,
};
use shared::{DocumentId, PeerId};

/// The names of the targets, as directories under `tests/fuzz/corpus/`.
pub const TARGETS: [&str; 5] = [
    "protocol_decode",
    "sync_message",
    "core_frames",
    "model_reads",
    "csv_import",
];

/// Runs the target called `name` on `data`.
///
/// # Panics
/// On a bug the target found (that is its purpose), or for an unknown name.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "protocol_decode" => protocol_decode(data),
        "sync_message" => sync_message(data),
        "core_frames" => core_frames(data),
        "model_reads" => model_reads(data),
        "csv_import" => csv_import(data),
        other => panic!("no fuzz target {other}"),
    }
}

/// Decoding never panics; what decodes encodes back to the same message.
///
/// # Panics
/// If a decoded message does not survive re-encoding.
pub fn protocol_decode(data: &[u8]) {
    if let Ok(message) = protocol::decode(data) {
        let again = protocol::decode(&protocol::encode(&message));
        assert_eq!(again.as_ref().ok(), Some(&message), "round trip");
    }
}

/// A visit with some history, built once.
fn base_visit() -> &'static Automerge {
    static BASE: OnceLock<Automerge> = OnceLock::new();
    BASE.get_or_init(|| crate::visit_fixture::visit_for_child(1, "C-N1", "sw-north-1", 80))
}

/// Whatever passes the guard, automerge receives on a real visit and answers, without
/// panicking or exhausting memory.
pub fn sync_message(data: &[u8]) {
    if check_sync_message(data, &SyncLimits::default()).is_err() {
        return;
    }
    let Ok(message) = sync::Message::decode(data) else {
        return;
    };
    let mut doc = base_visit().clone();
    let before = doc.clone();
    let mut state = sync::State::new();
    let _ = doc.receive_sync_message(&mut state, message);
    let _ = doc.generate_sync_message(&mut state);
    let _ = model::Visit::read(&doc);
    let _ = model::check_peer_change(&before, &doc);
}

/// The server's core, one connection signed in as a worker holding `C-N1`, fed the bytes
/// as frames (each a 2-byte length then that many bytes), storage run as it is asked for.
pub fn core_frames(data: &[u8]) {
    let mut core = SyncCore::new(CoreConfig::server(
        PeerId::new("server"),
        "fuzz-storage".into(),
    ));
    let mut store: HashMap<DocumentId, Vec<Vec<u8>>> = HashMap::new();
    let now = Timestamp::from_millis(1_000_000);
    let connection = ConnectionId(1);
    let mut pending = Vec::new();
    let step = |core: &mut SyncCore, event: Event, pending: &mut Vec<_>| {
        let fx = core.handle(now, event);
        pending.extend(fx.storage);
    };
    step(
        &mut core,
        Event::Connected {
            connection,
            direction: Direction::Accepted,
        },
        &mut pending,
    );
    let grant = AccessGrant {
        children: [("C-N1".to_owned(), Access::ReadWrite)].into(),
        may_create_for: ["C-N1".to_owned()].into(),
        author: Some("sw-north-1".into()),
        former: Default::default(),
    };
    step(
        &mut core,
        Event::AccessChanged { connection, grant },
        &mut pending,
    );
    let join = protocol::encode(&Message::Join {
        sender_id: PeerId::new("fuzz-peer"),
        supported_protocol_versions: vec!["1".into()],
        peer_metadata: None,
    });
    step(
        &mut core,
        Event::Received {
            connection,
            bytes: join,
        },
        &mut pending,
    );
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let frame = rest[2..2 + len].to_vec();
        rest = &rest[2 + len..];
        step(
            &mut core,
            Event::Received {
                connection,
                bytes: frame,
            },
            &mut pending,
        );
        // Run storage as a driver would, until nothing more is asked.
        for _ in 0..8 {
            let tasks = std::mem::take(&mut pending);
            if tasks.is_empty() {
                break;
            }
            for task in tasks {
                let outcome = match task.kind {
                    StorageTaskKind::Load => {
                        StorageOutcome::Loaded(store.get(&task.document).map(|chunks| {
                            StoredChunks {
                                bytes: chunks.concat(),
                                count: chunks.len(),
                                index: Some(shared::sync::DocumentIndex {
                                    child_id: "C-N1".into(),
                                    created_by: Some("sw-north-1".into()),
                                }),
                            }
                        }))
                    }
                    StorageTaskKind::Append { changes, .. } => {
                        store.entry(task.document).or_default().push(changes);
                        StorageOutcome::Written
                    }
                    StorageTaskKind::Compact { snapshot } => {
                        store.insert(task.document, vec![snapshot]);
                        StorageOutcome::Written
                    }
                };
                step(
                    &mut core,
                    Event::IoComplete(IoResult {
                        task: task.id,
                        outcome,
                    }),
                    &mut pending,
                );
            }
        }
    }
    step(&mut core, Event::Tick, &mut pending);
    // Whatever was stored loads, and reads without panicking.
    for chunks in store.values() {
        if let Ok(doc) = Automerge::load(&chunks.concat()) {
            let _ = model::Visit::read(&doc);
        }
    }
}

/// Keys the model reads, so built documents reach its readers.
const KEYS: [&str; 32] = [
    "type",
    "schemaVersion",
    "visitId",
    "childId",
    "workerId",
    "visitDate",
    "visitKind",
    "location",
    "announced",
    "purpose",
    "personsPresent",
    "childSeen",
    "seenAlone",
    "notAloneReason",
    "notAloneDetail",
    "bedroomSeen",
    "bedroomDetail",
    "observations",
    "voice",
    "analysis",
    "actions",
    "welfareSafeguarded",
    "status",
    "createdAt",
    "submittedAt",
    "oversight",
    "amendments",
    "words",
    "placement",
    "reviews",
    "dateOfBirth",
    "legalName",
];

/// Builds a document from the bytes (each a small edit: put a scalar or an object at a
/// key of the model's vocabulary, insert into a list, type into a text, delete, move into
/// a nested object), then runs every typed read and check on it. The raw bytes are also
/// tried as a saved document.
pub fn model_reads(data: &[u8]) {
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    let mut objects: Vec<ObjId> = vec![ROOT];
    let mut at = 0;
    let mut bytes = data.chunks_exact(3);
    for edit in &mut bytes {
        let (op, arg, value) = (edit[0], usize::from(edit[1]), edit[2]);
        let obj = objects[at % objects.len()].clone();
        let key = KEYS[arg % KEYS.len()];
        let scalar = match value % 6 {
            0 => ScalarValue::Str(
                ["visit", "child", "C-N1", "2026-11-20", "draft", "yes"]
                    [usize::from(value / 6) % 6]
                    .into(),
            ),
            1 => ScalarValue::Int(i64::from(value) - 128),
            2 => ScalarValue::Boolean(value % 2 == 0),
            3 => ScalarValue::F64(f64::from(value) / 3.0),
            4 => ScalarValue::Uint(u64::from(value) << 40),
            _ => ScalarValue::Null,
        };
        let object_type = [ObjType::Map, ObjType::List, ObjType::Text][usize::from(value) % 3];
        let is_list = matches!(tx.object_type(&obj), Ok(ObjType::List));
        let is_text = matches!(tx.object_type(&obj), Ok(ObjType::Text));
        let len = tx.length(&obj);
        let _ = match (op % 6, is_list, is_text) {
            (0, false, false) => tx.put(&obj, key, scalar).map(|_| ()),
            (1, false, false) => tx
                .put_object(&obj, key, object_type)
                .map(|id| objects.push(id)),
            (2, true, _) => tx.insert(&obj, arg.min(len), scalar).map(|_| ()),
            (3, true, _) => tx
                .insert_object(&obj, arg.min(len), object_type)
                .map(|id| objects.push(id)),
            (4, _, true) => tx.splice_text(&obj, arg.min(len), 0, key),
            (5, false, false) => tx.delete(&obj, key),
            (5, true, _) if len > 0 => tx.delete(&obj, arg % len),
            _ => {
                at = arg;
                Ok(())
            }
        };
    }
    tx.commit();
    read_everything(&doc);
    if let Ok(loaded) = Automerge::load(data) {
        read_everything(&loaded);
    }
}

fn read_everything(doc: &Automerge) {
    let policy = SchedulePolicy::statutory(Jurisdiction::England);
    let visit = model::Visit::read(doc);
    let _ = model::VisitSummary::read(doc);
    let child = model::Child::read(doc);
    let _ = model::single_value_conflicts(doc);
    let _ = model::oversight_entries(doc);
    let _ = model::amendments(doc);
    let _ = model::review(doc);
    let _ = model::section_provenance(doc);
    let _ = model::visit_child_id(doc);
    let _ = model::check_new_visit(doc, Some("sw-north-1"), &["C-N1".to_owned()].into());
    let _ = model::check_peer_change(base_visit(), doc);
    let _ = server::projection::DocumentRows::of(doc, &policy);
    if let Ok(visit) = &visit {
        let _ = model::visit_sections(visit);
        let _ = visit.problems_for_submission("2026-11-21");
    }
    if let (Ok(child), Ok(visit)) = (&child, &visit) {
        let input = shared::schedule::schedule_input(child, std::slice::from_ref(visit));
        let today = model::CalendarDate::parse("2026-11-21");
        if let Some(today) = today {
            let _ = shared::schedule::child_schedule(&input, &policy, today);
        }
    }
}

/// The child CSV import's parser never panics, whatever the file holds.
pub fn csv_import(data: &[u8]) {
    let _ = server::directory::child_import::parse(data);
}

/// Seed inputs for each target, by name: honest traffic and every attack the reliability
/// notes list, so the fuzzers start where a hostile peer would.
pub fn seeds() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    use crate::raw_peer::frames;
    let peer = PeerId::new("fuzz-peer");
    let server = PeerId::new("server");
    let visit = base_visit();
    let new_id = DocumentId::from_bytes([0x11; 16]);
    let first = visit
        .generate_sync_message(&mut sync::State::new())
        .map(sync::Message::encode)
        .unwrap_or_default();
    let mut with_changes = sync::Message::decode(&first).expect("automerge's own message");
    with_changes.changes = visit
        .get_changes(&[])
        .iter()
        .map(|change| change.raw_bytes().to_vec())
        .collect::<Vec<_>>()
        .into();
    let with_changes = with_changes.encode();
    let mut whole = sync::Message::decode(&first).expect("automerge's own message");
    whole.changes = visit.save().into();
    whole.version = sync::MessageVersion::V2;
    let whole = whole.encode();
    let attacks = [
        ("zero-bit-bloom", frames::zero_bit_bloom()),
        ("billion-probe-bloom", frames::billion_probe_bloom()),
        ("deflate-bomb", frames::deflate_bomb(64 << 20)),
        ("row-bomb", frames::row_bomb()),
        ("garbage-change", frames::garbage_change()),
    ];
    let sync_frame = |data: &[u8]| {
        protocol::encode(&Message::Sync {
            sender_id: peer.clone(),
            target_id: server.clone(),
            document_id: new_id,
            data: data.to_vec(),
        })
    };
    let framed = |frames: &[Vec<u8>]| {
        let mut out = Vec::new();
        for frame in frames {
            out.extend(u16::try_from(frame.len()).unwrap_or(u16::MAX).to_le_bytes());
            out.extend(frame);
        }
        out
    };
    let mut seeds = vec![
        ("protocol_decode", "join", protocol::encode(&Message::Join {
            sender_id: peer.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: None,
        })),
        ("protocol_decode", "sync", sync_frame(&first)),
        ("protocol_decode", "request", protocol::encode(&Message::Request {
            sender_id: peer.clone(),
            target_id: server.clone(),
            document_id: new_id,
            data: first.clone(),
        })),
        ("protocol_decode", "error", protocol::encode(&Message::Error {
            message: "bad".into(),
        })),
        ("protocol_decode", "malformed-cbor", vec![0xbf, 0x61, 0x74, 0xff, 0x13]),
        ("sync_message", "first", first.clone()),
        ("sync_message", "changes", with_changes.clone()),
        ("sync_message", "whole-document", whole.clone()),
        ("core_frames", "create-a-visit", framed(&[sync_frame(&first), sync_frame(&with_changes)])),
        ("core_frames", "create-whole", framed(&[sync_frame(&whole)])),
        ("model_reads", "saved-visit", visit.save()),
        ("model_reads", "edits", (0u8..=255).flat_map(|n| [n % 7, n, n.wrapping_mul(31)]).collect()),
        ("csv_import", "good", b"child_ref,team,legal_name,date_of_birth,placement_start,placement_type,carer_name,worker\nC-1,North,Amy Example,2014-05-02,2025-09-01,U4,Mr and Mrs Brown,sw-1\n".to_vec()),
        ("csv_import", "formulae", b"child_ref,team,legal_name,date_of_birth\n=1+1,North,@SUM(A1),2014-05-02\n\"+cmd\",North,\"-x\",2014-05-02\n".to_vec()),
        ("csv_import", "bad-rows", b"child_ref,team,legal_name,date_of_birth,uasc\nC-1,North,Amy,2014-02-30,maybe\n,,,,\n".to_vec()),
    ];
    for (name, data) in attacks {
        seeds.push(("sync_message", name, data.clone()));
        seeds.push(("core_frames", name, framed(&[sync_frame(&data)])));
    }
    seeds
}
