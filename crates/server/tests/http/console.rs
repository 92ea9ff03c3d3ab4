//! The operator's commands, run as the real binary: what they print when latch refuses.

use std::process::Command;

/// Runs `latch` with `args` on the SQLite database in `dir`, and answers whether it worked and
/// what it printed on standard error.
fn latch(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_latch"))
        .current_dir(dir)
        .env_clear()
        .env("LATCH_DATABASE_URL", "sqlite://console.db")
        .args(args)
        .output()
        .expect("run latch");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_refused_command_says_what_a_person_reads() {
    let dir = tempfile::tempdir().unwrap();
    let (created, printed) = latch(
        dir.path(),
        &[
            "practice",
            "create",
            "--name",
            "Harbor Counseling",
            "--owner-email",
            "owner@harbor.test",
            "--owner-name",
            "Olive Owner",
        ],
    );
    assert!(created, "{printed}");
    let (added, printed) = latch(
        dir.path(),
        &[
            "user",
            "add",
            "--owner",
            "owner@harbor.test",
            "--email",
            "OWNER@harbor.test",
            "--name",
            "Someone Else",
            "--role",
            "staff",
        ],
    );
    assert!(!added);
    assert!(
        printed.contains("That email address is already in use."),
        "{printed}"
    );
    assert!(
        !printed.contains("email taken"),
        "the log's words: {printed}"
    );
}
