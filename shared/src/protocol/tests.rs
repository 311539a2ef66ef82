//! Codec tests: round trips (property-based), and untrusted bytes that must be refused.

use proptest::prelude::*;

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
