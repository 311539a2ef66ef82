//! Tidy: the architecture's mechanically checkable invariants, read from the tree.
//!
//! Each rule names where something may appear, and fails listing every file (and line)
//! where it appears elsewhere:
//! - **SQL** only in `server/src/store`, `server/src/directory` and `server/src/projection`,
//!   and **the database crates** (`rusqlite`, `postgres`) only in `server/src/store`: the
//!   other two write their SQL through the dialect layer (`server::sql`), and everything
//!   else reaches a connection as `server::directory::Connection`.
//! - **A `//!` doc** opens every Rust file of the workspace (blank lines aside).
//! - **The clock** is read only in each driver's one clock module: `server/src/clock.rs`
//!   (the server's [`server::clock::Clock`]), `client-wasm/src/clock.rs` (the device's)
//!   and `client-wasm/web/clock.js` (the screens'). `shared` never reads it. Readings are
//!   `SystemTime::now`, `Instant::now`, `Utc::now`, `Local::now`, `Date::now`, `Date.now(`,
//!   `performance.now(` and a bare `new Date()`. The server's system [`Clock`] is made
//!   (`Clock::system()`) only at the binary's entry point, `server/src/cli/commands.rs`,
//!   and as [`ServerConfig::new`]'s default for a library caller (the binary replaces it
//!   with the entry point's); everything else is handed one.
//!
//! [`Clock`]: server::clock::Clock
//! [`ServerConfig::new`]: server::ServerConfig::new
//! - **`JsValue`** only in `client-wasm`.
//! - **A visit's words** (field labels, coded answers' words, the form's section titles)
//!   only in `shared::model::wording`: no script in `client-wasm/web` holds one of them
//!   (of two words or more) as a string literal; the screens get them from the wasm.
//!
//! The test crate's own harness and benchmarks (`tests/`) measure time and query
//! databases as they need, so only the SQL and `//!` rules look at them (the `//!` rule
//! only). Each rule is also checked against a planted violation, so a rule that silently
//! matches nothing fails too.

use std::path::{Path, PathBuf};

/// A file of the tree: its path from the workspace root (with `/`) and its text.
struct Source {
    path: String,
    text: String,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests crate sits in the workspace")
        .to_owned()
}

/// Every file under `dirs` (from the root) ending in one of `extensions`, skipping build
/// output, installed packages and fuzzing's generated folders.
fn sources(dirs: &[&str], extensions: &[&str]) -> Vec<Source> {
    let root = workspace_root();
    let mut found = Vec::new();
    let mut pending: Vec<PathBuf> = dirs.iter().map(|dir| root.join(dir)).collect();
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(
                    name.as_str(),
                    "target" | "node_modules" | "corpus" | "crashers" | "artifacts" | "coverage"
                ) {
                    pending.push(path);
                }
            } else if extensions.iter().any(|ext| name.ends_with(ext)) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let relative = path
                    .strip_prefix(&root)
                    .expect("under the root")
                    .to_string_lossy()
                    .replace('\\', "/");
                found.push(Source {
                    path: relative,
                    text,
                });
            }
        }
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The workspace's product code: what the invariants are about.
fn product_rust() -> Vec<Source> {
    sources(&["shared/src", "server/src", "client-wasm/src"], &[".rs"])
}

/// `path:line: text` for each line of `source` that `offends`.
fn offending_lines(source: &Source, offends: impl Fn(&str) -> bool) -> Vec<String> {
    source
        .text
        .lines()
        .enumerate()
        .filter(|(_, line)| offends(line))
        .map(|(index, line)| format!("{}:{}: {}", source.path, index + 1, line.trim()))
        .collect()
}

/// Whether a line holds SQL: a statement's opening words, in SQL's upper case.
fn holds_sql(line: &str) -> bool {
    const STATEMENTS: [&str; 9] = [
        "SELECT ",
        "INSERT INTO",
        "INSERT OR ",
        "DELETE FROM",
        "CREATE TABLE",
        "CREATE INDEX",
        "CREATE TRIGGER",
        "PRAGMA ",
        "ON CONFLICT",
    ];
    STATEMENTS.iter().any(|statement| line.contains(statement))
        || (line.contains("UPDATE ") && line.contains(" SET "))
}

/// SQL outside the modules that own storage, or a database crate outside the store.
fn sql_outside_owners(files: &[Source]) -> Vec<String> {
    const OWNERS: [&str; 3] = [
        "server/src/store/",
        "server/src/directory/",
        "server/src/projection/",
    ];
    let names_a_database_crate =
        |line: &str| line.contains("rusqlite") || line.contains("postgres::");
    files
        .iter()
        .flat_map(|file| {
            let owner = OWNERS.iter().any(|owner| file.path.starts_with(owner));
            let store = file.path.starts_with("server/src/store/");
            offending_lines(file, |line| {
                (!store && names_a_database_crate(line)) || (!owner && holds_sql(line))
            })
        })
        .collect()
}

/// Files whose first non-blank line is not a `//!` doc.
fn missing_module_docs(files: &[Source]) -> Vec<String> {
    files
        .iter()
        .filter(|file| {
            !file
                .text
                .lines()
                .find(|line| !line.trim().is_empty())
                .is_some_and(|line| line.starts_with("//!"))
        })
        .map(|file| file.path.clone())
        .collect()
}

/// Clock readings outside the clock modules.
fn clock_reads_outside_clocks(files: &[Source]) -> Vec<String> {
    const CLOCKS: [&str; 3] = [
        "server/src/clock.rs",
        "client-wasm/src/clock.rs",
        "client-wasm/web/clock.js",
    ];
    const READINGS: [&str; 8] = [
        "SystemTime::now",
        "Instant::now",
        "Utc::now",
        "Local::now",
        "Date::now",
        "Date.now(",
        "performance.now(",
        "new Date()",
    ];
    files
        .iter()
        .filter(|file| !CLOCKS.contains(&file.path.as_str()))
        .flat_map(|file| {
            offending_lines(file, |line| {
                READINGS.iter().any(|reading| line.contains(reading))
            })
        })
        .collect()
}

/// The server's system clock made anywhere but the entry point (and the configuration's
/// documented default).
fn clocks_made_outside_the_entry(files: &[Source]) -> Vec<String> {
    const MAKERS: [&str; 2] = ["server/src/cli/commands.rs", "server/src/config.rs"];
    files
        .iter()
        .filter(|file| !MAKERS.contains(&file.path.as_str()))
        .flat_map(|file| offending_lines(file, |line| line.contains("Clock::system()")))
        .collect()
}

/// `JsValue` outside `client-wasm`.
fn js_values_outside_client(files: &[Source]) -> Vec<String> {
    files
        .iter()
        // This file names it, to say where it may be.
        .filter(|file| !file.path.starts_with("client-wasm/") && !file.path.ends_with("/tidy.rs"))
        .flat_map(|file| offending_lines(file, |line| line.contains("JsValue")))
        .collect()
}

/// Every wording of `shared::model::wording` of two words or more: short ones ("Yes",
/// "Carer") are too common to tell a copy from other text.
fn visit_words() -> Vec<&'static str> {
    use shared::model::FormSection;
    use shared::model::wording::{choices, field_labels};
    let labels = field_labels().into_iter().map(|(_, label)| label);
    let answers = choices()
        .into_iter()
        .flat_map(|(_, list)| list.into_iter().map(|(_, words)| words));
    let titles = FormSection::ALL.into_iter().map(FormSection::title);
    labels
        .chain(answers)
        .chain(titles)
        .filter(|words| words.contains(' '))
        .collect()
}

/// String literals in the screens' scripts that copy one of `words`.
fn wording_copies(files: &[Source], words: &[&str]) -> Vec<String> {
    files
        .iter()
        .flat_map(|file| {
            offending_lines(file, |line| {
                words.iter().any(|words| {
                    ['"', '\'', '`']
                        .iter()
                        .any(|quote| line.contains(&format!("{quote}{words}{quote}")))
                })
            })
        })
        .collect()
}

fn assert_none(rule: &str, offences: &[String]) {
    assert!(offences.is_empty(), "{rule}:\n  {}", offences.join("\n  "));
}

#[test]
fn sql_lives_only_in_store_directory_and_projection() {
    assert_none(
        "SQL or rusqlite outside server/src/{store,directory,projection}",
        &sql_outside_owners(&product_rust()),
    );
}

#[test]
fn every_rust_file_opens_with_a_module_doc() {
    let files = sources(&["shared", "server", "client-wasm", "tests"], &[".rs"]);
    assert!(
        files.len() > 100,
        "the tree was not found ({} files)",
        files.len()
    );
    assert_none(
        "files without a //! doc at the top",
        &missing_module_docs(&files),
    );
}

#[test]
fn the_clock_is_read_only_in_the_clock_modules() {
    let mut files = product_rust();
    files.extend(sources(&["client-wasm/web"], &[".js"]));
    assert_none(
        "clock read outside server/src/clock.rs, client-wasm/src/clock.rs, client-wasm/web/clock.js",
        &clock_reads_outside_clocks(&files),
    );
    assert_none(
        "Clock::system() outside server/src/cli/commands.rs and server/src/config.rs",
        &clocks_made_outside_the_entry(&product_rust()),
    );
}

#[test]
fn js_value_lives_only_in_client_wasm() {
    let files = sources(&["shared", "server", "tests/src", "tests/tests"], &[".rs"]);
    assert_none(
        "JsValue outside client-wasm",
        &js_values_outside_client(&files),
    );
}

#[test]
fn the_screens_take_a_visits_words_from_rust() {
    let words = visit_words();
    assert!(
        words.len() > 30,
        "the wording was not found ({} words)",
        words.len()
    );
    assert_none(
        "a visit's words copied into client-wasm/web (take them from labels.js's FIELD_NAMES, CHOICES, SECTIONS)",
        &wording_copies(&sources(&["client-wasm/web"], &[".js"]), &words),
    );
}

/// Each rule catches a planted violation (so none matches nothing by mistake) and lets
/// its exceptions through.
#[test]
fn each_rule_catches_a_planted_violation() {
    let file = |path: &str, text: &str| Source {
        path: path.to_owned(),
        text: text.to_owned(),
    };
    let sql = [
        file(
            "server/src/http/planted.rs",
            "//! x\nconn.execute(\"DELETE FROM x\", [])?;",
        ),
        file(
            "server/src/hub/planted.rs",
            "//! x\nuse rusqlite::Connection;",
        ),
        file(
            "server/src/http/planted.rs",
            "//! x\n\"UPDATE sessions SET revoked_at = 1\"",
        ),
        file(
            "server/src/directory/planted.rs",
            "//! x\n\"SELECT 1\"; use rusqlite;",
        ),
        file(
            "server/src/projection/planted.rs",
            "//! x\nlet client: postgres::Client;",
        ),
        file("server/src/directory/fine.rs", "//! x\n\"SELECT 1\";"),
        file(
            "server/src/store/fine.rs",
            "//! x\nuse rusqlite::Connection; let c: postgres::Client;",
        ),
    ];
    assert_eq!(sql_outside_owners(&sql).len(), 5);
    let docs = [
        file("shared/src/planted.rs", "use std::fmt;\n"),
        file("shared/src/fine.rs", "\n//! A doc.\nuse std::fmt;\n"),
        file(
            "shared/src/planted_inner.rs",
            "/// Not a module doc.\nfn f() {}\n",
        ),
    ];
    assert_eq!(
        missing_module_docs(&docs),
        ["shared/src/planted.rs", "shared/src/planted_inner.rs"]
    );
    let clocks = [
        file(
            "server/src/hub/planted.rs",
            "//! x\nlet t = std::time::SystemTime::now();",
        ),
        file("shared/src/planted.rs", "//! x\nlet t = Instant::now();"),
        file(
            "client-wasm/src/planted.rs",
            "//! x\nlet t = js_sys::Date::now();",
        ),
        file(
            "client-wasm/web/planted.js",
            "const t = Date.now();\nconst d = new Date();",
        ),
        file("server/src/clock.rs", "//! x\nSystemTime::now()"),
        file(
            "client-wasm/web/fine.js",
            "const d = new Date(\"2024-01-01\");",
        ),
    ];
    assert_eq!(clock_reads_outside_clocks(&clocks).len(), 5);
    let made = [
        file(
            "server/src/directory/planted.rs",
            "//! x\nfn now_ms() -> i64 { crate::clock::Clock::system().now_ms() }",
        ),
        file(
            "server/src/data_dir_lock.rs",
            "//! x\nstarted_ms: Some(Clock::system().now_ms()),",
        ),
        file(
            "server/src/cli/commands.rs",
            "//! x\nlet clock = crate::clock::Clock::system();",
        ),
    ];
    assert_eq!(clocks_made_outside_the_entry(&made).len(), 2);
    let js = [
        file(
            "shared/src/planted.rs",
            "//! x\nfn f(_: wasm_bindgen::JsValue) {}",
        ),
        file("client-wasm/src/fine.rs", "//! x\nfn f(_: JsValue) {}"),
    ];
    assert_eq!(js_values_outside_client(&js).len(), 1);
    let screens = [
        file(
            "client-wasm/web/planted.js",
            "export const CHOICES = { location: [[\"school\", \"At school\"]] };",
        ),
        file(
            "client-wasm/web/planted_row.js",
            "row(`Where the child was seen`, x);\nrow('Date of the visit', y);",
        ),
        file(
            "client-wasm/web/fine.js",
            "row(FIELD_NAMES.location, x); // at school\nconst ok = \"Yes\";",
        ),
    ];
    assert_eq!(wording_copies(&screens, &visit_words()).len(), 3);
}
