//! The dialect layer: one connection type, [`Connection`], over SQLite (rusqlite) or
//! PostgreSQL (the `postgres` crate), in rusqlite's shape (`execute`, `query_row`,
//! `prepare_cached` and a [`Statement`]'s `query_map`, [`OptionalExtension::optional`],
//! [`params!`], transactions and savepoints), so the SQL of `store`, `directory` and
//! `projection` is written once, in the subset both databases understand, and behaves the
//! same on either.
//!
//! Statements are written with SQLite's numbered placeholders (`?1`, `?2`; a bare `?` takes
//! the next number); for PostgreSQL they become `$1`, `$2` (outside quoted text), once per
//! statement text. Values cross as SQLite stores them ([`ValueRef`]: integers as `i64`,
//! reals, text, blobs, NULL); the PostgreSQL schema (`store/postgres_migrations/`) uses
//! BIGINT, DOUBLE PRECISION, TEXT and BYTEA for them, and a parameter is converted to the
//! type PostgreSQL says its placeholder has.
//!
//! Errors are [`StoreError`]: the database's own (`Sqlite`, `Postgres`), a query that
//! returned no row (`NoRows`, which [`OptionalExtension::optional`] turns into `None`), and
//! a column that does not hold the type asked for (`Conversion`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use super::StoreError;

/// The dialect layer's result.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// A value as SQLite stores it, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// NULL.
    Null,
    /// A 64-bit integer (also booleans, as 0 and 1).
    Integer(i64),
    /// A double.
    Real(f64),
    /// UTF-8 text.
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The text, or a conversion error.
    ///
    /// # Errors
    /// [`StoreError::Conversion`] for anything but text.
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            ValueRef::Text(text) => Ok(text),
            other => Err(StoreError::Conversion {
                column: 0,
                message: mismatch("text", other),
            }),
        }
    }

    /// The bytes, or a conversion error.
    ///
    /// # Errors
    /// [`StoreError::Conversion`] for anything but a blob.
    pub fn as_blob(&self) -> Result<&'a [u8]> {
        match *self {
            ValueRef::Blob(bytes) => Ok(bytes),
            other => Err(StoreError::Conversion {
                column: 0,
                message: mismatch("a blob", other),
            }),
        }
    }
}

/// A Rust value that can be bound to a placeholder.
pub trait ToSql {
    /// The value to bind.
    fn to_sql(&self) -> ValueRef<'_>;
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        match self {
            Some(value) => value.to_sql(),
            None => ValueRef::Null,
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for Box<T> {
    fn to_sql(&self) -> ValueRef<'_> {
        (**self).to_sql()
    }
}

macro_rules! integer_to_sql {
    ($($ty:ty),*) => {$(
        impl ToSql for $ty {
            fn to_sql(&self) -> ValueRef<'_> {
                ValueRef::Integer(i64::from(*self))
            }
        }
    )*};
}
integer_to_sql!(i64, i32, i16, i8, u32, u16, u8, bool);

impl ToSql for usize {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToSql for u64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}

impl ToSql for f64 {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToSql for str {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for String {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for [u8] {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl<const N: usize> ToSql for [u8; N] {
    fn to_sql(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for ValueRef<'_> {
    fn to_sql(&self) -> ValueRef<'_> {
        *self
    }
}

/// The parameters of one statement.
pub trait Params {
    /// The values, in placeholder order.
    fn values(&self) -> Vec<ValueRef<'_>>;
}

impl Params for () {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}

impl Params for [&dyn ToSql; 0] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        Vec::new()
    }
}

impl<T: ToSql> Params for &[T] {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToSql::to_sql).collect()
    }
}

impl<T: ToSql> Params for Vec<T> {
    fn values(&self) -> Vec<ValueRef<'_>> {
        self.iter().map(ToSql::to_sql).collect()
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(ToSql::to_sql).collect()
            }
        }
        impl<T: ToSql> Params for &[T; $n] {
            fn values(&self) -> Vec<ValueRef<'_>> {
                self.iter().map(ToSql::to_sql).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// Parameters of different types, as rusqlite's `params!`: `params![a, b, c]`.
#[macro_export]
macro_rules! sql_params {
    () => {
        &[] as &[&dyn $crate::sql::ToSql]
    };
    ($($param:expr),+ $(,)?) => {
        &[$(&$param as &dyn $crate::sql::ToSql),+] as &[&dyn $crate::sql::ToSql]
    };
}
#[allow(unused_imports)]
pub use crate::sql_params as params;

/// A Rust value that can be read from a column.
pub trait FromSql: Sized {
    /// Reads it, or says why the value does not fit.
    ///
    /// # Errors
    /// A description of the mismatch.
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String>;
}

fn mismatch(wanted: &str, value: ValueRef<'_>) -> String {
    let found = match value {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    };
    format!("wanted {wanted}, found {found}")
}

impl FromSql for i64 {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Integer(n) => Ok(n),
            other => Err(mismatch("an integer", other)),
        }
    }
}

macro_rules! narrow_integer_from_sql {
    ($($ty:ty),*) => {$(
        impl FromSql for $ty {
            fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
                let wide = i64::from_sql(value)?;
                <$ty>::try_from(wide).map_err(|_| format!("{wide} is out of range"))
            }
        }
    )*};
}
narrow_integer_from_sql!(i32, i16, u32, u16, u8, u64, usize);

impl FromSql for bool {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        i64::from_sql(value).map(|n| n != 0)
    }
}

impl FromSql for f64 {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Real(x) => Ok(x),
            ValueRef::Integer(n) => Ok(n as f64),
            other => Err(mismatch("a real", other)),
        }
    }
}

impl FromSql for String {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Text(text) => Ok(text.to_owned()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Blob(bytes) => Ok(bytes.to_vec()),
            other => Err(mismatch("a blob", other)),
        }
    }
}

impl<const N: usize> FromSql for [u8; N] {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Blob(bytes) => <[u8; N]>::try_from(bytes)
                .map_err(|_| format!("wanted {N} bytes, found {}", bytes.len())),
            other => Err(mismatch("a blob", other)),
        }
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(value: ValueRef<'_>) -> std::result::Result<Self, String> {
        match value {
            ValueRef::Null => Ok(None),
            other => T::from_sql(other).map(Some),
        }
    }
}

/// Which column of a row: its position (from 0) or its name.
pub trait ColumnIndex {
    /// Its position in `row`, if it has it.
    fn position(&self, row: &Row<'_>) -> Option<usize>;
}

impl ColumnIndex for usize {
    fn position(&self, row: &Row<'_>) -> Option<usize> {
        let count = match &row.0 {
            RowOf::Sqlite(row) => row.as_ref().column_count(),
            RowOf::Postgres(row) => row.len(),
        };
        (*self < count).then_some(*self)
    }
}

impl ColumnIndex for &str {
    fn position(&self, row: &Row<'_>) -> Option<usize> {
        match &row.0 {
            RowOf::Sqlite(row) => row.as_ref().column_index(self).ok(),
            RowOf::Postgres(row) => row
                .columns()
                .iter()
                .position(|column| column.name().eq_ignore_ascii_case(self)),
        }
    }
}

/// One row of a result.
pub struct Row<'a>(RowOf<'a>);

enum RowOf<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Postgres(&'a postgres::Row),
}

impl Row<'_> {
    /// The value of one column.
    ///
    /// # Errors
    /// [`StoreError::Conversion`] if there is no such column or it does not hold a `T`.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, index: I) -> Result<T> {
        let Some(column) = index.position(self) else {
            return Err(StoreError::Conversion {
                column: usize::MAX,
                message: "no such column".into(),
            });
        };
        let converted = match &self.0 {
            RowOf::Sqlite(row) => {
                let value = row.get_ref(column)?;
                T::from_sql(from_sqlite(value))
            }
            RowOf::Postgres(row) => T::from_sql(postgres_value(row, column)?),
        };
        converted.map_err(|message| StoreError::Conversion { column, message })
    }

    /// The value of one column as stored, borrowed from the row.
    ///
    /// # Errors
    /// [`StoreError::Conversion`] if there is no such column.
    pub fn get_ref(&self, column: usize) -> Result<ValueRef<'_>> {
        if column.position(self).is_none() {
            return Err(StoreError::Conversion {
                column,
                message: "no such column".into(),
            });
        }
        match &self.0 {
            RowOf::Sqlite(row) => Ok(from_sqlite(row.get_ref(column)?)),
            RowOf::Postgres(row) => postgres_value(row, column),
        }
    }
}

fn from_sqlite(value: rusqlite::types::ValueRef<'_>) -> ValueRef<'_> {
    use rusqlite::types::ValueRef as Sqlite;
    match value {
        Sqlite::Null => ValueRef::Null,
        Sqlite::Integer(n) => ValueRef::Integer(n),
        Sqlite::Real(x) => ValueRef::Real(x),
        // SQLite's text is UTF-8 unless something outside Doorstep wrote it.
        Sqlite::Text(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => ValueRef::Text(text),
            Err(_) => ValueRef::Blob(bytes),
        },
        Sqlite::Blob(bytes) => ValueRef::Blob(bytes),
    }
}

fn postgres_value(row: &postgres::Row, column: usize) -> Result<ValueRef<'_>> {
    use postgres::types::Type;
    let ty = row.columns()[column].type_().clone();
    let value = match ty {
        Type::INT8 => row
            .try_get::<_, Option<i64>>(column)?
            .map_or(ValueRef::Null, ValueRef::Integer),
        Type::INT4 => row
            .try_get::<_, Option<i32>>(column)?
            .map_or(ValueRef::Null, |n| ValueRef::Integer(n.into())),
        Type::INT2 => row
            .try_get::<_, Option<i16>>(column)?
            .map_or(ValueRef::Null, |n| ValueRef::Integer(n.into())),
        Type::BOOL => row
            .try_get::<_, Option<bool>>(column)?
            .map_or(ValueRef::Null, |b| ValueRef::Integer(b.into())),
        Type::FLOAT8 => row
            .try_get::<_, Option<f64>>(column)?
            .map_or(ValueRef::Null, ValueRef::Real),
        Type::FLOAT4 => row
            .try_get::<_, Option<f32>>(column)?
            .map_or(ValueRef::Null, |x| ValueRef::Real(x.into())),
        Type::BYTEA => row
            .try_get::<_, Option<&[u8]>>(column)?
            .map_or(ValueRef::Null, ValueRef::Blob),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR => row
            .try_get::<_, Option<&str>>(column)?
            .map_or(ValueRef::Null, ValueRef::Text),
        other => {
            return Err(StoreError::Conversion {
                column,
                message: format!("PostgreSQL type {other} has no SQLite counterpart: cast it"),
            });
        }
    };
    Ok(value)
}

impl rusqlite::ToSql for ValueRef<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as Sqlite};
        Ok(ToSqlOutput::Borrowed(match *self {
            ValueRef::Null => Sqlite::Null,
            ValueRef::Integer(n) => Sqlite::Integer(n),
            ValueRef::Real(x) => Sqlite::Real(x),
            ValueRef::Text(text) => Sqlite::Text(text.as_bytes()),
            ValueRef::Blob(bytes) => Sqlite::Blob(bytes),
        }))
    }
}

impl postgres::types::ToSql for ValueRef<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>>
    {
        use postgres::types::{IsNull, ToSql as Pg, Type};
        match *self {
            ValueRef::Null => Ok(IsNull::Yes),
            ValueRef::Integer(n) => match *ty {
                Type::INT8 => Pg::to_sql(&n, ty, out),
                Type::INT4 => Pg::to_sql(&i32::try_from(n)?, ty, out),
                Type::INT2 => Pg::to_sql(&i16::try_from(n)?, ty, out),
                Type::BOOL => Pg::to_sql(&(n != 0), ty, out),
                Type::FLOAT8 => Pg::to_sql(&(n as f64), ty, out),
                Type::TEXT | Type::VARCHAR => Pg::to_sql(&n.to_string().as_str(), ty, out),
                _ => Err(format!("an integer for a {ty} parameter").into()),
            },
            ValueRef::Real(x) => match *ty {
                Type::FLOAT8 => Pg::to_sql(&x, ty, out),
                Type::FLOAT4 => Pg::to_sql(&(x as f32), ty, out),
                _ => Err(format!("a real for a {ty} parameter").into()),
            },
            ValueRef::Text(text) => Pg::to_sql(&text, ty, out),
            ValueRef::Blob(bytes) => Pg::to_sql(&bytes, ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Extends a single-row query's result: no row becomes `None`.
pub trait OptionalExtension<T> {
    /// `Ok(None)` for [`StoreError::NoRows`].
    ///
    /// # Errors
    /// Any other error.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(StoreError::NoRows) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

/// How a transaction takes its locks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionBehavior {
    /// Locks when it first reads or writes (PostgreSQL: a plain `BEGIN`).
    Deferred,
    /// Takes the write lock at once: one such transaction at a time (PostgreSQL: a
    /// transaction-level advisory lock all of them share).
    Immediate,
}

/// A connection to SQLite or PostgreSQL.
pub struct Connection(Backend);

enum Backend {
    Sqlite(rusqlite::Connection),
    /// Boxed: PostgreSQL's client and its statements are three times SQLite's handle.
    Postgres(Box<Postgres>),
}

struct Postgres {
    /// Where it connects, to connect again after losing the connection.
    url: Option<String>,
    /// Always `Some` until dropped.
    client: RefCell<Option<postgres::Client>>,
    /// Prepared statements by their SQLite text.
    statements: RefCell<HashMap<String, postgres::Statement>>,
}

impl From<rusqlite::Connection> for Connection {
    fn from(conn: rusqlite::Connection) -> Self {
        Connection(Backend::Sqlite(conn))
    }
}

impl From<postgres::Client> for Connection {
    fn from(client: postgres::Client) -> Self {
        Connection(Backend::Postgres(Box::new(Postgres {
            url: None,
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
        })))
    }
}

impl Connection {
    /// A connection to the PostgreSQL database at `url`, which [`Connection::reconnect`]
    /// can open again after the connection is lost.
    ///
    /// # Errors
    /// PostgreSQL's error (a bad URL, a refused connection, a wrong password).
    pub fn postgres(url: &str) -> Result<Self> {
        let client = postgres::Client::connect(url, postgres::NoTls)?;
        Ok(Connection(Backend::Postgres(Box::new(Postgres {
            url: Some(url.to_owned()),
            client: RefCell::new(Some(client)),
            statements: RefCell::new(HashMap::new()),
        }))))
    }

    /// Whether the connection is gone (PostgreSQL's server or network went away); SQLite's
    /// never is. On PostgreSQL this asks the server (one round trip): the client only
    /// notices a closed connection when it next uses it.
    pub fn is_lost(&self) -> bool {
        match &self.0 {
            Backend::Sqlite(_) => false,
            Backend::Postgres(pg) => {
                let mut client = pg.client();
                client.is_closed() || client.is_valid(std::time::Duration::from_secs(2)).is_err()
            }
        }
    }

    /// Connects again, if the connection is lost and it knows where to; `Ok(true)` when it
    /// did (a PostgreSQL session's state, its advisory locks included, is then new).
    ///
    /// # Errors
    /// PostgreSQL's error if it cannot connect yet.
    pub fn reconnect(&self) -> Result<bool> {
        let Backend::Postgres(pg) = &self.0 else {
            return Ok(false);
        };
        let Some(url) = pg.url.as_deref().filter(|_| self.is_lost()) else {
            return Ok(false);
        };
        let fresh = postgres::Client::connect(url, postgres::NoTls)?;
        pg.statements.borrow_mut().clear();
        let old = pg.client.borrow_mut().replace(fresh);
        if let Some(old) = old
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(old));
        }
        Ok(true)
    }
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.0 {
            Backend::Sqlite(_) => "Connection(SQLite)",
            Backend::Postgres(_) => "Connection(PostgreSQL)",
        })
    }
}

impl Connection {
    /// The SQLite connection, for what only SQLite has (pragmas, checkpoints, file
    /// checks); `None` on PostgreSQL.
    pub fn sqlite(&self) -> Option<&rusqlite::Connection> {
        match &self.0 {
            Backend::Sqlite(conn) => Some(conn),
            Backend::Postgres(_) => None,
        }
    }

    /// Sets a SQLite pragma on this connection; PostgreSQL has none of them (its
    /// durability and file handling are the cluster's), so there it does nothing.
    ///
    /// # Errors
    /// SQLite's error.
    pub fn sqlite_pragma(&self, name: &str, value: impl rusqlite::ToSql) -> Result<()> {
        match &self.0 {
            Backend::Sqlite(conn) => Ok(conn.pragma_update(None, name, value)?),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// On SQLite, moves the write-ahead log into the database file and truncates it, so
    /// deleted content leaves the log too (best effort: a reader may hold it). Nothing on
    /// PostgreSQL, whose WAL is the cluster's.
    pub fn truncate_sqlite_wal(&self) {
        if let Backend::Sqlite(conn) = &self.0 {
            let _: rusqlite::Result<()> =
                conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        }
    }

    /// Whether this is a PostgreSQL connection.
    pub fn is_postgres(&self) -> bool {
        matches!(self.0, Backend::Postgres(_))
    }

    /// Runs one statement; returns how many rows it changed.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// Runs statements separated by `;`, without parameters.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match &self.0 {
            Backend::Sqlite(conn) => Ok(conn.execute_batch(sql)?),
            Backend::Postgres(pg) => Ok(pg.client().batch_execute(sql)?),
        }
    }

    /// Runs a query and maps its first row.
    ///
    /// # Errors
    /// [`StoreError::NoRows`] without a row; the database's error.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, map: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, map)
    }

    /// A statement, prepared once per connection and kept.
    ///
    /// # Errors
    /// The database's error (e.g. a syntax error).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_>> {
        let prepared = match &self.0 {
            Backend::Sqlite(conn) => Prepared::Sqlite(conn.prepare_cached(sql)?),
            Backend::Postgres(pg) => Prepared::Postgres(pg.prepare(sql)?),
        };
        Ok(Statement {
            conn: self,
            prepared,
        })
    }

    /// A statement (prepared once; SQLite and PostgreSQL both keep it per connection).
    ///
    /// # Errors
    /// The database's error.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// The id of the last row inserted with an identity (rowid) key on this connection.
    ///
    /// # Errors
    /// PostgreSQL's error if nothing was inserted yet in this session.
    pub fn last_insert_rowid(&self) -> Result<i64> {
        match &self.0 {
            Backend::Sqlite(conn) => Ok(conn.last_insert_rowid()),
            Backend::Postgres(_) => self.query_row("SELECT lastval()", (), |row| row.get(0)),
        }
    }

    /// Starts a deferred transaction (committed by [`Transaction::commit`], rolled back
    /// when dropped otherwise).
    ///
    /// # Errors
    /// The database's error.
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        self.transaction_with_behavior(TransactionBehavior::Deferred)
    }

    /// Starts a transaction that, on SQLite, takes its locks as `behavior` says.
    ///
    /// # Errors
    /// The database's error.
    pub fn transaction_with_behavior(
        &mut self,
        behavior: TransactionBehavior,
    ) -> Result<Transaction<'_>> {
        let begin = match (&self.0, behavior) {
            (Backend::Postgres(_), TransactionBehavior::Deferred) => "BEGIN",
            // SQLite's IMMEDIATE lets one writer in at a time, and the code relies on it
            // (a sign-in counted before another is; a name checked free, then taken):
            // on PostgreSQL such transactions take one transaction-level advisory lock.
            (Backend::Postgres(_), TransactionBehavior::Immediate) => {
                "BEGIN; SELECT pg_advisory_xact_lock(7237954630176797300)"
            }
            (Backend::Sqlite(_), TransactionBehavior::Deferred) => "BEGIN DEFERRED",
            (Backend::Sqlite(_), TransactionBehavior::Immediate) => "BEGIN IMMEDIATE",
        };
        self.execute_batch(begin)?;
        Ok(Transaction {
            conn: self,
            savepoint: None,
            level: 0,
            finished: false,
        })
    }
}

impl Postgres {
    fn client(&self) -> std::cell::RefMut<'_, postgres::Client> {
        std::cell::RefMut::map(self.client.borrow_mut(), |client| {
            client
                .as_mut()
                .expect("a PostgreSQL client is there until dropped")
        })
    }

    fn prepare(&self, sql: &str) -> Result<postgres::Statement> {
        if let Some(statement) = self.statements.borrow().get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.client().prepare(&numbered_placeholders(sql))?;
        self.statements
            .borrow_mut()
            .insert(sql.to_owned(), statement.clone());
        Ok(statement)
    }
}

impl Drop for Postgres {
    /// The client closes its connection by blocking on its own runtime, which tokio forbids
    /// on a thread driving async tasks: there it is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// SQLite's `?1`/`?` placeholders as PostgreSQL's `$1`, outside quoted text and comments.
pub fn numbered_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut next = 1;
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(open) = quote {
            out.push(c);
            if c == open {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                out.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                // A comment, to the end of the line.
                out.push(c);
                for c in chars.by_ref() {
                    out.push(c);
                    if c == '\n' {
                        break;
                    }
                }
            }
            '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                let number = if digits.is_empty() {
                    let n = next;
                    next += 1;
                    n
                } else {
                    let n: usize = digits.parse().unwrap_or(0);
                    next = next.max(n + 1);
                    n
                };
                out.push('$');
                out.push_str(&number.to_string());
            }
            _ => out.push(c),
        }
    }
    out
}

/// A prepared statement of a [`Connection`].
pub struct Statement<'c> {
    conn: &'c Connection,
    prepared: Prepared<'c>,
}

enum Prepared<'c> {
    Sqlite(rusqlite::CachedStatement<'c>),
    Postgres(postgres::Statement),
}

impl Statement<'_> {
    fn pg(&self) -> &Postgres {
        match &self.conn.0 {
            Backend::Postgres(pg) => pg,
            Backend::Sqlite(_) => unreachable!("a PostgreSQL statement on a SQLite connection"),
        }
    }

    /// How many columns its rows have.
    pub fn column_count(&self) -> usize {
        match &self.prepared {
            Prepared::Sqlite(stmt) => stmt.column_count(),
            Prepared::Postgres(stmt) => stmt.columns().len(),
        }
    }

    /// Runs it; returns how many rows it changed.
    ///
    /// # Errors
    /// The database's error.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        let values = params.values();
        match &mut self.prepared {
            Prepared::Sqlite(stmt) => Ok(stmt.execute(rusqlite::params_from_iter(values))?),
            Prepared::Postgres(stmt) => {
                let stmt = stmt.clone();
                let bound = pg_params(&values);
                let changed = self.pg().client().execute(&stmt, &bound)?;
                Ok(usize::try_from(changed).unwrap_or(usize::MAX))
            }
        }
    }

    /// Runs it; its rows are read one at a time with [`Rows::next`].
    ///
    /// # Errors
    /// The database's error.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        let values = params.values();
        match &mut self.prepared {
            Prepared::Sqlite(stmt) => Ok(Rows(RowsOf::Sqlite(
                stmt.query(rusqlite::params_from_iter(values))?,
            ))),
            Prepared::Postgres(stmt) => {
                let stmt = stmt.clone();
                let bound = pg_params(&values);
                let rows = match &self.conn.0 {
                    Backend::Postgres(pg) => pg.client().query(&stmt, &bound)?,
                    Backend::Sqlite(_) => unreachable!("a PostgreSQL statement on SQLite"),
                };
                Ok(Rows(RowsOf::Postgres(rows.into_iter(), None)))
            }
        }
    }

    /// Runs it and maps every row, in order.
    ///
    /// # Errors
    /// The database's error; the rows' mapping errors are in the items.
    pub fn query_map<T, P, F>(
        &mut self,
        params: P,
        mut map: F,
    ) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let values = params.values();
        let mut mapped = Vec::new();
        match &mut self.prepared {
            Prepared::Sqlite(stmt) => {
                let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
                while let Some(row) = rows.next()? {
                    mapped.push(map(&Row(RowOf::Sqlite(row))));
                }
            }
            Prepared::Postgres(stmt) => {
                let stmt = stmt.clone();
                let bound = pg_params(&values);
                let rows = self.pg().client().query(&stmt, &bound)?;
                for row in &rows {
                    mapped.push(map(&Row(RowOf::Postgres(row))));
                }
            }
        }
        Ok(mapped.into_iter())
    }

    /// Runs it and maps the first row.
    ///
    /// # Errors
    /// [`StoreError::NoRows`] without a row; the database's error.
    pub fn query_row<T, P, F>(&mut self, params: P, map: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let values = params.values();
        match &mut self.prepared {
            Prepared::Sqlite(stmt) => {
                let mut rows = stmt.query(rusqlite::params_from_iter(values))?;
                match rows.next()? {
                    Some(row) => map(&Row(RowOf::Sqlite(row))),
                    None => Err(StoreError::NoRows),
                }
            }
            Prepared::Postgres(stmt) => {
                let stmt = stmt.clone();
                let bound = pg_params(&values);
                let rows = self.pg().client().query(&stmt, &bound)?;
                match rows.first() {
                    Some(row) => map(&Row(RowOf::Postgres(row))),
                    None => Err(StoreError::NoRows),
                }
            }
        }
    }

    /// Whether it returns any row.
    ///
    /// # Errors
    /// The database's error.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        self.query_row(params, |_| Ok(()))
            .optional()
            .map(|row| row.is_some())
    }
}

/// The rows of [`Statement::query`], read in order.
pub struct Rows<'s>(RowsOf<'s>);

enum RowsOf<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres(std::vec::IntoIter<postgres::Row>, Option<postgres::Row>),
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    ///
    /// # Errors
    /// The database's error.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.0 {
            RowsOf::Sqlite(rows) => Ok(rows.next()?.map(|row| Row(RowOf::Sqlite(row)))),
            RowsOf::Postgres(rows, current) => {
                *current = rows.next();
                Ok(current.as_ref().map(|row| Row(RowOf::Postgres(row))))
            }
        }
    }
}

fn pg_params<'v>(values: &'v [ValueRef<'v>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|value| value as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// A transaction or a savepoint within one; rolled back when dropped uncommitted.
pub struct Transaction<'c> {
    conn: &'c mut Connection,
    /// Set for a savepoint: its name.
    savepoint: Option<String>,
    /// 0 for a transaction, 1 for a savepoint in it, and so on.
    level: usize,
    finished: bool,
}

impl Transaction<'_> {
    /// Commits it (a savepoint: releases it into the enclosing transaction).
    ///
    /// # Errors
    /// The database's error; the transaction is then rolled back when dropped.
    pub fn commit(mut self) -> Result<()> {
        let sql = match &self.savepoint {
            Some(name) => format!("RELEASE SAVEPOINT {name}"),
            None => "COMMIT".to_owned(),
        };
        self.conn.execute_batch(&sql)?;
        self.finished = true;
        Ok(())
    }

    /// Rolls it back.
    ///
    /// # Errors
    /// The database's error.
    pub fn rollback(mut self) -> Result<()> {
        self.finished = true;
        self.conn.execute_batch(&self.rollback_sql())
    }

    /// A savepoint within this transaction.
    ///
    /// # Errors
    /// The database's error.
    pub fn savepoint(&mut self) -> Result<Transaction<'_>> {
        let level = self.level + 1;
        let name = format!("doorstep_savepoint_{level}");
        self.conn.execute_batch(&format!("SAVEPOINT {name}"))?;
        Ok(Transaction {
            conn: self.conn,
            savepoint: Some(name),
            level,
            finished: false,
        })
    }

    fn rollback_sql(&self) -> String {
        match &self.savepoint {
            Some(name) => format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
            None => "ROLLBACK".to_owned(),
        }
    }
}

impl Deref for Transaction<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl DerefMut for Transaction<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let sql = self.rollback_sql();
            if let Err(err) = self.conn.execute_batch(&sql) {
                tracing::warn!(cause = %err, "rollback failed");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_for_postgres_outside_quotes_and_comments() {
        assert_eq!(
            numbered_placeholders("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1"
        );
        assert_eq!(
            numbered_placeholders("INSERT INTO t VALUES (?, ?, '?x', \"?\") -- ?\n, ?"),
            "INSERT INTO t VALUES ($1, $2, '?x', \"?\") -- ?\n, $3"
        );
    }

    #[test]
    fn sqlite_values_round_trip_through_the_layer() {
        let mut conn = Connection::from(rusqlite::Connection::open_in_memory().expect("open"));
        conn.execute_batch("CREATE TABLE t (n INTEGER, x REAL, s TEXT, b BLOB, z INTEGER)")
            .expect("create");
        let tx = conn.transaction().expect("begin");
        tx.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)",
            params![7_i64, 1.5_f64, "text", vec![1_u8, 2], None::<i64>],
        )
        .expect("insert");
        tx.commit().expect("commit");
        let row: (i64, f64, String, Vec<u8>, Option<i64>, bool) = conn
            .query_row("SELECT n, x, s, b, z, n FROM t", [], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    row.get(3)?,
                    row.get(4)?,
                    row.get("n")?,
                ))
            })
            .expect("read");
        assert_eq!(row, (7, 1.5, "text".into(), vec![1, 2], None, true));
        let none = conn
            .query_row("SELECT n FROM t WHERE n = ?1", [8], |row| {
                row.get::<_, i64>(0)
            })
            .optional()
            .expect("query");
        assert_eq!(none, None);
        assert!(matches!(
            conn.query_row("SELECT s FROM t", [], |row| row.get::<_, i64>(0)),
            Err(StoreError::Conversion { column: 0, .. })
        ));
    }

    #[test]
    fn a_dropped_transaction_or_savepoint_is_rolled_back() {
        let mut conn = Connection::from(rusqlite::Connection::open_in_memory().expect("open"));
        conn.execute_batch("CREATE TABLE t (n INTEGER)")
            .expect("create");
        {
            let mut tx = conn.transaction().expect("begin");
            tx.execute("INSERT INTO t VALUES (1)", []).expect("insert");
            {
                let sp = tx.savepoint().expect("savepoint");
                sp.execute("INSERT INTO t VALUES (2)", []).expect("insert");
            }
            let sp = tx.savepoint().expect("savepoint");
            sp.execute("INSERT INTO t VALUES (3)", []).expect("insert");
            sp.commit().expect("release");
            tx.commit().expect("commit");
        }
        {
            let tx = conn.transaction().expect("begin");
            tx.execute("INSERT INTO t VALUES (4)", []).expect("insert");
        }
        let kept: Vec<i64> = conn
            .prepare_cached("SELECT n FROM t ORDER BY n")
            .expect("prepare")
            .query_map([], |row| row.get(0))
            .expect("query")
            .collect::<Result<_>>()
            .expect("rows");
        assert_eq!(kept, vec![1, 3]);
    }
}
