//! Helpers for the end-to-end tests: the `backpack` binary as a child process (its output lines
//! arrive on channels, never by polling or sleeping), a scripted webhook receiver on loopback,
//! and validation of API responses against `spec/backpack.yaml` (found with the xtask library).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Generous wait for anything to happen.
pub const WAIT: Duration = Duration::from_secs(60);
pub const HOST_ID: &str = "497f6eca-6276-4993-bfeb-53cbbbba6f08";
pub const CLIENT_ID: &str = "backpack-emulator";
pub const CLIENT_SECRET: &str = "emulator-secret";
pub const WEBHOOK_SECRET: &str = "whsec-test-3f9a1c";

pub fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backpack"));
    cmd.env_remove("BACKPACK_WEBHOOK_SECRET")
        .env_remove("BACKPACK_HOST_ID")
        .env_remove("BACKPACK_CLIENT_SECRET")
        .env_remove("RUST_LOG");
    cmd
}

/// A running `backpack` process. Killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub addr: SocketAddr,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    /// Every stderr line so far.
    pub stderr_log: Arc<Mutex<Vec<String>>>,
}

fn pump(
    stream: impl std::io::Read + Send + 'static,
    log: Option<Arc<Mutex<Vec<String>>>>,
) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            if let Some(log) = &log {
                log.lock().unwrap().push(line.clone());
            }
            if tx.send(line).is_err() {
                // Nobody listens any more; keep draining so the child never blocks.
            }
        }
    });
    rx
}

impl Proc {
    /// Starts `backpack ARGS` and waits for its `listening on ADDR` line.
    pub async fn start(args: &[&str], env: &[(&str, &str)]) -> Proc {
        let mut cmd = bin();
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn backpack");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = pump(child.stdout.take().unwrap(), None);
        let stderr = pump(child.stderr.take().unwrap(), Some(Arc::clone(&log)));
        let mut proc = Proc {
            child,
            addr: "0.0.0.0:0".parse().unwrap(),
            stdout,
            stderr,
            stderr_log: log,
        };
        let line = proc
            .stderr_line(|l| l.starts_with("listening on "))
            .await
            .unwrap_or_else(|| {
                panic!(
                    "no `listening on` line; stderr: {:?}",
                    proc.stderr_log.lock().unwrap()
                )
            });
        proc.addr = line["listening on ".len()..].trim().parse().unwrap();
        proc
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The next stderr line matching `pred` (earlier non-matching lines are skipped).
    pub async fn stderr_line(&mut self, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.stderr.recv()).await {
                Ok(Some(line)) if pred(&line) => return Some(line),
                Ok(Some(_)) => {}
                _ => return None,
            }
        }
    }

    /// The next stdout line, parsed as JSON.
    pub async fn stdout_json(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.stdout.recv())
            .await
            .expect("timed out waiting for a stdout line")
            .expect("stdout closed");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON: {line}: {e}"))
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn stderr_text(&self) -> String {
        self.stderr_log.lock().unwrap().join("\n")
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A webhook the test receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub notification_type: String,
    pub body: Bytes,
    pub signature_ok: bool,
    pub at: Instant,
    pub answered: u16,
}

/// How the test receiver answers.
#[derive(Debug, Default)]
pub struct Script {
    /// user_validation: 200 unless `user.id` is listed here (then the paired status).
    pub unknown_players: Vec<(String, u16)>,
    /// Other webhooks: these statuses first, then `then`.
    pub first: VecDeque<u16>,
    pub then: u16,
}

struct ReceiverState {
    script: Mutex<Script>,
    tx: mpsc::UnboundedSender<Received>,
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let secret = backpack_webhooks::WebhookSecret::new(WEBHOOK_SECRET);
    let signature_ok = backpack_webhooks::verify_headers(&body, &headers, &secret).is_ok();
    let value: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let notification_type = value["notification_type"].as_str().unwrap_or("").to_owned();
    let status = {
        let mut script = state.script.lock().unwrap();
        if notification_type == "user_validation" {
            let player = value["user"]["id"].as_str().unwrap_or("");
            script
                .unknown_players
                .iter()
                .find(|(p, _)| p == player)
                .map_or(200, |(_, s)| *s)
        } else {
            script.first.pop_front().unwrap_or(script.then)
        }
    };
    // Recorded before answering: once the emulator has the answer, the test has the delivery.
    let _ = state.tx.send(Received {
        notification_type,
        body,
        signature_ok,
        at: Instant::now(),
        answered: status,
    });
    StatusCode::from_u16(status).unwrap()
}

/// A scripted receiver on 127.0.0.1; deliveries arrive on the returned channel.
pub async fn receiver(script: Script) -> (SocketAddr, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Arc::new(ReceiverState {
        script: Mutex::new(script),
        tx,
    });
    let app = axum::Router::new()
        .fallback(axum::routing::post(receive))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (addr, rx)
}

pub async fn next_webhook(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("timed out waiting for a webhook")
        .expect("receiver closed")
}

/// `POST /api/oauth2/token`; returns the JSON answer.
pub async fn token(base: &str, extra: &[(&str, &str)]) -> Value {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
    ];
    form.extend_from_slice(extra);
    let response = reqwest::Client::new()
        .post(format!("{base}/api/oauth2/token"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub async fn access_token(base: &str, extra: &[(&str, &str)]) -> String {
    token(base, extra).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// An answer: status and body bytes.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// A request to the emulator.
pub async fn call(
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    host_id: Option<&str>,
    body: Option<Value>,
) -> Answer {
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(host_id) = host_id {
        request = request.header("X-HOST-ID", host_id);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        body: response.bytes().await.unwrap(),
    }
}

/// The Backpack API document, with OpenAPI 3.0 `nullable` turned into JSON Schema.
pub struct Spec {
    doc: Value,
}

fn convert_30(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut out: serde_json::Map<String, Value> = map
                .iter()
                .map(|(k, v)| (k.clone(), convert_30(v)))
                .collect();
            if out.remove("nullable") == Some(Value::Bool(true)) {
                match out.get("type").cloned() {
                    Some(Value::String(t)) => {
                        out.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(&mut out));
                        out.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(convert_30).collect()),
        other => other.clone(),
    }
}

impl Spec {
    /// `spec/backpack.yaml`, read and walked with the xtask library (the code regen uses).
    pub fn load() -> Spec {
        let path = xtask::workspace_root()
            .join("spec")
            .join(xtask::regen::BACKPACK);
        let doc = xtask::load::read_document(&path).unwrap();
        Spec { doc }
    }

    /// Asserts that `answer` is a documented response of `method path` and that its body
    /// matches the documented schema.
    pub fn check(&self, method: &str, path: &str, answer: &Answer) {
        let op = xtask::openapi::operations(&self.doc)
            .into_iter()
            .find(|op| op.section == "paths" && op.path == path && op.method == method)
            .unwrap_or_else(|| panic!("{method} {path} is not in the spec"))
            .op;
        let responses = op["responses"].as_object().unwrap();
        let status = answer.status.to_string();
        let class = format!("{}XX", answer.status / 100);
        let response = responses
            .get(&status)
            .or_else(|| responses.get(&class))
            .or_else(|| responses.get("default"))
            .unwrap_or_else(|| {
                panic!(
                    "{method} {path} answered {status}, which the spec does not document \
                     (documented: {:?}); body: {:?}",
                    responses.keys().collect::<Vec<_>>(),
                    answer.body
                )
            });
        let response = xtask::openapi::resolve(&self.doc, response);
        let schema = &response["content"]["application/json"]["schema"];
        if schema.is_null() {
            assert!(
                answer.body.is_empty(),
                "{method} {path} {status} must have no body, got {:?}",
                answer.body
            );
            return;
        }
        let instance = answer.json();
        let components = convert_30(&self.doc["components"]["schemas"]);
        let root = json!({
            "allOf": [convert_30(schema)],
            "components": { "schemas": components },
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: body does not match the spec: {errors:?}\n{instance}"
        );
    }
}

/// Validates a webhook body against the generated payload schema of its type.
pub fn check_webhook(schemas: &[(&'static str, schemars::Schema)], body: &[u8]) {
    let value: Value = serde_json::from_slice(body).unwrap();
    let kind = value["notification_type"].as_str().unwrap();
    let (_, schema) = schemas
        .iter()
        .find(|(name, _)| *name == kind)
        .unwrap_or_else(|| panic!("no schema for {kind}"));
    let validator = jsonschema::validator_for(schema.as_value()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{kind} webhook: {errors:?}\n{value}");
}
