//! [`check_sync_message`]: a peer's automerge sync message checked, byte by byte, before
//! automerge parses it.
//!
//! automerge 0.12 trusts what it is sent in ways a server cannot: a bloom filter with zero
//! bits per entry divides by zero, one with four billion probes allocates 16 GiB, a deflated
//! chunk inflates without limit, a run-length-encoded column declares billions of rows, and
//! bytes that are not a chunk at all are skipped silently. This module walks the message's
//! wire format (automerge's `sync::Message::encode` and the storage format's chunks:
//! <https://alexjg.github.io/automerge-storage-docs/>) and refuses anything outside
//! [`SyncLimits`], so that only messages an honest client could have sent reach automerge.
//!
//! It checks structure and bounds, not meaning: hashes, checksums and column contents are
//! still verified by automerge itself.

use std::io::Read;

use super::SyncLimits;

/// Why a sync message was refused before automerge saw it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GuardError {
    /// The message ended in the middle of a field.
    #[error("the sync message ends inside its {0}")]
    Truncated(&'static str),
    /// The first byte is not a sync message type.
    #[error("not an automerge sync message (first byte {0:#04x})")]
    NotASyncMessage(u8),
    /// A count or size is beyond its limit.
    #[error("{what} {found} exceeds the limit of {limit}")]
    OverLimit {
        /// What was counted.
        what: &'static str,
        /// How many there were.
        found: u64,
        /// The most allowed.
        limit: u64,
    },
    /// A bloom filter's parameters are not ones automerge can use.
    #[error("bloom filter with {bits_per_entry} bits per entry and {probes} probes")]
    BadBloomFilter {
        /// Bits per entry, as sent.
        bits_per_entry: u32,
        /// Probes, as sent.
        probes: u32,
    },
    /// Bytes where a chunk should start are not one.
    #[error("change data is not an automerge chunk")]
    NotAChunk,
    /// A chunk of a type peers never send in a sync message.
    #[error("chunk type {0} is not accepted in a sync message")]
    ChunkType(u8),
    /// A compressed chunk or column does not inflate.
    #[error("compressed data does not inflate")]
    BadDeflate,
    /// A column is compressed where the format does not allow it.
    #[error("a change's columns cannot be compressed")]
    CompressedChangeColumn,
    /// Bytes left over after something that should have ended.
    #[error("unexpected bytes after the {0}")]
    TrailingBytes(&'static str),
    /// A leb128 number is longer than 64 bits.
    #[error("a number in the sync message is too large")]
    NumberTooLarge,
}

/// What an accepted message holds, for the caller's bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckedMessage {
    /// How many chunks it carries in `changes`.
    pub chunks: usize,
    /// How many bytes its compressed parts inflated to.
    pub inflated_bytes: usize,
}

/// Checks one automerge sync message (the `data` of a protocol `sync` or `request`).
///
/// # Errors
/// A [`GuardError`] naming the first thing that is malformed or over a limit.
pub fn check_sync_message(bytes: &[u8], limits: &SyncLimits) -> Result<CheckedMessage, GuardError> {
    let mut input = Cursor::new(bytes);
    let mut budget = Budget {
        inflated: 0,
        limit: limits.max_inflated_bytes,
        rows: 0,
        max_rows: limits.max_rows,
    };
    let kind = input.byte("message type")?;
    if kind != 0x42 && kind != 0x43 {
        return Err(GuardError::NotASyncMessage(kind));
    }
    input.hashes("heads", limits.max_heads)?;
    input.hashes("need", limits.max_need)?;
    let haves = input.count("have entries", limits.max_have)?;
    for _ in 0..haves {
        input.hashes("lastSync", limits.max_heads)?;
        let bloom = input.length_prefixed("bloom filter")?;
        check_bloom(bloom, limits)?;
    }
    let chunks = input.count("change chunks", limits.max_chunks)?;
    for _ in 0..chunks {
        let mut chunk_bytes = Cursor::new(input.length_prefixed("change chunk")?);
        if chunk_bytes.is_empty() {
            return Err(GuardError::NotAChunk);
        }
        while !chunk_bytes.is_empty() {
            check_chunk(&mut chunk_bytes, limits, &mut budget)?;
        }
    }
    if !input.is_empty() {
        // The flags section: a length-prefixed list of flag bytes, then nothing.
        input.length_prefixed("flags")?;
        if !input.is_empty() {
            return Err(GuardError::TrailingBytes("flags"));
        }
    }
    Ok(CheckedMessage {
        chunks: usize::try_from(chunks).unwrap_or(usize::MAX),
        inflated_bytes: budget.inflated,
    })
}

/// A `have` entry's bloom filter: empty, or entries, bits per entry, probes and exactly
/// the bits those imply.
fn check_bloom(bloom: &[u8], limits: &SyncLimits) -> Result<(), GuardError> {
    if bloom.is_empty() {
        return Ok(());
    }
    let mut bloom = Cursor::new(bloom);
    let entries = bloom.u32("bloom filter")?;
    let bits_per_entry = bloom.u32("bloom filter")?;
    let probes = bloom.u32("bloom filter")?;
    if bits_per_entry == 0
        || probes == 0
        || bits_per_entry > limits.max_bloom_bits_per_entry
        || probes > limits.max_bloom_probes
    {
        return Err(GuardError::BadBloomFilter {
            bits_per_entry,
            probes,
        });
    }
    let bits = (u64::from(entries) * u64::from(bits_per_entry)).div_ceil(8);
    bloom.take(bits, "bloom filter")?;
    if !bloom.is_empty() {
        return Err(GuardError::TrailingBytes("bloom filter"));
    }
    Ok(())
}

/// How many bytes inflating may still produce for this message.
struct Budget {
    inflated: usize,
    limit: usize,
    /// Rows (operations or changes) declared by the chunks checked so far.
    rows: u64,
    max_rows: u64,
}

impl Budget {
    /// Counts one chunk's rows (its longest column) against the message's limit.
    fn add_rows(&mut self, rows: u64) -> Result<(), GuardError> {
        self.rows = self.rows.saturating_add(rows);
        if self.rows > self.max_rows {
            return Err(GuardError::OverLimit {
                what: "rows in the message",
                found: self.rows,
                limit: self.max_rows,
            });
        }
        Ok(())
    }

    /// Inflates raw deflate `data`, refusing once the message's total would pass the limit.
    fn inflate(&mut self, data: &[u8]) -> Result<Vec<u8>, GuardError> {
        let room = self.limit.saturating_sub(self.inflated);
        let mut out = Vec::new();
        // One byte more than the room tells an over-limit stream from one that fits exactly.
        let mut decoder = flate2::bufread::DeflateDecoder::new(data)
            .take(u64::try_from(room).unwrap_or(u64::MAX) + 1);
        decoder
            .read_to_end(&mut out)
            .map_err(|_| GuardError::BadDeflate)?;
        if out.len() > room {
            return Err(GuardError::OverLimit {
                what: "inflated bytes",
                found: u64::try_from(self.inflated + out.len()).unwrap_or(u64::MAX),
                limit: u64::try_from(self.limit).unwrap_or(u64::MAX),
            });
        }
        self.inflated += out.len();
        Ok(out)
    }
}

const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

/// One chunk: magic bytes, checksum, type, length, then a document or change body.
fn check_chunk(
    input: &mut Cursor<'_>,
    limits: &SyncLimits,
    budget: &mut Budget,
) -> Result<(), GuardError> {
    let magic = input
        .take(4, "chunk header")
        .map_err(|_| GuardError::NotAChunk)?;
    if magic != MAGIC {
        return Err(GuardError::NotAChunk);
    }
    input.take(4, "chunk header")?;
    let kind = input.byte("chunk header")?;
    let length = input.u64("chunk header")?;
    let body = input.take(length, "chunk")?;
    match kind {
        CHUNK_DOCUMENT => check_document(body, limits, budget),
        CHUNK_CHANGE => check_change(body, limits, budget),
        CHUNK_COMPRESSED => {
            let inflated = budget.inflate(body)?;
            check_change(&inflated, limits, budget)
        }
        other => Err(GuardError::ChunkType(other)),
    }
}

/// A change chunk's body: dependencies, actor, counters, message, other actors, then the
/// operation columns (never compressed inside a change) and optional extra bytes.
fn check_change(body: &[u8], limits: &SyncLimits, budget: &mut Budget) -> Result<(), GuardError> {
    let mut input = Cursor::new(body);
    input.hashes("change dependencies", limits.max_heads)?;
    input.actor(limits)?;
    input.u64("change header")?;
    input.u64("change header")?;
    input.i64("change header")?;
    input.length_prefixed("change message")?;
    let actors = input.count("actors", limits.max_actors)?;
    for _ in 0..actors {
        input.actor(limits)?;
    }
    let columns = input.columns(limits)?;
    for column in &columns {
        if column.deflated() {
            return Err(GuardError::CompressedChangeColumn);
        }
    }
    let mut rows = 0;
    for column in &columns {
        let data = input.take(column.len, "change columns")?;
        rows = rows.max(check_column_rows(column.spec, data, limits)?);
    }
    budget.add_rows(rows)?;
    // Whatever follows is the format's room for extensions; automerge keeps it as is.
    Ok(())
}

/// A document chunk's body: actors, heads, change and operation column metadata, both
/// columns' data (each column perhaps deflated), then one head index per head.
fn check_document(body: &[u8], limits: &SyncLimits, budget: &mut Budget) -> Result<(), GuardError> {
    let mut input = Cursor::new(body);
    let actors = input.count("actors", limits.max_actors)?;
    for _ in 0..actors {
        input.actor(limits)?;
    }
    let heads = input.hashes("document heads", limits.max_heads)?;
    let change_columns = input.columns(limits)?;
    let op_columns = input.columns(limits)?;
    let (mut changes, mut ops) = (0, 0);
    for (n, column) in change_columns.iter().chain(&op_columns).enumerate() {
        let data = input.take(column.len, "document columns")?;
        let rows = if column.deflated() {
            let inflated = budget.inflate(data)?;
            check_column_rows(column.spec, &inflated, limits)?
        } else {
            check_column_rows(column.spec, data, limits)?
        };
        if n < change_columns.len() {
            changes = rows.max(changes);
        } else {
            ops = rows.max(ops);
        }
    }
    budget.add_rows(changes.max(ops))?;
    if !input.is_empty() {
        for _ in 0..heads {
            input.u64("head indexes")?;
        }
    }
    if !input.is_empty() {
        return Err(GuardError::TrailingBytes("document chunk"));
    }
    Ok(())
}

/// One column's specification and data length.
struct Column {
    spec: u32,
    len: u64,
}

impl Column {
    fn deflated(&self) -> bool {
        self.spec & 0b1000 != 0
    }
}

/// Counts a column's rows (and, for group columns, the items they group) without
/// materialising them, refusing a column that declares more than `max_rows`; returns
/// the rows.
fn check_column_rows(spec: u32, data: &[u8], limits: &SyncLimits) -> Result<u64, GuardError> {
    let mut input = Cursor::new(data);
    let mut rows: u64 = 0;
    let mut grouped: u64 = 0;
    let over = |what, found| GuardError::OverLimit {
        what,
        found,
        limit: limits.max_rows,
    };
    let add = |total: &mut u64, n: u64, what| -> Result<(), GuardError> {
        *total = total.checked_add(n).ok_or(over(what, u64::MAX))?;
        if *total > limits.max_rows {
            return Err(over(what, *total));
        }
        Ok(())
    };
    match spec & 0b111 {
        // Value: raw bytes described by the value-metadata column beside it.
        7 => return Ok(0),
        // Boolean: alternating run lengths.
        4 => {
            while !input.is_empty() {
                let run = input.u64("boolean column")?;
                add(&mut rows, run, "column rows")?;
            }
        }
        kind => {
            // Run-length encoded: a positive count and one value repeated, a negative
            // count and that many literal values, or zero and a count of nulls.
            while !input.is_empty() {
                let count = input.i64("column run")?;
                if count > 0 {
                    let value = input.rle_value(kind)?;
                    add(&mut rows, count.unsigned_abs(), "column rows")?;
                    if kind == 0 {
                        let items = value.saturating_mul(count.unsigned_abs());
                        add(&mut grouped, items, "grouped items")?;
                    }
                } else if count < 0 {
                    let n = count.unsigned_abs();
                    add(&mut rows, n, "column rows")?;
                    for _ in 0..n {
                        let value = input.rle_value(kind)?;
                        if kind == 0 {
                            add(&mut grouped, value, "grouped items")?;
                        }
                    }
                } else {
                    let nulls = input.u64("column run")?;
                    add(&mut rows, nulls, "column rows")?;
                }
            }
        }
    }
    Ok(rows)
}

/// A position in a byte slice, with the readers the formats need.
struct Cursor<'a> {
    bytes: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn byte(&mut self, what: &'static str) -> Result<u8, GuardError> {
        let (&first, rest) = self
            .bytes
            .split_first()
            .ok_or(GuardError::Truncated(what))?;
        self.bytes = rest;
        Ok(first)
    }

    fn take(&mut self, n: u64, what: &'static str) -> Result<&'a [u8], GuardError> {
        let n = usize::try_from(n).map_err(|_| GuardError::Truncated(what))?;
        if n > self.bytes.len() {
            return Err(GuardError::Truncated(what));
        }
        let (taken, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(taken)
    }

    /// An unsigned leb128 number of at most 64 bits.
    fn u64(&mut self, what: &'static str) -> Result<u64, GuardError> {
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.byte(what)?;
            // The tenth byte may only hold the 64th bit, with no continuation.
            if shift == 63 && byte > 1 {
                return Err(GuardError::NumberTooLarge);
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(GuardError::NumberTooLarge)
    }

    /// A signed leb128 number of at most 64 bits.
    fn i64(&mut self, what: &'static str) -> Result<i64, GuardError> {
        let mut value: i64 = 0;
        let mut shift = 0;
        loop {
            let byte = self.byte(what)?;
            // The tenth byte may only carry the sign, with no continuation.
            if shift == 63 && byte != 0x00 && byte != 0x7f {
                return Err(GuardError::NumberTooLarge);
            }
            value |= i64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                if shift < 64 && byte & 0x40 != 0 {
                    value |= -1_i64 << shift;
                }
                return Ok(value);
            }
            if shift >= 64 {
                return Err(GuardError::NumberTooLarge);
            }
        }
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, GuardError> {
        u32::try_from(self.u64(what)?).map_err(|_| GuardError::NumberTooLarge)
    }

    /// A leb128 count no larger than `limit`.
    fn count(&mut self, what: &'static str, limit: usize) -> Result<u64, GuardError> {
        let found = self.u64(what)?;
        let limit = u64::try_from(limit).unwrap_or(u64::MAX);
        if found > limit {
            return Err(GuardError::OverLimit { what, found, limit });
        }
        Ok(found)
    }

    fn length_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], GuardError> {
        let len = self.u64(what)?;
        self.take(len, what)
    }

    /// A count then that many 32-byte hashes; returns the count.
    fn hashes(&mut self, what: &'static str, limit: usize) -> Result<u64, GuardError> {
        let count = self.count(what, limit)?;
        self.take(count.saturating_mul(32), what)?;
        Ok(count)
    }

    fn actor(&mut self, limits: &SyncLimits) -> Result<(), GuardError> {
        let len = self.u64("actor id")?;
        let limit = u64::try_from(limits.max_actor_bytes).unwrap_or(u64::MAX);
        if len > limit {
            return Err(GuardError::OverLimit {
                what: "actor id bytes",
                found: len,
                limit,
            });
        }
        self.take(len, "actor id")?;
        Ok(())
    }

    /// Column metadata: a count, then (specification, length) pairs.
    fn columns(&mut self, limits: &SyncLimits) -> Result<Vec<Column>, GuardError> {
        let count = self.count("columns", limits.max_columns)?;
        let mut columns = Vec::new();
        for _ in 0..count {
            let spec = self.u32("column specification")?;
            let len = self.u64("column length")?;
            columns.push(Column { spec, len });
        }
        Ok(columns)
    }

    /// One value of a run-length-encoded column of this type: unsigned for groups,
    /// actors, integers and value metadata, signed for deltas, length-prefixed for strings.
    fn rle_value(&mut self, kind: u32) -> Result<u64, GuardError> {
        match kind {
            3 => self.i64("column value").map(i64::unsigned_abs),
            5 => {
                let len = self.u64("column value")?;
                self.take(len, "column value")?;
                Ok(len)
            }
            _ => self.u64("column value"),
        }
    }
}
