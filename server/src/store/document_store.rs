//! [`DocumentStore`]: automerge documents as chunks in the database, SQLite (one file in
//! WAL mode, the default) or PostgreSQL, through the dialect layer (`store::sql`).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::sql::{Connection, OptionalExtension, params};
use shared::DocumentId;
use shared::sync::{
    DocumentIndex, IoResult, StorageOutcome, StorageTask, StorageTaskKind, StoredChunks,
};
use tracing::{error, trace};

use super::database_files::storage_fault;
use super::{Database, DatabaseFiles, StoreError, migrations};
use crate::directory::audit::{AuditEntry, append_audit};
use crate::health::Health;
use crate::projection::{ProjectionUpdate, apply_update};

/// The PostgreSQL advisory lock a serving server holds on its storage connection.
const SERVE_LOCK: i64 = 0x646f_6f72_7365_7276;

/// The database file's name inside the data directory.
pub const DATABASE_FILE: &str = "doorstep.sqlite3";

/// The database holding every document.
pub struct DocumentStore {
    conn: Connection,
    database: Database,
    /// The server's health: checked before and after each commit, told of write faults.
    /// `None` for tools and tests that use the store alone.
    health: Option<Arc<Health>>,
    /// Set by a test (`InjectedFaults`) to make the storage thread panic at its next batch.
    panic_at_next_batch: Option<Arc<AtomicBool>>,
    /// The time stamped on chunks and index rows: the server's clock.
    clock: crate::clock::Clock,
}

impl DocumentStore {
    /// Opens (creating if needed) the database in `data_dir` and migrates it; what it writes
    /// is stamped with `clock`'s time (the server's one clock).
    ///
    /// # Errors
    /// [`StoreError`] if the directory or database cannot be opened or migrated.
    pub fn open(data_dir: &Path, clock: crate::clock::Clock) -> Result<Self, StoreError> {
        let (conn, path) = Self::open_database(data_dir)?;
        Ok(Self {
            conn,
            database: Database::Sqlite(path),
            health: None,
            panic_at_next_batch: None,
            clock,
        })
    }

    /// Opens the PostgreSQL database at `url` and migrates it (other replicas may be doing
    /// the same: one migrates, the others wait); what it writes is stamped with `clock`'s
    /// time. Blocks: call it off the async reactor.
    ///
    /// # Errors
    /// [`StoreError`] if it cannot connect or migrate.
    pub fn open_postgres(url: &str, clock: crate::clock::Clock) -> Result<Self, StoreError> {
        let conn = Self::open_postgres_database(url)?;
        take_serve_lock(&conn)?;
        Ok(Self {
            conn,
            database: Database::Postgres(url.to_owned()),
            health: None,
            panic_at_next_batch: None,
            clock,
        })
    }

    /// A migrated connection to the PostgreSQL database at `url` (for administration).
    ///
    /// # Errors
    /// As [`DocumentStore::open_postgres`].
    pub(crate) fn open_postgres_database(url: &str) -> Result<Connection, StoreError> {
        let mut client = super::database::connect_postgres(url)?;
        super::postgres_migrations::apply(&mut client)?;
        drop(client);
        Connection::postgres(url)
    }

    /// The connection [`DocumentStore::open`] makes, and the database file's path, without a
    /// store around it (for administration, which stamps its own times).
    ///
    /// # Errors
    /// As [`DocumentStore::open`].
    pub(crate) fn open_database(data_dir: &Path) -> Result<(Connection, PathBuf), StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let mut sqlite = rusqlite::Connection::open(&path)?;
        // WAL lets readers run beside the writer; FULL makes each commit survive power loss.
        sqlite.pragma_update(None, "journal_mode", "WAL")?;
        sqlite.pragma_update(None, "synchronous", "FULL")?;
        sqlite.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted content is zeroed, not left in free pages: a compaction's old chunks, a
        // record deleted after retention or expunged are gone from the file.
        sqlite.pragma_update(None, "secure_delete", true)?;
        sqlite.busy_handler(Some(super::connection_pool::poll_lock))?;
        migrations::apply(&mut sqlite)?;
        Ok((Connection::from(sqlite), path))
    }

    /// The identity of the database files as they are now (taken once, at start).
    ///
    /// # Errors
    /// The OS error if the database file cannot be examined.
    pub(crate) fn files(&self) -> std::io::Result<Option<DatabaseFiles>> {
        match &self.database {
            Database::Sqlite(path) => DatabaseFiles::of(path).map(Some),
            Database::Postgres(_) => Ok(None),
        }
    }

    /// Reports to `health` from now on: no batch is committed while the database files are
    /// not the ones opened at start, and storage faults are recorded.
    pub(crate) fn watch(&mut self, health: Arc<Health>) {
        self.health = Some(health);
    }

    /// The health this store reports to, if any.
    pub(super) fn health(&self) -> Option<Arc<Health>> {
        self.health.clone()
    }

    /// For tests: the storage thread panics at its next batch once `flag` is set.
    pub(crate) fn panic_when(&mut self, flag: Arc<AtomicBool>) {
        self.panic_at_next_batch = Some(flag);
    }

    /// Whether a test asked for a panic (see [`DocumentStore::panic_when`]).
    pub(super) fn panic_requested(&self) -> bool {
        self.panic_at_next_batch
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }

    /// Whether a write fault is standing, so the storage thread should probe.
    pub(super) fn has_write_fault(&self) -> bool {
        self.health.as_ref().is_some_and(|h| h.has_write_fault())
    }

    /// Tries a tiny write (while a write fault stands), telling health how it went. A lost
    /// PostgreSQL connection is opened again first, and the server's lock on the database
    /// taken again (if another server took it meanwhile, writes keep failing).
    pub(super) fn probe_write(&mut self) {
        let Some(health) = &self.health else { return };
        if health.files().is_err() {
            return;
        }
        let reconnected = self.conn.reconnect().and_then(|fresh| {
            if fresh {
                tracing::info!("reconnected to PostgreSQL");
                take_serve_lock(&self.conn)?;
            }
            Ok(())
        });
        if let Err(err) = reconnected {
            if let Some(fault) = storage_fault(&err) {
                health.write_failed(fault);
            }
            return;
        }
        let probed = self
            .conn
            .transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)
            .and_then(|tx| {
                tx.execute(
                    "INSERT INTO server_meta (key, value) VALUES ('health_probe', ?1)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    [self.clock.now_ms().to_string()],
                )?;
                tx.commit()
            });
        match probed {
            Ok(()) => health.write_succeeded(),
            Err(err) => {
                if let Some(fault) = storage_fault(&err) {
                    health.write_failed(fault);
                }
            }
        }
    }

    /// Tells health when the PostgreSQL connection is gone while nothing is being written
    /// (the server noticed it closing), so `/healthz` says so before a write fails.
    pub(super) fn note_lost_connection(&self) {
        if let Some(health) = &self.health
            && self.conn.is_lost()
        {
            health.write_failed("database connection lost");
        }
    }

    /// Records a storage fault shown by `err`, if it is one.
    fn note_failure(&self, err: &StoreError) {
        note_failure(self.health.as_deref(), err);
    }

    /// Gives up the store, keeping its (migrated) connection.
    pub fn into_connection(self) -> Connection {
        self.conn
    }

    /// Where the store keeps its data.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The storage id this server announces to peers.
    ///
    /// # Errors
    /// The database's error if it cannot be read.
    pub fn storage_id(&self) -> Result<String, StoreError> {
        self.conn.query_row(
            "SELECT value FROM server_meta WHERE key = 'storage_id'",
            [],
            |row| row.get(0),
        )
    }

    /// Runs a batch of tasks in one transaction (a group commit) and reports each.
    ///
    /// Writes are reported `Written` only after the commit; if the commit fails,
    /// every write in the batch is reported failed. A task's projection update is written
    /// in the task's own savepoint: the change and its rows commit together or not at all.
    pub fn run_batch(
        &mut self,
        tasks: Vec<(StorageTask, Option<ProjectionUpdate>)>,
        audit: &[AuditEntry],
    ) -> Vec<IoResult> {
        // Never write into a file that is no longer the database (removed or replaced):
        // the commit would succeed into an unlinked inode and be lost. Loads fail too: the
        // old file is not what a restarted server will find.
        if let Some(Err(fault)) = self.health.as_ref().map(|health| health.files()) {
            if !audit.is_empty() {
                error!(rows = audit.len(), %fault, "audit rows not written: storage failing");
            }
            let cause = format!("storage unavailable: {fault}");
            return fail_all(tasks.iter().map(|(task, _)| task), &cause);
        }
        // IMMEDIATE: take the write lock at the start, so a batch that reads before it
        // writes never fails to upgrade when another connection wrote in between.
        let now = self.clock.now_ms();
        let mut started = match self
            .conn
            .transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)
        {
            Ok(tx) => tx,
            Err(err) => {
                note_failure(self.health.as_deref(), &err);
                return fail_all(tasks.iter().map(|(task, _)| task), &err.to_string());
            }
        };
        let mut faults = Vec::new();
        let mut results = Vec::with_capacity(tasks.len());
        let mut writes = 0;
        for (task, projection) in &tasks {
            // Each task runs in a savepoint, so a failed one leaves nothing half-written
            // while the rest of the batch still commits.
            let outcome = match started.savepoint() {
                Ok(savepoint) => match run_task(&savepoint, task, now).and_then(|outcome| {
                    match (&outcome, projection) {
                        (StorageOutcome::Written, Some(update)) => {
                            apply_update(&savepoint, &task.document, update).map(|()| outcome)
                        }
                        _ => Ok(outcome),
                    }
                }) {
                    Ok(StorageOutcome::Failed(cause)) => {
                        error!(document = %task.document, %cause, "storage task failed");
                        StorageOutcome::Failed(cause)
                    }
                    Ok(outcome) => match savepoint.commit() {
                        Ok(()) => outcome,
                        Err(err) => {
                            let failed = StorageOutcome::Failed(err.to_string());
                            faults.push(err);
                            failed
                        }
                    },
                    Err(err) => {
                        error!(document = %task.document, cause = %err, "storage task failed");
                        let failed = StorageOutcome::Failed(err.to_string());
                        faults.push(err);
                        failed
                    }
                },
                Err(err) => StorageOutcome::Failed(err.to_string()),
            };
            if matches!(outcome, StorageOutcome::Written) {
                writes += 1;
            }
            results.push(IoResult {
                task: task.id,
                outcome,
            });
        }
        let mut audited = 0;
        for entry in audit {
            match append_audit(&started, entry) {
                Ok(()) => audited += 1,
                Err(err) => {
                    error!(cause = %err, action = %entry.action, "audit row not written");
                    faults.push(err);
                }
            }
        }
        let committed = started.commit();
        for err in &faults {
            self.note_failure(err);
        }
        let failure = match (committed, self.health.as_ref().map(|h| h.files())) {
            (Err(err), _) => {
                error!(cause = %err, writes, "group commit failed");
                self.note_failure(&err);
                Some(format!("commit failed: {err}"))
            }
            // Removed while the batch ran: it committed into the old file, which a
            // restart will not find. Nobody is told it was stored; peers send it again.
            (Ok(()), Some(Err(fault))) => {
                error!(%fault, writes, "group commit went to a removed database file");
                Some(format!("storage unavailable: {fault}"))
            }
            (Ok(()), _) => {
                trace!(tasks = tasks.len(), writes, "group commit");
                if (writes > 0 || audited > 0)
                    && faults.is_empty()
                    && let Some(health) = &self.health
                {
                    health.write_succeeded();
                }
                None
            }
        };
        if let Some(failure) = failure {
            for result in &mut results {
                if result.outcome == StorageOutcome::Written {
                    result.outcome = StorageOutcome::Failed(failure.clone());
                }
            }
        }
        results
    }

    /// Reads every chunk of one document (used by tools and tests).
    ///
    /// # Errors
    /// The database's error if the read fails.
    pub fn load(&self, document: &DocumentId) -> Result<Option<StoredChunks>, StoreError> {
        load(&self.conn, document)
    }

    /// Every document id stored.
    ///
    /// # Errors
    /// The database's error if the read fails.
    pub fn document_ids(&self) -> Result<Vec<DocumentId>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT document_id FROM document_chunks ORDER BY document_id")?;
        let ids = stmt
            .query_map([], |row| row.get::<_, Vec<u8>>(0))?
            .filter_map(|bytes| bytes.ok()?.try_into().ok().map(DocumentId::from_bytes))
            .collect();
        Ok(ids)
    }

    /// Runs SQLite's full integrity check; `Ok(())` when the file is sound.
    ///
    /// # Errors
    /// [`StoreError::Sqlite`] if the check cannot run; `Ok(Err(report))` if it found damage.
    pub fn integrity_check(&self) -> Result<Result<(), String>, StoreError> {
        let report: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))?;
        Ok(if report == "ok" { Ok(()) } else { Err(report) })
    }

    /// Checkpoints SQLite's WAL into the main file (on shutdown; PostgreSQL's is the
    /// cluster's).
    ///
    /// # Errors
    /// SQLite's error if the checkpoint fails.
    pub fn checkpoint(&self) -> Result<(), StoreError> {
        if let Some(sqlite) = self.conn.sqlite() {
            sqlite.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        }
        Ok(())
    }
}

/// Takes the lock a serving server holds on a PostgreSQL database: one server per
/// database until replicas keep each other informed (a second would never hear of the
/// first one's changes, and its compactions could remove chunks it never read). The lock is
/// the storage connection's session's, so it goes with it (a killed server releases it).
fn take_serve_lock(conn: &Connection) -> Result<(), StoreError> {
    let only_server: bool =
        conn.query_row("SELECT pg_try_advisory_lock(?1)", [SERVE_LOCK], |row| {
            row.get(0)
        })?;
    if only_server {
        Ok(())
    } else {
        Err(StoreError::DatabaseInUse)
    }
}

/// Tells `health` of the storage fault `err` shows, if it is one.
fn note_failure(health: Option<&Health>, err: &StoreError) {
    if let (Some(health), Some(fault)) = (health, storage_fault(err)) {
        health.write_failed(fault);
    }
}

fn fail_all<'a>(tasks: impl Iterator<Item = &'a StorageTask>, cause: &str) -> Vec<IoResult> {
    tasks
        .map(|task| IoResult {
            task: task.id,
            outcome: StorageOutcome::Failed(cause.to_owned()),
        })
        .collect()
}

fn run_task(
    tx: &Connection,
    task: &StorageTask,
    now: i64,
) -> crate::store::sql::Result<StorageOutcome> {
    let document = task.document.as_bytes().as_slice();
    match &task.kind {
        StorageTaskKind::Load => Ok(StorageOutcome::Loaded(load(tx, &task.document)?)),
        StorageTaskKind::Append { changes, index } => {
            tx.prepare_cached(
                "INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES (?1, 'changes', ?2, ?3)",
            )?
            .execute(params![document, changes, now])?;
            if let Some(index) = index {
                // A new visit: index it under its child in the same transaction, so it is
                // never stored without an owner. `childId` is the child's case reference.
                // A stored visit moved by a manager (`SyncCore::refile`) is filed under its
                // new child, keeping who created it and when.
                let indexed = tx
                    .prepare_cached(
                        "INSERT INTO child_documents (document_id, child_id, kind, created_by, created_at)
                         SELECT ?1, child_id, 'visit',
                                (SELECT worker_id FROM workers WHERE username = ?4), ?3
                         FROM children WHERE child_ref = ?2
                         ON CONFLICT (document_id) DO UPDATE SET child_id = excluded.child_id",
                    )?
                    .execute(params![
                        document,
                        index.child_id,
                        now,
                        index.created_by
                    ])?;
                if indexed != 1 {
                    return Ok(StorageOutcome::Failed(format!(
                        "no child {} to index the new document under",
                        index.child_id
                    )));
                }
            }
            Ok(StorageOutcome::Written)
        }
        StorageTaskKind::Compact { snapshot } => {
            tx.prepare_cached("DELETE FROM document_chunks WHERE document_id = ?1")?
                .execute(params![document])?;
            tx.prepare_cached(
                "INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES (?1, 'snapshot', ?2, ?3)",
            )?
            .execute(params![document, snapshot, now])?;
            Ok(StorageOutcome::Written)
        }
    }
}

/// Stores a whole document as its one snapshot chunk, inside the caller's transaction (an
/// expunge's new lineage, built by the hub and stored with its correction).
///
/// # Errors
/// The database's error.
pub fn insert_snapshot(
    conn: &Connection,
    document: &DocumentId,
    snapshot: &[u8],
    now: i64,
) -> crate::store::sql::Result<()> {
    conn.prepare_cached(
        "INSERT INTO document_chunks (document_id, kind, data, written_at) VALUES (?1, 'snapshot', ?2, ?3)",
    )?
    .execute(params![document.as_bytes().as_slice(), snapshot, now])?;
    Ok(())
}

/// Where the server's own index (`child_documents`) places a document: the child's
/// reference and its creator's username.
///
/// # Errors
/// The database's error.
pub fn index_of(
    conn: &Connection,
    document: &[u8],
) -> crate::store::sql::Result<Option<DocumentIndex>> {
    conn.prepare_cached(
        "SELECT c.child_ref, w.username FROM child_documents cd
         JOIN children c ON c.child_id = cd.child_id
         LEFT JOIN workers w ON w.worker_id = cd.created_by
         WHERE cd.document_id = ?1",
    )?
    .query_row([document], |row| {
        Ok(DocumentIndex {
            child_id: row.get(0)?,
            created_by: row.get(1)?,
        })
    })
    .optional()
}

fn load(
    conn: &Connection,
    document: &DocumentId,
) -> crate::store::sql::Result<Option<StoredChunks>> {
    let mut stmt =
        conn.prepare_cached("SELECT data FROM document_chunks WHERE document_id = ?1 ORDER BY id")?;
    let mut rows = stmt.query(params![document.as_bytes().as_slice()])?;
    let mut bytes = Vec::new();
    let mut count = 0;
    while let Some(row) = rows.next()? {
        bytes.extend_from_slice(row.get_ref(0)?.as_blob()?);
        count += 1;
    }
    if count == 0 {
        return Ok(None);
    }
    let index = index_of(conn, document.as_bytes())?;
    Ok(Some(StoredChunks {
        bytes,
        count,
        index,
    }))
}

/// Whether a table exists (used by tests of the migrations).
#[cfg(test)]
fn has_table(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get::<_, String>(0),
    )
    .optional()
    .ok()
    .flatten()
    .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::sync::TaskId;

    fn task(
        id: u64,
        document: DocumentId,
        kind: StorageTaskKind,
    ) -> (StorageTask, Option<ProjectionUpdate>) {
        let task = StorageTask {
            id: TaskId(id),
            document,
            kind,
        };
        (task, None)
    }

    #[test]
    fn appends_load_in_order_and_compaction_replaces_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store =
            DocumentStore::open(dir.path(), crate::clock::Clock::fixed(1_700_000_000_000))
                .expect("open");
        assert!(has_table(&store.conn, "document_chunks"));
        let doc = DocumentId::from_bytes([1; 16]);
        let results = store.run_batch(
            vec![
                task(
                    1,
                    doc,
                    StorageTaskKind::Append {
                        changes: vec![1, 2],
                        index: None,
                    },
                ),
                task(
                    2,
                    doc,
                    StorageTaskKind::Append {
                        changes: vec![3],
                        index: None,
                    },
                ),
                task(3, doc, StorageTaskKind::Load),
            ],
            &[],
        );
        assert_eq!(results[0].outcome, StorageOutcome::Written);
        assert_eq!(
            results[2].outcome,
            StorageOutcome::Loaded(Some(StoredChunks {
                bytes: vec![1, 2, 3],
                count: 2,
                index: None,
            }))
        );
        store.run_batch(
            vec![task(4, doc, StorageTaskKind::Compact { snapshot: vec![9] })],
            &[],
        );
        assert_eq!(
            store.load(&doc).expect("load"),
            Some(StoredChunks {
                bytes: vec![9],
                count: 1,
                index: None,
            })
        );
        assert_eq!(store.document_ids().expect("ids"), vec![doc]);
    }

    #[test]
    fn reopening_keeps_data_and_storage_id() {
        let dir = tempfile::tempdir().expect("tempdir");
        let doc = DocumentId::from_bytes([2; 16]);
        let id = {
            let mut store =
                DocumentStore::open(dir.path(), crate::clock::Clock::fixed(1_700_000_000_000))
                    .expect("open");
            store.run_batch(
                vec![task(
                    1,
                    doc,
                    StorageTaskKind::Append {
                        changes: vec![7],
                        index: None,
                    },
                )],
                &[],
            );
            store.storage_id().expect("storage id")
        };
        let store = DocumentStore::open(dir.path(), crate::clock::Clock::fixed(1_700_000_000_000))
            .expect("reopen");
        assert_eq!(store.storage_id().expect("storage id"), id);
        assert_eq!(
            store.load(&doc).expect("load").map(|c| c.bytes),
            Some(vec![7])
        );
    }

    #[test]
    fn a_database_from_a_newer_release_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(
            DocumentStore::open(dir.path(), crate::clock::Clock::fixed(1_700_000_000_000))
                .expect("open"),
        );
        let conn = rusqlite::Connection::open(dir.path().join(DATABASE_FILE)).expect("raw open");
        conn.execute("INSERT INTO schema_migrations (version) VALUES (99)", [])
            .expect("a migration this release does not know");
        drop(conn);
        assert!(matches!(
            DocumentStore::open(dir.path(), crate::clock::Clock::fixed(1_700_000_000_000)),
            Err(StoreError::SchemaTooNew { found: 99, .. })
        ));
    }
}
