//! Codec tests: round trips (property-based), and untrusted bytes that must be refused.

use proptest::prelude::*;

use super::cbor;
use super::*;
use crate::{DocumentId, PeerId};

fn doc_id() -> impl Strategy<Value = DocumentId> {
    any::<[u8; 16]>().prop_map(DocumentId::from_bytes)
}

fn peer_id() -> impl Strategy<Value = PeerId> {
    "[a-z0-9-]{1,40}".prop_map(PeerId::new)
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (peer_id(), proptest::option::of(any::<bool>())).prop_map(|(sender_id, eph)| {
            Message::Join {
                sender_id,
                supported_protocol_versions: vec!["1".into()],
                peer_metadata: eph.map(|is_ephemeral| PeerMetadata {
                    storage_id: Some("s".into()),
                    is_ephemeral,
                }),
            }
        }),
        (peer_id(), peer_id()).prop_map(|(sender_id, target_id)| Message::Peer {
            sender_id,
            target_id,
            selected_protocol_version: "1".into(),
            peer_metadata: Some(PeerMetadata::default()),
        }),
        (peer_id(), peer_id(), doc_id(), any::<Vec<u8>>()).prop_map(|(s, t, d, data)| {
            Message::Sync {
                sender_id: s,
                target_id: t,
                document_id: d,
                data,
            }
        }),
        (peer_id(), peer_id(), doc_id(), any::<Vec<u8>>()).prop_map(|(s, t, d, data)| {
            Message::Request {
                sender_id: s,
                target_id: t,
                document_id: d,
                data,
            }
        }),
        (peer_id(), peer_id(), doc_id()).prop_map(|(s, t, d)| Message::DocUnavailable {
            sender_id: s,
            target_id: t,
            document_id: d,
        }),
        peer_id().prop_map(|sender_id| Message::Leave { sender_id }),
        ".{0,80}".prop_map(|message| Message::Error { message }),
    ]
}

proptest! {
    #[test]
    fn every_message_round_trips(m in message()) {
        prop_assert_eq!(decode(&encode(&m)), Ok(m));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in any::<Vec<u8>>()) {
        let _ = decode(&bytes);
    }

    #[test]
    fn truncated_messages_are_errors(m in message(), cut in 1usize..20) {
        let bytes = encode(&m);
        let cut = cut.min(bytes.len());
        prop_assert!(decode(&bytes[..bytes.len() - cut]).is_err());
    }
}

fn cbor(value: &ciborium::Value) -> Vec<u8> {
    let mut bytes = Vec::new();
    ciborium::into_writer(value, &mut bytes).expect("encodable");
    bytes
}

fn map(entries: &[(&str, ciborium::Value)]) -> Vec<u8> {
    cbor(&ciborium::Value::Map(
        entries
            .iter()
            .map(|(k, v)| (ciborium::Value::Text((*k).into()), v.clone()))
            .collect(),
    ))
}

#[test]
fn refuses_bad_shapes_with_typed_errors() {
    use ciborium::Value::{Array, Bytes, Integer, Text};
    let text = |s: &str| Text(s.into());
    let check = |bytes: Vec<u8>, expected: DecodeError| assert_eq!(decode(&bytes), Err(expected));

    check(cbor(&Array(vec![])), DecodeError::NotAMap);
    check(map(&[]), DecodeError::MissingField("type"));
    check(
        map(&[("type", text("gossip"))]),
        DecodeError::UnknownType("gossip".into()),
    );
    check(
        map(&[("type", Integer(3.into()))]),
        DecodeError::WrongType {
            field: "type",
            expected: "a string",
        },
    );
    check(
        map(&[
            ("type", text("sync")),
            ("senderId", text("a")),
            ("targetId", text("b")),
            ("documentId", text("not-an-id")),
            ("data", Bytes(vec![])),
        ]),
        DecodeError::DocumentId(crate::DocumentIdError::NotBs58Check(
            "provided string contained invalid character '-' at byte 3".into(),
        )),
    );
    check(
        map(&[
            ("type", text("sync")),
            ("senderId", text("")),
            ("targetId", text("b")),
        ]),
        DecodeError::PeerId("senderId"),
    );
    assert!(matches!(decode(&[0xff, 0x00]), Err(DecodeError::Cbor(_))));
    assert!(matches!(decode(&[]), Err(DecodeError::Cbor(_))));
}

#[test]
fn ignores_optional_message_types() {
    let bytes = map(&[("type", ciborium::Value::Text("ephemeral".into()))]);
    assert_eq!(
        decode(&bytes),
        Ok(Message::Ignored {
            kind: "ephemeral".into()
        })
    );
}

#[test]
fn deeply_nested_cbor_is_refused_not_overflowed() {
    // 100k nested arrays: a naive recursive decoder would blow the stack.
    let bytes = vec![0x81; 100_000];
    assert!(decode(&bytes).is_err());
}

/// The hand-written reader's view of what ciborium decoded (unsigned integers read;
/// negative numbers, floats, tags: `Other`).
fn as_ours(value: &ciborium::Value) -> cbor::Value<'static> {
    use ciborium::Value as C;
    match value {
        C::Integer(n) => u64::try_from(*n).map_or(cbor::Value::Other, cbor::Value::Unsigned),
        C::Text(t) => cbor::Value::Text(t.clone().into()),
        C::Bytes(b) => cbor::Value::Bytes(b.clone().into()),
        C::Array(items) => cbor::Value::Array(items.iter().map(as_ours).collect()),
        C::Map(entries) => cbor::Value::Map(
            entries
                .iter()
                .map(|(k, v)| (as_ours(k), as_ours(v)))
                .collect(),
        ),
        C::Bool(b) => cbor::Value::Bool(*b),
        C::Null => cbor::Value::Null,
        _ => cbor::Value::Other,
    }
}

/// Whether the reader's `ours` is what it should make of ciborium's `theirs`. ciborium
/// reads a bignum (tags 2 and 3 on a byte string) as an integer, which the reader keeps,
/// like every tag, as `Other`.
fn reads_alike(theirs: &ciborium::Value, ours: &cbor::Value<'_>) -> bool {
    use ciborium::Value as C;
    match (theirs, ours) {
        (C::Integer(_), cbor::Value::Other) => true,
        (C::Array(a), cbor::Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| reads_alike(a, b))
        }
        (C::Map(a), cbor::Value::Map(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ak, av), (bk, bv))| reads_alike(ak, bk) && reads_alike(av, bv))
        }
        _ => as_ours(theirs) == *ours,
    }
}

fn cbor_value() -> impl Strategy<Value = ciborium::Value> {
    use ciborium::Value as C;
    let leaf = prop_oneof![
        ".{0,12}".prop_map(C::Text),
        any::<Vec<u8>>().prop_map(C::Bytes),
        any::<i64>().prop_map(|n| C::Integer(n.into())),
        any::<u64>().prop_map(|n| C::Integer(n.into())),
        any::<f64>().prop_map(C::Float),
        any::<bool>().prop_map(C::Bool),
        Just(C::Null),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(C::Array),
            proptest::collection::vec((inner.clone(), inner.clone()), 0..6).prop_map(C::Map),
            (0u64..100_000, inner).prop_map(|(tag, v)| C::Tag(tag, Box::new(v))),
        ]
    })
}

proptest! {
    #[test]
    fn the_reader_reads_what_ciborium_writes(value in cbor_value()) {
        let bytes = cbor(&value);
        prop_assert_eq!(cbor::read(&bytes), Ok(as_ours(&value)));
    }

    /// Never reads what ciborium finds malformed, and reads what both accept alike. (It may
    /// refuse a little more: simple values in the two-byte form, which RFC 8949 says are not
    /// well-formed; and it accepts the bignums ciborium refuses as too big, not reading them,
    /// and keeps those ciborium reads as integers as tags, `Other`.)
    #[test]
    fn the_reader_agrees_with_ciborium_on_arbitrary_bytes(bytes in any::<Vec<u8>>()) {
        let theirs = ciborium::from_reader::<ciborium::Value, _>(bytes.as_slice());
        if let Ok(ours) = cbor::read(&bytes) {
            match theirs {
                Ok(value) => prop_assert!(reads_alike(&value, &ours), "ciborium: {value:?}, ours: {ours:?}"),
                Err(ciborium::de::Error::Semantic(..)) => {}
                Err(e) => prop_assert!(false, "ciborium: {e:?}, ours: {ours:?}"),
            }
        }
    }
}

#[test]
fn the_writer_writes_what_ciborium_reads() {
    use ciborium::Value as C;
    let long = "x".repeat(300);
    let mut w = cbor::Writer::default();
    w.map(3)
        .text("a")
        .array(2)
        .bool(true)
        .bool(false)
        .text(&long)
        .bytes(&[1, 2, 3])
        .text("")
        .bytes(&vec![7; 70_000]);
    let read: C = ciborium::from_reader(w.0.as_slice()).expect("well-formed");
    assert_eq!(
        read,
        C::Map(vec![
            (
                C::Text("a".into()),
                C::Array(vec![C::Bool(true), C::Bool(false)])
            ),
            (C::Text(long.clone()), C::Bytes(vec![1, 2, 3])),
            (C::Text(String::new()), C::Bytes(vec![7; 70_000])),
        ])
    );
}

#[test]
fn indefinite_lengths_are_read() {
    // {_ "type": (_ "sy" "nc") ...}: a map, a text string and a byte string of indefinite length.
    let mut bytes = vec![0xbf, 0x64];
    bytes.extend(b"type");
    bytes.extend([0x7f, 0x62]);
    bytes.extend(b"sy");
    bytes.extend([0x62]);
    bytes.extend(b"nc");
    bytes.extend([0xff, 0x64]);
    bytes.extend(b"data");
    bytes.extend([0x5f, 0x41, 1, 0x41, 2, 0xff, 0xff]);
    assert_eq!(
        cbor::read(&bytes),
        Ok(cbor::Value::Map(vec![
            (
                cbor::Value::Text("type".into()),
                cbor::Value::Text("sync".into())
            ),
            (
                cbor::Value::Text("data".into()),
                cbor::Value::Bytes(vec![1, 2].into())
            ),
        ]))
    );
    // A text chunk inside a byte string, and a map that never ends, are errors.
    assert!(cbor::read(&[0x5f, 0x61, b'a', 0xff]).is_err());
    assert!(cbor::read(&[0xbf, 0x61, b'a', 0xf5]).is_err());
}
