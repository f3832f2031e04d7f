//! Issue 20, end to end: a test server answers an SDK call with a response that differs from the
//! spec (an extra field, an integer where the spec says string) and the receivers get webhooks
//! that differ (an extra nested field, an enum value the spec does not list, a new
//! `notification_type`). One drift watch sees both; its report lists exactly those findings.
//! `xtask drift` turns the report into overlays whose verdict is minor, and regen with them types
//! the new fields.
//!
//! The Backpack API documents no enum in any response body (`spec/backpack.yaml`), so the unknown
//! enum value comes through the `move_to_game` webhook (`items[].type`).
//!
//! Its own test binary: the webhook watch is process-wide (`backpack_webhooks::drift`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::Path;

use axum::Router;
use axum::routing::get;
use backpack_drift::{DriftReport, DriftWatch, Family, Finding, Kind, Subject};
use backpack_sdk::BackpackClient;
use backpack_webhooks::{
    BackpackHandler, BackpackReceiver, MemoryStore, WebhookHandler, WebhookReceiver, WebhookSecret,
};

const SECRET: &str = "drift-e2e-secret";

struct Accept;
impl WebhookHandler for Accept {}
impl BackpackHandler for Accept {}

/// A documented `BackpackItem`, plus `rarity` (not in the spec) and `game_name` as an integer.
fn drifted_item() -> serde_json::Value {
    serde_json::json!({
        "item_id": "3f1e7c9a-0000-4000-8000-000000000001",
        "item_sku": "sword",
        "item_name": "Sword",
        "image_url": "https://cdn.example.com/sword.png",
        "image_proxy_url": null,
        "project_id": 2,
        "merchant_id": 1,
        "game_name": 42,
        "rarity": "epic"
    })
}

async fn serve() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let secret = WebhookSecret::new(SECRET);
    let app = Router::new()
        .route(
            "/web/backpack/items/{item_id}",
            get(|| async { axum::Json(drifted_item()) }),
        )
        .route_service(
            "/xsolla/webhook",
            WebhookReceiver::new(secret.clone(), Accept, MemoryStore::new()).unwrap(),
        )
        .route_service(
            "/backpack/webhook",
            BackpackReceiver::new(secret, Accept, MemoryStore::new()).unwrap(),
        );
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
    });
    format!("http://{addr}")
}

/// An SDK user client for `base` whose responses go through `watch`.
fn sdk_user(base: &str, watch: &DriftWatch) -> backpack_client::Client {
    BackpackClient::builder()
        .base_url(base)
        .token_source(backpack_sdk::StaticToken::new("merchant-token"))
        .drift_watch(watch.clone())
        .build()
        .unwrap()
        .user("user-token")
        .unwrap()
}

fn fixture(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/backpack-webhooks/tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

async fn deliver(base: &str, path: &str, body: &serde_json::Value) -> u16 {
    let body = serde_json::to_vec(body).unwrap();
    let authorization =
        backpack_webhooks::signature::authorization_value(&body, &WebhookSecret::new(SECRET));
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("authorization", authorization)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn finding(subject: Subject, kind: Kind, path: &str) -> Finding {
    Finding {
        subject,
        kind,
        path: path.into(),
        expected: None,
        seen: None,
        value: None,
    }
}

/// What the test sends that differs from the spec, and nothing else.
fn expected_findings() -> Vec<Finding> {
    let item = || Subject::Response {
        operation: "get-user-backpack-item".into(),
        status: "200".into(),
    };
    let webhook = |family, kind: &str| Subject::Webhook {
        family,
        notification_type: kind.into(),
    };
    let mut out = vec![
        Finding {
            seen: Some("string".into()),
            ..finding(item(), Kind::UnknownProperty, "$.rarity")
        },
        Finding {
            expected: Some("string".into()),
            seen: Some("integer".into()),
            ..finding(item(), Kind::TypeMismatch, "$.game_name")
        },
        Finding {
            seen: Some("string".into()),
            ..finding(
                webhook(Family::Store, "order_paid"),
                Kind::UnknownProperty,
                "$.order.sales_channel",
            )
        },
        finding(
            webhook(Family::Store, "loyalty_points_granted"),
            Kind::UnknownNotificationType,
            "$",
        ),
        Finding {
            seen: Some("string".into()),
            value: Some("bundle".into()),
            ..finding(
                webhook(Family::Backpack, "move_to_game"),
                Kind::UnknownEnumValue,
                "$.items[].type",
            )
        },
    ];
    out.sort();
    out
}

#[tokio::test(flavor = "current_thread")]
async fn sdk_and_receivers_report_exactly_the_drift_and_xtask_drift_types_it() {
    let base = serve().await;
    let watch = DriftWatch::new().unwrap();
    backpack_webhooks::drift::set_watch(Some(watch.clone()));

    // The SDK: the integer where the spec says string fails the typed call; the watch saw why.
    let user = sdk_user(&base, &watch);
    let call = user
        .get_user_backpack_item()
        .item_id(uuid::Uuid::nil())
        .send()
        .await;
    assert!(call.is_err(), "game_name: 42 cannot be a String");

    // The receivers: a documented order_paid with one more nested field, a move_to_game with an
    // unlisted item type, and a webhook type no document has. All are answered as usual.
    let mut paid = fixture("store/order_paid.doc_schema.json");
    paid["order"]["sales_channel"] = "mobile".into();
    assert_eq!(deliver(&base, "/xsolla/webhook", &paid).await, 204);
    let mut moved = fixture("backpack/move_to_game.doc_schema.json");
    moved["items"][0]["type"] = "bundle".into();
    assert_eq!(deliver(&base, "/backpack/webhook", &moved).await, 200);
    let new_type = serde_json::json!({"notification_type": "loyalty_points_granted", "user": {"id": "p"}, "points": 10});
    assert_eq!(deliver(&base, "/xsolla/webhook", &new_type).await, 204);
    backpack_webhooks::drift::set_watch(None);

    let report = watch.report();
    let found: Vec<Finding> = report.distinct().into_iter().cloned().collect();
    assert_eq!(found, expected_findings(), "{}", report.to_json());

    // Two processes' reports merge; the JSON round-trips.
    let mut merged = DriftReport::from_json(&report.to_json()).unwrap();
    merged.merge(&report);
    assert!(merged.findings.iter().all(|o| o.count == 2));

    // xtask drift, on a scratch copy of spec/ (regen reads nothing else).
    let scratch = tempfile::tempdir().unwrap();
    copy_dir(
        &xtask::workspace_root().join("spec"),
        &scratch.path().join("spec"),
    );
    let file = scratch.path().join("report.json");
    report.write_to(&file).unwrap();
    let proposals = xtask::drift::propose(
        scratch.path(),
        &xtask::drift::read_reports(std::slice::from_ref(&file)).unwrap(),
    )
    .unwrap();
    let by_doc = |doc: &str| proposals.iter().find(|p| p.document == doc).unwrap();
    // webhooks.yaml: one new optional field, a minor release; the new webhook type is left to a
    // maintainer (the watch keeps no body to build its schema from).
    let store = by_doc("webhooks.yaml");
    assert!(
        store.verdict.contains("backpack-types: minor"),
        "{}",
        store.verdict
    );
    assert!(!store.major);
    assert_eq!(store.by_hand.len(), 1, "{:?}", store.by_hand);
    assert!(store.by_hand[0].contains("loyalty_points_granted"));
    // backpack.yaml: a new field and enum value are minor, and so is `game_name`: it stays a
    // `String` that also reads the integer (`x-backpack-also-accepts`), no field changes type.
    let api = by_doc("backpack.yaml");
    assert!(api.by_hand.is_empty(), "{:?}", api.by_hand);
    assert!(!api.major, "{}", api.verdict);
    assert!(
        api.verdict.contains("backpack-types: minor"),
        "{}",
        api.verdict
    );
    assert!(
        api.verdict.contains("field game_name also reads integer"),
        "{}",
        api.verdict
    );
    assert!(api.verdict.contains("rarity"), "{}", api.verdict);
    assert!(api.verdict.contains("\"bundle\" added"), "{}", api.verdict);

    // What `cargo xtask drift FILE` does: the same proposals, written into spec/overlays/.
    let written = xtask::drift::run(scratch.path(), &[file], None).unwrap();
    assert_eq!(written.len(), 2, "one overlay per document: {written:?}");

    // Regen with the overlays: the observed fields and value are typed.
    let files = xtask::regen::generate_all(scratch.path()).unwrap();
    let text = |path: &str| &files.iter().find(|f| f.path == path).unwrap().contents;
    let api_rs = text("generated/backpack-types/src/api.rs");
    let webhooks_rs = text("generated/backpack-types/src/webhooks.rs");
    let has = |text: &str, field: &str, ty: &str| {
        text.lines()
            .any(|l| l.trim_start().starts_with(&format!("pub {field}: Option<")) && l.contains(ty))
    };
    assert!(has(api_rs, "rarity", "String"), "rarity is typed");
    assert!(
        has(api_rs, "game_name", "String"),
        "game_name stays a String"
    );
    assert!(
        api_rs.contains("deserialize_with = \"option_string_or_number\""),
        "game_name also reads a number"
    );
    assert!(api_rs.contains("Bundle"), "the enum value is a variant");
    assert!(
        has(webhooks_rs, "sales_channel", "String"),
        "sales_channel is typed"
    );
    // A watch over the regenerated schemas sees nothing in the same traffic but the new type.
    let schemas = text("generated/backpack-types/src/drift_schemas.rs");
    let documents: Vec<&str> = schemas
        .split("r#\"")
        .skip(1)
        .map(|rest| rest.split("\"#").next().unwrap())
        .collect();
    assert_eq!(documents.len(), 2);
    let regenerated = backpack_drift::Schemas::from_documents(&documents, "regenerated").unwrap();
    let after = DriftWatch::with_schemas(std::sync::Arc::new(regenerated));
    let item = serde_json::to_vec(&drifted_item()).unwrap();
    after.check_response(
        "GET",
        "/web/backpack/items/x",
        200,
        Some("application/json"),
        &item,
    );
    after.check_webhook(
        Family::Store,
        "order_paid",
        &serde_json::to_vec(&paid).unwrap(),
    );
    after.check_webhook(
        Family::Backpack,
        "move_to_game",
        &serde_json::to_vec(&moved).unwrap(),
    );
    after.check_webhook(
        Family::Store,
        "loyalty_points_granted",
        &serde_json::to_vec(&new_type).unwrap(),
    );
    let left: Vec<Kind> = after
        .report()
        .findings
        .iter()
        .map(|o| o.finding.kind)
        .collect();
    assert_eq!(left, [Kind::UnknownNotificationType]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The two ways the SDK reads a body for the watch, besides the generated client's JSON reads
/// (above): a status the spec does not list for the operation (the generated client does not
/// decode that body, so the SDK reads it first), and `Transport::send` called directly (the
/// caller reads the body, so the SDK reads it first). Both are reported.
#[tokio::test(flavor = "current_thread")]
async fn sdk_reports_bodies_it_reads_ahead() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = Router::new()
        .route(
            "/web/backpack/items",
            get(|| async {
                (
                    http::StatusCode::IM_A_TEAPOT,
                    axum::Json(serde_json::json!({})),
                )
            }),
        )
        .route(
            "/web/backpack/items/{item_id}",
            get(|| async { axum::Json(drifted_item()) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    let watch = DriftWatch::new().unwrap();

    let call = sdk_user(&base, &watch)
        .get_user_backpack_items()
        .send()
        .await;
    assert!(call.is_err(), "418 is not a documented answer");

    let transport = backpack_sdk::Transport::builder()
        .user_token("user-token")
        .drift_watch(watch.clone())
        .build()
        .unwrap();
    let url = format!("{base}/web/backpack/items/{}", uuid::Uuid::nil());
    let request = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
    let response = transport
        .send(&reqwest::Client::new(), request)
        .await
        .unwrap();
    // The caller still gets the whole body.
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body, drifted_item());

    let report = watch.report();
    let kinds: Vec<(String, Kind)> = report
        .distinct()
        .into_iter()
        .map(|f| (f.path.clone(), f.kind))
        .collect();
    assert!(
        kinds.contains(&("$".into(), Kind::UndocumentedStatus)),
        "{}",
        report.to_json()
    );
    assert!(kinds.contains(&("$.rarity".into(), Kind::UnknownProperty)));
    assert!(kinds.contains(&("$.game_name".into(), Kind::TypeMismatch)));
}
