//! The projection: SQL tables that mirror what the documents say (children, placements,
//! reviews, visits, actions, sign-offs, amendments), for the team dashboard and the
//! sign-off queue, which cannot afford to open thousands of documents per request.
//!
//! # Layout
//! - `rows`: [`DocumentRows`], a document's rows read from the document alone (pure).
//! - `tables`: writing them ([`apply_update`] inside the transaction storing a change;
//!   [`rebuild`] from every stored document; [`dump`] to compare two projections) and
//!   the `change_batches` log (server receipt time and sender of every batch of changes).
//! - `dashboard`: the team manager's dashboard read from the projection and the
//!   schedule engine (`shared::schedule`).
//! - `review`: one visit as its manager reviews it (sections with author, device time
//!   and receipt time; the signed version and the differences).
//!
//! **Invariant:** every accepted change rewrites its document's rows in the same SQLite
//! transaction as its chunk, so the projection never disagrees with durable documents.

pub mod dashboard;
pub mod record;
pub mod review;
mod rows;
mod tables;

pub use rows::{DocumentRows, date_of, join_heads};
pub use tables::{
    ProjectionUpdate, apply_update, check, dump, rebuild, rebuild_if_empty, record_batch,
    write_rows,
};
