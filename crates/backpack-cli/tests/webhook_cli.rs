//! End-to-end tests of `backpack webhook sign | send | listen`, of the startup errors (exit code
//! 2 with a one-line message), and of `--help`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::io::Write;
use std::process::{Output, Stdio};

use common::*;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    bin().args(args).stdin(Stdio::null()).output().unwrap()
}

/// Types that are queries, answered afresh every time (never deduplicated).
const NEVER_DEDUPLICATED: [&str; 3] =
    ["user_validation", "user_search", "backpack.user_validation"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_and_listen_round_trip_for_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("listen.sqlite");
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
        ],
        &[("BACKPACK_WEBHOOK_SECRET", WEBHOOK_SECRET)],
    )
    .await;
    // Every webhook of the catalogue, so a webhook added to the spec is round-tripped too.
    for kind in backpack_types::WebhookKind::ALL
        .iter()
        .map(|kind| kind.name())
    {
        let backpack = kind.starts_with("backpack.");
        let url = listen.url(if backpack { "/backpack" } else { "/" });
        let expected_type = kind.strip_prefix("backpack.").unwrap_or(kind);
        let expected_code = if backpack { 200 } else { 204 };
        for round in 0..2 {
            let out = run(&[
                "webhook",
                "send",
                kind,
                "--url",
                &url,
                "--secret",
                WEBHOOK_SECRET,
            ]);
            assert!(
                out.status.success(),
                "{kind}: send failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(sent["status"], expected_code, "{kind}");
            assert_eq!(sent["type"], kind);

            let line = listen.stdout_json().await;
            assert_eq!(line["type"], expected_type, "{kind}");
            assert_eq!(line["family"], if backpack { "backpack" } else { "store" });
            assert_eq!(line["code"], expected_code, "{kind}");
            let expected_verdict = if round == 1 && !NEVER_DEDUPLICATED.contains(&kind) {
                "duplicate"
            } else {
                "accepted"
            };
            assert_eq!(
                line["verdict"], expected_verdict,
                "{kind} round {round}: {line}"
            );
            if NEVER_DEDUPLICATED.contains(&kind) {
                assert!(line["dedup_key"].is_null());
            } else {
                assert!(
                    line["dedup_key"]
                        .as_str()
                        .unwrap()
                        .starts_with(if backpack { "backpack:" } else { "store:" })
                );
            }
        }
    }

    // A wrong secret is refused by the receiver: the sender exits 1, the listener says why.
    let out = run(&[
        "webhook",
        "send",
        "payment",
        "--url",
        &listen.url("/"),
        "--secret",
        "not-the-secret",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(sent["status"], 400);
    assert_eq!(sent["body"]["error"]["code"], "INVALID_SIGNATURE");
    let line = listen.stdout_json().await;
    assert_eq!(line["verdict"], "rejected");
    assert_eq!(line["error"], "INVALID_SIGNATURE");

    // A body of your own.
    let body_file = dir.path().join("body.json");
    std::fs::write(
        &body_file,
        br#"{"notification_type":"order_paid","items":[],"order":{"id":424242,"mode":"sandbox","currency_type":"real","currency":"USD","amount":"1","status":"paid","platform":"xsolla"},"user":{"external_id":"p"}}"#,
    )
    .unwrap();
    let out = run(&[
        "webhook",
        "send",
        "order_paid",
        "--body",
        body_file.to_str().unwrap(),
        "--url",
        &listen.url("/"),
        "--secret",
        WEBHOOK_SECRET,
    ]);
    assert!(out.status.success());
    let line = listen.stdout_json().await;
    assert_eq!(line["dedup_key"], "store:order_paid:order.id=424242");
    assert_eq!(line["verdict"], "accepted");

    // The dedup store is durable: after a restart on the same file, a resend is a duplicate.
    drop(listen);
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--db",
            db.to_str().unwrap(),
            "--secret",
            WEBHOOK_SECRET,
        ],
        &[],
    )
    .await;
    let out = run(&[
        "webhook",
        "send",
        "order_paid",
        "--body",
        body_file.to_str().unwrap(),
        "--url",
        &listen.url("/"),
        "--secret",
        WEBHOOK_SECRET,
    ]);
    assert!(out.status.success());
    assert_eq!(listen.stdout_json().await["verdict"], "duplicate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_can_refuse_users_and_fail_first_deliveries() {
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--secret",
            WEBHOOK_SECRET,
            "--unknown-user",
            "1234567",
            "--fail-first",
            "1",
        ],
        &[],
    )
    .await;
    // The documented user_validation sample's user is 1234567.
    let out = run(&[
        "webhook",
        "send",
        "user_validation",
        "--url",
        &listen.url("/"),
        "--secret",
        WEBHOOK_SECRET,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let line = listen.stdout_json().await;
    assert_eq!(line["verdict"], "rejected");
    assert_eq!(line["error"], "INVALID_USER");
    assert_eq!(line["code"], 400);

    for (verdict, code) in [("error", 500), ("accepted", 204)] {
        let _ = run(&[
            "webhook",
            "send",
            "payment",
            "--url",
            &listen.url("/"),
            "--secret",
            WEBHOOK_SECRET,
        ]);
        let line = listen.stdout_json().await;
        assert_eq!(line["verdict"], verdict);
        assert_eq!(line["code"], code);
    }
}

#[test]
fn sign_prints_the_authorization_header_value() {
    // Test vector, computed with Python `hashlib.sha1`: sha1(body ‖ "PROJECT_SECRET_KEY").
    let body = br#"{"notification_type": "payment"}"#;
    let expected = "Signature 89404631c86da9f508954da7b50799199a6b1d3a\n";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("body.json");
    std::fs::write(&file, body).unwrap();
    let out = run(&[
        "webhook",
        "sign",
        "--secret",
        "PROJECT_SECRET_KEY",
        file.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);

    let mut child = bin()
        .args(["webhook", "sign", "-"])
        .env("BACKPACK_WEBHOOK_SECRET", "PROJECT_SECRET_KEY")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(body).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

/// Exit code 2 and exactly one line on stderr, containing `needle`.
fn assert_startup_error(args: &[&str], needle: &str) {
    let out = run(args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: not one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{args:?}: {stderr}");
    assert!(lines[0].contains(needle), "{args:?}: {stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn startup_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("ok.sqlite");
    let db = db.to_str().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let bad_db = not_a_dir.join("db.sqlite");
    let bad_db = bad_db.to_str().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();

    for (args, needle) in [
        (
            vec!["emulator", "--listen", "nowhere", "--db", db],
            "invalid listen address `nowhere`",
        ),
        (
            vec!["emulator", "--listen", "127.0.0.1:99999", "--db", db],
            "invalid listen address",
        ),
        (
            vec!["emulator", "--listen", &taken, "--db", db],
            "address already in use",
        ),
        (
            vec!["emulator", "--listen", "127.0.0.1:0", "--db", bad_db],
            "cannot use database",
        ),
        (
            vec![
                "emulator",
                "--listen",
                "127.0.0.1:0",
                "--db",
                db,
                "--webhook-url",
                "http://127.0.0.1:9/",
            ],
            "missing webhook secret",
        ),
        (
            vec!["emulator", "--db", db, "--host-id", "not-a-uuid"],
            "--host-id must be a UUID",
        ),
        (
            vec!["emulator", "--db", db, "--time-scale", "0"],
            "--time-scale",
        ),
        (vec!["webhook", "sign", "-"], "missing webhook secret"),
        (
            vec!["webhook", "send", "payment", "--url", "http://127.0.0.1:9/"],
            "missing webhook secret",
        ),
        (
            vec![
                "webhook",
                "send",
                "nope",
                "--url",
                "http://127.0.0.1:9/",
                "--secret",
                "s",
            ],
            "unknown webhook type `nope`",
        ),
        (
            vec!["webhook", "listen", "--listen", "127.0.0.1:0"],
            "missing webhook secret",
        ),
        // An empty secret is no secret: anyone could sign with sha1(body).
        (
            vec![
                "webhook",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                "",
            ],
            "missing webhook secret",
        ),
        (
            vec![
                "webhook",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                "s",
                "--secret",
                "",
            ],
            "missing webhook secret",
        ),
        (
            vec!["webhook", "listen", "--listen", "bad", "--secret", "s"],
            "invalid listen address",
        ),
        (
            vec!["webhook", "listen", "--listen", &taken, "--secret", "s"],
            "address already in use",
        ),
        (
            vec![
                "webhook",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                "s",
                "--db",
                bad_db,
            ],
            "cannot use database",
        ),
        (
            vec!["webhook", "sign", "--secret", "s", "/nonexistent/body.json"],
            "cannot read /nonexistent/body.json",
        ),
        // Nothing listens on port 1; the message names the server without the password.
        (
            vec![
                "webhook",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                "s",
                "--store",
                "postgresql://app:hunter2@127.0.0.1:1/game",
            ],
            "cannot use database postgresql://127.0.0.1:1/game",
        ),
        (
            vec![
                "webhook",
                "listen",
                "--listen",
                "127.0.0.1:0",
                "--secret",
                "s",
                "--store",
                "redis://hunter2@127.0.0.1/",
            ],
            "--store takes a postgresql:// or mysql:// URL",
        ),
    ] {
        assert_startup_error(&args, needle);
        let joined = args.join(" ");
        if joined.contains("hunter2") {
            let out = run(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(
                !stderr.contains("hunter2"),
                "password in the message: {stderr}"
            );
        }
    }
}

/// The server URL in `var`, `None` (said so) when it is not set and `require` is not 1.
fn server_url(var: &str, require: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var(require).as_deref() != Ok("1"),
                "{require}=1 but {var} is not set"
            );
            eprintln!("test DID NOT RUN: {var} is not set");
            None
        }
    }
}

/// `listen --store URL`: a delivery is handled, its retry is a duplicate replayed from the server.
async fn listen_on_store(url: &str) {
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--store",
            url,
        ],
        &[("BACKPACK_WEBHOOK_SECRET", WEBHOOK_SECRET)],
    )
    .await;
    // A fresh order id, so that a database reused between runs has no record of it.
    let id = uuid::Uuid::new_v4().as_u128() as u64 >> 12;
    let body = format!(
        r#"{{"notification_type":"order_paid","items":[{{"sku":"gold","type":"virtual_currency","quantity":1,"amount":"1","promotions":[]}}],"order":{{"id":{id},"mode":"default","currency_type":"real","currency":"USD","amount":"1","status":"paid","platform":"xsolla"}},"user":{{"external_id":"p1","email":"p@example.com"}}}}"#
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("order_paid.json");
    std::fs::write(&file, body).unwrap();
    for verdict in ["accepted", "duplicate"] {
        let out = run(&[
            "webhook",
            "send",
            "order_paid",
            "--url",
            &listen.url("/"),
            "--secret",
            WEBHOOK_SECRET,
            "--body",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let line = listen.stdout_json().await;
        assert_eq!(line["code"], 204);
        assert_eq!(line["verdict"], verdict, "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_postgres_store() {
    let Some(url) = server_url("BACKPACK_TEST_PG_URL", "BACKPACK_REQUIRE_PG") else {
        return;
    };
    listen_on_store(&url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_on_mysql_store() {
    let Some(url) = server_url("BACKPACK_TEST_MYSQL_URL", "BACKPACK_REQUIRE_MYSQL") else {
        return;
    };
    listen_on_store(&url).await;
}

#[test]
fn send_to_nobody_exits_1() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let out = run(&["webhook", "send", "payment", "--url", &url, "--secret", "s"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .last()
            .unwrap()
            .starts_with("error: request to"),
        "{stderr}"
    );
}

#[test]
fn every_command_has_help_with_examples() {
    for args in [
        vec!["--help"],
        vec!["emulator", "--help"],
        vec!["webhook", "--help"],
        vec!["webhook", "sign", "--help"],
        vec!["webhook", "send", "--help"],
        vec!["webhook", "listen", "--help"],
    ] {
        let out = run(&args);
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Examples:"), "{args:?}: {text}");
    }
}

#[test]
fn secrets_from_the_environment_are_not_shown_in_help() {
    let out = bin()
        .args(["emulator", "--help"])
        .env("BACKPACK_WEBHOOK_SECRET", "hunter2-secret")
        .env("BACKPACK_HOST_ID", "11111111-2222-4333-8444-555555555555")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(!text.contains("hunter2-secret"));
    assert!(!text.contains("11111111-2222"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listen_accepts_every_secret_given_during_a_rotation() {
    let mut listen = Proc::start(
        &[
            "webhook",
            "listen",
            "--listen",
            "127.0.0.1:0",
            "--secret",
            "new-key",
            "--secret",
            "old-key",
        ],
        &[],
    )
    .await;
    // Signed with the previous key (in flight when the key was regenerated), with the new one,
    // and with a key that was never configured.
    for (kind, secret, status) in [
        ("payment", "old-key", 204),
        ("order_paid", "new-key", 204),
        ("refund", "other-key", 400),
    ] {
        let out = run(&[
            "webhook",
            "send",
            kind,
            "--url",
            &listen.url("/"),
            "--secret",
            secret,
        ]);
        let sent: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(sent["status"], status, "{kind} signed with {secret}");
        let line = listen.stdout_json().await;
        assert_eq!(line["code"], status, "{kind}: {line}");
    }
}
