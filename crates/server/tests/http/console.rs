//! The operator's commands, run as the real binary: what they print when latch refuses.

use std::process::Command;

/// Runs `latch` with `args` on the SQLite database in `dir`, and answers whether it worked and
/// what it printed on standard error.
fn latch(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let (worked, _, said) = run(dir, args);
    (worked, said)
}

/// Runs `latch` with `args` on the SQLite database in `dir`: whether it worked, its standard
/// output and its standard error.
pub(crate) fn run(dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_latch"))
        .current_dir(dir)
        .env_clear()
        .env("LATCH_DATABASE_URL", "sqlite://console.db")
        .args(args)
        .output()
        .expect("run latch");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
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

/// What `latch <args> --help` prints.
fn help(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_latch"))
        .env_clear()
        .args(args)
        .arg("--help")
        .output()
        .expect("run latch");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The option lines of a help text, each with what follows it up to the next option.
fn options(help: &str) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("--") || (trimmed.starts_with('-') && trimmed.contains(", --")) {
            let name = trimmed
                .split_whitespace()
                .find(|w| w.starts_with("--"))
                .unwrap()
                .to_owned();
            let said = trimmed.split_once("  ").map_or("", |(_, s)| s.trim());
            found.push((name, said.to_owned()));
        } else if let Some((_, said)) = found.last_mut()
            && said.is_empty()
            && !trimmed.is_empty()
            && !trimmed.starts_with('[')
        {
            trimmed.clone_into(said);
        }
    }
    found
}

#[test]
fn each_command_lists_only_its_own_options_and_says_what_each_is() {
    for command in [
        &["user", "add"][..],
        &["user", "reset-two-factor"],
        &["user", "unlock"],
        &["practice", "create"],
        &["check-delivery"],
    ] {
        let text = help(command);
        let listed = options(&text);
        assert!(!listed.is_empty(), "{command:?}: {text}");
        for (name, said) in &listed {
            assert!(
                ![
                    "--database-url",
                    "--bind",
                    "--secret-key",
                    "--twilio-auth-token"
                ]
                .contains(&name.as_str()),
                "{command:?} lists the server's {name}"
            );
            assert!(!said.is_empty(), "{command:?}: {name} has no line");
        }
    }
    let top = help(&[]);
    assert!(
        top.contains("--database-url") && top.contains("LATCH_DATABASE_URL"),
        "the settings are latch's own options"
    );
    for (name, said) in options(&top) {
        assert!(!said.is_empty(), "latch: {name} has no line");
    }
}
