//! [`DatabaseFiles`]: whether the files SQLite has open are still the files at their paths.
//!
//! SQLite keeps its file descriptors: delete `doorstep.sqlite3` (or its `-wal`) under a
//! running server and every later commit succeeds, fsync and all, into an unlinked inode
//! that disappears when the server stops. So the identity (device and inode) of the
//! database and its write-ahead log is taken once, right after the database is opened at
//! start, and compared with what the paths name now: a `stat` of each path, which costs
//! microseconds. (The files are never opened outside SQLite: closing any descriptor of a
//! file drops every POSIX lock the process holds on it, SQLite's included.)
//!
//! While SQLite has the files open their inodes cannot be reused, so a different inode at
//! the path means the file was removed or replaced.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::StoreError;

/// A file's device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    fn of(path: &Path) -> std::io::Result<Self> {
        let meta = std::fs::metadata(path)?;
        Ok(Self {
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }
}

/// The database file and its write-ahead log as they were when the server opened them.
#[derive(Debug, Clone)]
pub struct DatabaseFiles {
    database: PathBuf,
    database_id: FileId,
    wal: PathBuf,
    /// `None` if there was no log at start (then it is not checked).
    wal_id: Option<FileId>,
}

impl DatabaseFiles {
    /// Records the identity of `database` and `database-wal` now.
    ///
    /// # Errors
    /// The OS error if the database file cannot be examined.
    pub fn of(database: &Path) -> std::io::Result<Self> {
        let mut wal = database.as_os_str().to_owned();
        wal.push("-wal");
        let wal = PathBuf::from(wal);
        Ok(Self {
            database: database.to_owned(),
            database_id: FileId::of(database)?,
            wal_id: FileId::of(&wal).ok(),
            wal,
        })
    }

    /// `Ok(())` while the paths still name the files opened at start, else what happened
    /// (e.g. "database file removed").
    ///
    /// # Errors
    /// The fault, as a short phrase for `/healthz` and the logs.
    pub fn check(&self) -> Result<(), &'static str> {
        match FileId::of(&self.database) {
            Ok(id) if id == self.database_id => {}
            Ok(_) => return Err("database file replaced"),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err("database file removed");
            }
            Err(_) => return Err("database file cannot be examined"),
        }
        if let Some(wal_id) = self.wal_id {
            match FileId::of(&self.wal) {
                Ok(id) if id == wal_id => {}
                Ok(_) => return Err("database write-ahead log replaced"),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    return Err("database write-ahead log removed");
                }
                Err(_) => return Err("database write-ahead log cannot be examined"),
            }
        }
        Ok(())
    }
}

/// Whether an error means the storage itself is failing (SQLite: disk full, read-only,
/// I/O; PostgreSQL: the connection lost), rather than something about one statement;
/// `Some` names it.
pub fn storage_fault(err: &StoreError) -> Option<&'static str> {
    use rusqlite::ErrorCode;
    let err = match err {
        StoreError::Sqlite(err) => err,
        StoreError::Postgres(err) => {
            // Closed, never reached (no answer from the server), or the server shutting down
            // or out of connections (SQLSTATE classes 08, 57P, 53).
            let lost = err.is_closed()
                || err.as_db_error().is_none_or(|db| {
                    let code = db.code().code();
                    code.starts_with("08") || code.starts_with("57P") || code.starts_with("53")
                });
            return lost.then_some("database connection lost");
        }
        StoreError::DatabaseInUse => return Some("another server took the database"),
        _ => return None,
    };
    match err.sqlite_error_code()? {
        ErrorCode::DiskFull => Some("disk full"),
        ErrorCode::ReadOnly => Some("database is read-only"),
        ErrorCode::SystemIoFailure => Some("disk I/O error"),
        ErrorCode::CannotOpen => Some("database file cannot be opened"),
        ErrorCode::PermissionDenied => Some("database file permission denied"),
        ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => Some("database file damaged"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_or_replacing_the_database_or_its_log_is_noticed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("db");
        let wal = dir.path().join("db-wal");
        std::fs::write(&database, b"x").expect("db");
        std::fs::write(&wal, b"x").expect("wal");
        let files = DatabaseFiles::of(&database).expect("identity");
        assert_eq!(files.check(), Ok(()));

        std::fs::rename(&wal, dir.path().join("moved")).expect("move the log away");
        assert_eq!(files.check(), Err("database write-ahead log removed"));
        std::fs::rename(dir.path().join("moved"), &wal).expect("move it back");
        assert_eq!(files.check(), Ok(()), "the same file back is fine");

        std::fs::rename(&database, dir.path().join("old")).expect("move the db away");
        assert_eq!(files.check(), Err("database file removed"));
        std::fs::write(&database, b"x").expect("a new file at the path");
        assert_eq!(files.check(), Err("database file replaced"));
    }
}
