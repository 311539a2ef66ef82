//! `doorstep-server admin retention ...`: each child's retain-until date (D1), legal
//! holds, and deletion after retention (`directory::retention`). Every action names
//! its actor `admin-cli` in the audit log.

use std::io::Write;

use crate::directory::Connection;
use anyhow::Context;
use clap::Subcommand;
use shared::model::CalendarDate;
use shared::schedule::Jurisdiction;

use super::commands::parse_jurisdiction;
use crate::directory::retention::{self, ChildRetention};

const ACTOR: &str = "admin-cli";

/// Retention actions.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// List the records past their retain-until date (with `--all`, every record).
    Report {
        /// List every record, not only those past their date.
        #[arg(long)]
        all: bool,
        /// Whose retention rules apply: england, wales or scotland.
        #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
        jurisdiction: Jurisdiction,
    },
    /// Show one record's retain-until date, its basis and any legal hold.
    Show {
        /// The child's case reference.
        child_ref: String,
        /// Whose retention rules apply.
        #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
        jurisdiction: Jurisdiction,
    },
    /// Record the child's date of death (it decides retention if before 18).
    RecordDeath {
        /// The child's case reference.
        child_ref: String,
        /// The date of death, YYYY-MM-DD.
        #[arg(long)]
        date: String,
    },
    /// Place a legal hold: the record cannot be deleted until it is released.
    Hold {
        /// The child's case reference.
        child_ref: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Release a legal hold.
    Release {
        /// The child's case reference.
        child_ref: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
    /// Delete a record whose retention is over, from the store and from every device
    /// that still holds it; refused (and audited) before its date or under a hold.
    Delete {
        /// The child's case reference.
        child_ref: String,
        /// Why (required; kept in the tombstone).
        #[arg(long)]
        reason: String,
        /// Whose retention rules apply.
        #[arg(long, env = "DOORSTEP_JURISDICTION", default_value = "england", value_parser = parse_jurisdiction)]
        jurisdiction: Jurisdiction,
    },
    /// List the tombstones of deleted records (who, when, why, which documents).
    Deletions,
}

fn line(out: &mut impl Write, row: &ChildRetention) -> std::io::Result<()> {
    writeln!(
        out,
        "{}\t{}\t{}\t{}",
        row.child_ref,
        row.retain_until.as_deref().unwrap_or("no date of birth"),
        row.basis.as_deref().unwrap_or("-"),
        row.hold
            .as_deref()
            .map_or_else(|| "-".to_owned(), |reason| format!("held: {reason}"))
    )
}

/// Runs one retention command at the time `clock` reads once (the command line's clock).
///
/// # Errors
/// A refusal ([`retention::RetentionError`]) or the database's error.
pub fn run(
    conn: &mut Connection,
    command: RetentionCommand,
    out: &mut impl Write,
    clock: &crate::clock::Clock,
) -> anyhow::Result<()> {
    let now = clock.now_ms();
    let today = shared::model::uk_civil_date(u64::try_from(now).unwrap_or(0));
    match command {
        RetentionCommand::Report { all, jurisdiction } => {
            let rows = retention::report(conn, jurisdiction, today, !all)?;
            writeln!(out, "child_ref\tretain_until\tbasis\thold")?;
            for row in &rows {
                line(out, row)?;
            }
            if rows.is_empty() && !all {
                writeln!(out, "No record is past its retention date.")?;
            }
        }
        RetentionCommand::Show {
            child_ref,
            jurisdiction,
        } => line(
            out,
            &retention::retention_of(conn, &child_ref, jurisdiction)?,
        )?,
        RetentionCommand::RecordDeath { child_ref, date } => {
            let date =
                CalendarDate::parse(&date).context("the date of death must be YYYY-MM-DD")?;
            retention::record_death(conn, &child_ref, Some(date), ACTOR, now)?;
            writeln!(out, "Recorded {child_ref}'s date of death as {date}.")?;
        }
        RetentionCommand::Hold { child_ref, reason } => {
            retention::hold(conn, &child_ref, &reason, ACTOR, now)?;
            writeln!(out, "Placed a legal hold on {child_ref}.")?;
        }
        RetentionCommand::Release { child_ref, reason } => {
            retention::release(conn, &child_ref, &reason, ACTOR, now)?;
            writeln!(out, "Released the legal hold on {child_ref}.")?;
        }
        RetentionCommand::Delete {
            child_ref,
            reason,
            jurisdiction,
        } => {
            let tombstone = retention::delete_child(
                conn,
                &child_ref,
                &reason,
                jurisdiction,
                today,
                ACTOR,
                now,
            )?;
            writeln!(
                out,
                "Deleted {child_ref}'s record: {} document(s); the devices of {} account(s) \
                 will delete their copies when they next connect.",
                tombstone.documents.len(),
                tombstone.notified
            )?;
        }
        RetentionCommand::Deletions => {
            serde_json::to_writer_pretty(&mut *out, &retention::deletions(conn)?)?;
            writeln!(out)?;
        }
    }
    Ok(())
}
