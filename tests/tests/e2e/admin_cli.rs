//! The administration command line, run as an operator would: teams, users with passwords
//! on stdin, an all-or-nothing CSV import with line-numbered errors, allocations, and the
//! demo council whose printed passwords sign in to the real server.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::server_binary;
use tests::ServerProcess;
use tests::council::Session;

fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(server_binary())
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn children(dir: &Path) -> i64 {
    rusqlite::Connection::open(dir.join("doorstep.sqlite3"))
        .expect("open")
        .query_row("SELECT count(*) FROM children", [], |r| r.get(0))
        .expect("count")
}

#[test]
fn teams_users_and_a_csv_import_that_is_all_or_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dir = dir.path();
    let ok = |output: Output| {
        assert!(output.status.success(), "{}", text(&output.stderr));
        text(&output.stdout)
    };
    ok(run(dir, &["admin", "team", "add", "North"], ""));
    ok(run(
        dir,
        &[
            "admin",
            "user",
            "add",
            "sw-1",
            "--role",
            "social-worker",
            "--team",
            "North",
            "--password-stdin",
        ],
        "a long enough password\n",
    ));
    let weak = run(
        dir,
        &[
            "admin",
            "user",
            "add",
            "sw-2",
            "--role",
            "social-worker",
            "--team",
            "North",
            "--password-stdin",
        ],
        "short\n",
    );
    assert!(!weak.status.success());
    assert!(
        text(&weak.stderr).contains("at least 12"),
        "{}",
        text(&weak.stderr)
    );
    let no_team = run(
        dir,
        &[
            "admin",
            "user",
            "add",
            "mgr",
            "--role",
            "team-manager",
            "--password-stdin",
        ],
        "a long enough password\n",
    );
    assert!(
        text(&no_team.stderr).contains("--team"),
        "{}",
        text(&no_team.stderr)
    );

    // Line 3 names a team that does not exist and line 4 has an impossible date: nothing
    // at all is imported, and both lines are named.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "child_ref,team,legal_name,date_of_birth,placement_start,placement_type,worker\n\
         C-1,North,Amy Example,2014-05-02,2025-09-01,U4,sw-1\n\
         C-2,Nowhere,Ben Example,2011-01-30,,,\n\
         C-3,North,Cat Example,2011-02-30,,,\n",
    )
    .expect("write csv");
    let refused = run(
        dir,
        &["admin", "child", "import", bad.to_str().expect("path")],
        "",
    );
    assert!(!refused.status.success());
    let message = text(&refused.stderr);
    assert!(
        message.contains("line 4") && message.contains("2011-02-30"),
        "{message}"
    );
    assert_eq!(children(dir), 0, "nothing half-imported");
    std::fs::write(
        &bad,
        "child_ref,team,legal_name,date_of_birth,placement_start,placement_type,worker\n\
         C-1,North,Amy Example,2014-05-02,2025-09-01,U4,sw-1\n\
         C-2,Nowhere,Ben Example,2011-01-30,,,\n",
    )
    .expect("write csv");
    let refused = run(
        dir,
        &["admin", "child", "import", bad.to_str().expect("path")],
        "",
    );
    let message = text(&refused.stderr);
    assert!(
        message.contains("line 3") && message.contains("Nowhere"),
        "{message}"
    );
    assert_eq!(
        children(dir),
        0,
        "rolled back when the directory refuses a row"
    );

    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        "child_ref,team,legal_name,date_of_birth,placement_start,placement_type,worker\n\
         C-1,North,Amy Example,2014-05-02,2025-09-01,U4,sw-1\n\
         C-2,North,Ben Example,2011-01-30,,,\n",
    )
    .expect("write csv");
    let imported = ok(run(
        dir,
        &["admin", "child", "import", good.to_str().expect("path")],
        "",
    ));
    assert!(imported.contains("Imported 2 children"), "{imported}");
    assert_eq!(children(dir), 2);
    ok(run(dir, &["admin", "allocate", "C-2", "sw-1"], ""));
    ok(run(dir, &["admin", "deallocate", "C-1", "sw-1"], ""));
    let again = run(dir, &["admin", "deallocate", "C-1", "sw-1"], "");
    assert!(
        text(&again.stderr).contains("not allocated"),
        "{}",
        text(&again.stderr)
    );

    let export = ok(run(
        dir,
        &["admin", "audit", "export", "--child", "C-1"],
        "",
    ));
    let mut lines = export.lines();
    assert!(
        lines
            .next()
            .expect("header")
            .starts_with("audit_id,at,actor")
    );
    let actions: Vec<&str> = lines.collect();
    assert!(actions.iter().any(|l| l.contains("child-add")), "{export}");
    assert!(actions.iter().any(|l| l.contains("deallocate")), "{export}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_council_prints_passwords_once_that_sign_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeded = run(dir.path(), &["seed-demo", "--if-empty"], "");
    assert!(seeded.status.success(), "{}", text(&seeded.stderr));
    let printed = text(&seeded.stdout);
    assert!(printed.contains("40 children"), "{printed}");
    let accounts: Vec<(String, String)> = printed
        .lines()
        .filter_map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            (words.len() == 4 && words[0] != "username")
                .then(|| (words[0].to_owned(), words[3].to_owned()))
        })
        .collect();
    assert_eq!(accounts.len(), 12, "{printed}");

    let again = run(dir.path(), &["seed-demo", "--if-empty"], "");
    assert!(again.status.success());
    assert!(text(&again.stdout).contains("nothing seeded"));
    for (_, password) in &accounts {
        assert!(
            !text(&again.stdout).contains(password.as_str()),
            "printed once only"
        );
    }

    let server = ServerProcess::start(server_binary(), dir.path(), &[]).expect("server");
    let (username, password) = accounts
        .iter()
        .find(|(username, _)| username == "sw-north-1")
        .expect("sw-north-1");
    Session::login(server.addr, username, password, None)
        .await
        .expect("a demo worker signs in with the printed password");
    assert!(
        !server.log().contains(password.as_str()),
        "passwords never reach the log"
    );
}
