//! [`SyncLimits`]: how much one peer's automerge sync message may ask of us.
//!
//! Every bound is far above what an honest automerge-repo client sends (measured figures
//! beside each default) and far below what would let one message exhaust the server.

/// Bounds on one automerge sync message, checked by [`super::check_sync_message`] before
/// automerge parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncLimits {
    /// Hashes in `heads`, in each `have`'s `lastSync`, and in a document chunk's heads.
    /// An honest peer sends one head per concurrent editing device (1-3 seen).
    pub max_heads: usize,
    /// Hashes in `need` (honest: the dependencies of our heads it lacks, a handful).
    pub max_need: usize,
    /// Entries in `have` (automerge sends none or one).
    pub max_have: usize,
    /// Bits per entry of a `have` bloom filter (automerge uses 10).
    pub max_bloom_bits_per_entry: u32,
    /// Probes of a `have` bloom filter (automerge uses 7).
    pub max_bloom_probes: u32,
    /// Chunks in `changes` (a V1 message carries one chunk per change; a visit typed for
    /// an hour is a few thousand changes).
    pub max_chunks: usize,
    /// Actor ids in one chunk (one per device that ever edited the document).
    pub max_actors: usize,
    /// Bytes of one actor id (automerge's are 16).
    pub max_actor_bytes: usize,
    /// Columns in one chunk (automerge writes about 20).
    pub max_columns: usize,
    /// Bytes all compressed chunks and columns of one message may inflate to. The frame
    /// itself is bounded by the driver (8 MiB by default); a deflate bomb is not.
    pub max_inflated_bytes: usize,
    /// Rows (operations, or changes) all the chunks of one message may declare together.
    /// Run-length encoding lets a few bytes declare billions of rows, which automerge
    /// would materialise. A visit typed for an hour is a few thousand operations; the
    /// longest record a child could have, a few hundred thousand.
    pub max_rows: u64,
}

impl Default for SyncLimits {
    fn default() -> Self {
        Self {
            max_heads: 1024,
            max_need: 4096,
            max_have: 8,
            max_bloom_bits_per_entry: 64,
            max_bloom_probes: 64,
            max_chunks: 100_000,
            max_actors: 10_000,
            max_actor_bytes: 128,
            max_columns: 64,
            max_inflated_bytes: 16 * 1024 * 1024,
            max_rows: 1_000_000,
        }
    }
}
