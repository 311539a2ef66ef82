//! [`DataDirLock`]: one `serve` per data directory.
//!
//! Two servers on one database each believe they own every document: each compacts
//! documents to the snapshot *it* holds, deleting the chunks the other has just
//! acknowledged. So `serve` takes an exclusive lock (`flock`, through `File::try_lock`) on
//! `doorstep.lock` in the data directory before it opens the database, and holds it until
//! the process ends; the kernel releases it however the process ends, `kill -9` included.
//! The file records the holder (process id, address, start time, storage id) so that a
//! second `serve` can say who has the directory. Admin commands never take the lock: they
//! are short SQLite transactions beside the server, which SQLite's own locking serialises.
//!
//! The recorded storage id also guards against a fresh start over a lost database: if the
//! lock file says this directory served a database and the database file is gone, `serve`
//! (and the admin commands, which would otherwise create it) refuse to create an empty one in
//! its place, and `serve` refuses a database with another storage id (one created afresh
//! while the real one was missing); see [`DataDirLock::check_database_present`],
//! [`DataDirLock::check_storage_id`] and [`refuse_recreating`].

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use shared::model::CalendarDate;

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "doorstep.lock";

/// Why the data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another `serve` holds the directory.
    #[error(
        "another doorstep-server is already serving {dir}: {holder}; stop it first (admin commands may run beside it)"
    )]
    Held {
        /// The data directory.
        dir: PathBuf,
        /// Who holds it, as its lock file records.
        holder: String,
    },
    /// The lock file could not be created, read or written.
    #[error("cannot use the lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database file is not the one this directory served (another storage id).
    #[error(
        "the database {database} has storage id {found}, but {lock} records that this directory served storage {storage_id}; \
         restore that database (or delete {lock} to serve this one)"
    )]
    DatabaseReplaced {
        /// The database file.
        database: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The storage id the lock file recorded.
        storage_id: String,
        /// The storage id the database has.
        found: String,
    },
    /// The database this directory served has disappeared.
    #[error(
        "the database {database} is missing, but {lock} records that this directory served storage {storage_id}; \
         restore the database from a backup (or delete {lock} to start with an empty database)"
    )]
    DatabaseMissing {
        /// The database file expected.
        database: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The storage id the lock file recorded.
        storage_id: String,
    },
}

/// The exclusive lock on a data directory, held while it lives.
#[derive(Debug)]
pub struct DataDirLock {
    file: File,
    path: PathBuf,
    /// What the file said before this server took it (the last holder's record).
    previous: Holder,
}

/// What the lock file records about its holder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Holder {
    pid: Option<u32>,
    addr: Option<String>,
    started_ms: Option<i64>,
    storage_id: Option<String>,
}

impl DataDirLock {
    /// Creates the data directory if needed and takes its lock, without waiting.
    ///
    /// # Errors
    /// [`LockError::Held`] naming the holder if another process has it, or
    /// [`LockError::Io`] if the directory or file cannot be used.
    pub fn acquire(data_dir: &Path) -> Result<Self, LockError> {
        let path = data_dir.join(LOCK_FILE);
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(data_dir).map_err(io)?;
        // Never truncate on open: the holder's record must survive a failed attempt.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file).map_err(io)?;
                return Err(LockError::Held {
                    dir: data_dir.to_owned(),
                    holder: holder.describe(),
                });
            }
            Err(TryLockError::Error(source)) => return Err(io(source)),
        }
        let previous = read_holder(&mut file).map_err(io)?;
        Ok(Self {
            file,
            path,
            previous,
        })
    }

    /// Refuses to go on when the lock file says this directory served a database that is
    /// no longer there (so a restart never replaces a lost database with an empty one).
    ///
    /// # Errors
    /// [`LockError::DatabaseMissing`].
    pub fn check_database_present(&self, database: &Path) -> Result<(), LockError> {
        match &self.previous.storage_id {
            Some(storage_id) if !database.exists() => Err(LockError::DatabaseMissing {
                database: database.to_owned(),
                lock: self.path.clone(),
                storage_id: storage_id.clone(),
            }),
            _ => Ok(()),
        }
    }

    /// Refuses a database whose storage id is not the one this directory last served.
    ///
    /// # Errors
    /// [`LockError::DatabaseReplaced`].
    pub fn check_storage_id(&self, database: &Path, found: &str) -> Result<(), LockError> {
        match &self.previous.storage_id {
            Some(storage_id) if storage_id != found => Err(LockError::DatabaseReplaced {
                database: database.to_owned(),
                lock: self.path.clone(),
                storage_id: storage_id.clone(),
                found: found.to_owned(),
            }),
            _ => Ok(()),
        }
    }

    /// Records this process as the holder: its id, the address it serves, the storage id and
    /// when it started (`started_ms`, from the server's clock).
    ///
    /// # Errors
    /// [`LockError::Io`] if the file cannot be written.
    pub fn record(
        &mut self,
        addr: &str,
        storage_id: &str,
        started_ms: i64,
    ) -> Result<(), LockError> {
        let holder = Holder {
            pid: Some(std::process::id()),
            addr: Some(addr.to_owned()),
            started_ms: Some(started_ms),
            storage_id: Some(storage_id.to_owned()),
        };
        let text = holder.to_text();
        let written = self
            .file
            .set_len(0)
            .and_then(|()| self.file.seek(SeekFrom::Start(0)))
            .and_then(|_| self.file.write_all(text.as_bytes()))
            .and_then(|()| self.file.sync_all());
        written.map_err(|source| LockError::Io {
            path: self.path.clone(),
            source,
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Holder {
    fn to_text(&self) -> String {
        let mut text = String::new();
        let mut line = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                text.push_str(&format!("{key}={value}\n"));
            }
        };
        line("pid", self.pid.map(|pid| pid.to_string()));
        line("addr", self.addr.clone());
        line("started_ms", self.started_ms.map(|ms| ms.to_string()));
        line("storage_id", self.storage_id.clone());
        text
    }

    fn parse(text: &str) -> Self {
        let mut holder = Holder::default();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("pid", value)) => holder.pid = value.trim().parse().ok(),
                Some(("addr", value)) => holder.addr = Some(value.trim().to_owned()),
                Some(("started_ms", value)) => holder.started_ms = value.trim().parse().ok(),
                Some(("storage_id", value)) => holder.storage_id = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        holder
    }

    /// "process 1234 listening on 127.0.0.1:8080 since 2026-05-01 09:30:00 UTC".
    fn describe(&self) -> String {
        let pid = self
            .pid
            .map_or("a process".to_owned(), |pid| format!("process {pid}"));
        let addr = self
            .addr
            .as_ref()
            .map_or(String::new(), |addr| format!(" listening on {addr}"));
        let since = self
            .started_ms
            .map_or(String::new(), |ms| format!(" since {}", utc_time(ms)));
        format!("{pid}{addr}{since}")
    }
}

/// For commands that open the database without the lock (admin, seed-demo): refuses when
/// the database file `database` in `data_dir` is missing although the lock file records that
/// the directory served one, so that no command creates an empty database in its place.
///
/// # Errors
/// [`LockError::DatabaseMissing`].
pub fn refuse_recreating(data_dir: &Path, database: &Path) -> Result<(), LockError> {
    let path = data_dir.join(LOCK_FILE);
    if database.exists() {
        return Ok(());
    }
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    match Holder::parse(&text).storage_id {
        Some(storage_id) => Err(LockError::DatabaseMissing {
            database: database.to_owned(),
            lock: path,
            storage_id,
        }),
        None => Ok(()),
    }
}

fn read_holder(file: &mut File) -> std::io::Result<Holder> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))?;
    file.take(4096).read_to_string(&mut text)?;
    Ok(Holder::parse(&text))
}

/// `2026-05-01 09:30:00 UTC` for milliseconds since the epoch.
fn utc_time(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let date = CalendarDate::from_days_since_epoch(seconds.div_euclid(86_400))
        .map_or_else(|| "?".to_owned(), |date| date.to_string());
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{date} {:02}:{:02}:{:02} UTC",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_names_the_holder() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut first = DataDirLock::acquire(dir.path()).expect("first lock");
        first
            .record("127.0.0.1:8080", "abc", 1_700_000_000_000)
            .expect("record");
        // flock locks belong to the open file, so a second open in one process conflicts too.
        let err = DataDirLock::acquire(dir.path()).expect_err("second lock refused");
        let message = err.to_string();
        assert!(
            message.contains(&format!("process {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("127.0.0.1:8080"), "{message}");
        drop(first);
        let again = DataDirLock::acquire(dir.path()).expect("free after the holder ends");
        assert_eq!(again.previous.storage_id.as_deref(), Some("abc"));
    }

    #[test]
    fn a_lost_database_is_not_replaced_by_an_empty_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let database = dir.path().join("doorstep.sqlite3");
        let fresh = DataDirLock::acquire(dir.path()).expect("lock");
        fresh
            .check_database_present(&database)
            .expect("a new directory may create its database");
        let mut fresh = fresh;
        fresh
            .record("127.0.0.1:1", "abc", 1_700_000_000_000)
            .expect("record");
        drop(fresh);
        let restarted = DataDirLock::acquire(dir.path()).expect("lock");
        let err = restarted
            .check_database_present(&database)
            .expect_err("missing database refused");
        assert!(err.to_string().contains("storage abc"), "{err}");
        assert!(
            refuse_recreating(dir.path(), &database).is_err(),
            "admin commands refuse too"
        );
        std::fs::write(&database, b"").expect("restore");
        restarted
            .check_database_present(&database)
            .expect("present again");
        refuse_recreating(dir.path(), &database).expect("present");
        restarted
            .check_storage_id(&database, "abc")
            .expect("the same database");
        let err = restarted
            .check_storage_id(&database, "fresh")
            .expect_err("another database refused");
        assert!(err.to_string().contains("storage id fresh"), "{err}");
    }

    #[test]
    fn times_are_printed_in_utc() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
    }
}
