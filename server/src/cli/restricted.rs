//! `doorstep-server admin restricted ...`: marking a child restricted, naming the people
//! who may still see it, and listing restricted children (`directory::restricted`; who
//! then sees what is `directory::access`'s). Every action names its actor `admin-cli` in
//! the audit log.

use std::io::Write;

use clap::Subcommand;

use crate::directory::Connection;
use crate::directory::restricted;

const ACTOR: &str = "admin-cli";

/// Restricted-record actions.
#[derive(Debug, Subcommand)]
pub enum RestrictedCommand {
    /// Restrict a child: only its allocated social worker and the people named for it see
    /// it; anyone else of its team must break the glass, with a reason.
    Mark {
        /// The child's case reference.
        child_ref: String,
        /// Why (required; audited).
        #[arg(long)]
        reason: String,
    },
    /// Lift a child's restriction (the names go with it).
    Unmark {
        /// The child's case reference.
        child_ref: String,
        /// Why (required; audited).
        #[arg(long)]
        reason: String,
    },
    /// Name a person who may see a restricted child (within what their role allows).
    Name {
        /// The child's case reference.
        child_ref: String,
        /// The person's username.
        username: String,
    },
    /// Take a person's name off a restricted child.
    Unname {
        /// The child's case reference.
        child_ref: String,
        /// The person's username.
        username: String,
    },
    /// List the restricted children and who is named for each.
    List,
}

/// Runs one command at `now` (the command line's clock, read once).
///
/// # Errors
/// A refusal ([`restricted::RestrictionError`]) or the database's error.
pub fn run(
    conn: &mut Connection,
    command: RestrictedCommand,
    out: &mut impl Write,
    now: i64,
) -> anyhow::Result<()> {
    match command {
        RestrictedCommand::Mark { child_ref, reason } => {
            restricted::restrict(conn, &child_ref, &reason, ACTOR, now)?;
            writeln!(out, "Restricted {child_ref}.")?;
        }
        RestrictedCommand::Unmark { child_ref, reason } => {
            restricted::unrestrict(conn, &child_ref, &reason, ACTOR, now)?;
            writeln!(out, "Lifted the restriction on {child_ref}.")?;
        }
        RestrictedCommand::Name {
            child_ref,
            username,
        } => {
            restricted::set_named(conn, &child_ref, &username, true, ACTOR, now)?;
            writeln!(out, "Named {username} for {child_ref}.")?;
        }
        RestrictedCommand::Unname {
            child_ref,
            username,
        } => {
            restricted::set_named(conn, &child_ref, &username, false, ACTOR, now)?;
            writeln!(out, "Took {username}'s name off {child_ref}.")?;
        }
        RestrictedCommand::List => {
            writeln!(out, "child_ref\treason\tnamed")?;
            for child in restricted::list(conn)? {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    child.child_ref,
                    child.reason,
                    if child.named.is_empty() {
                        "-".to_owned()
                    } else {
                        child.named.join(",")
                    }
                )?;
            }
        }
    }
    Ok(())
}
