//! End-to-end tests of `backpack emulator` over loopback: the binary runs as a child process,
//! a scripted receiver inside the test gets its webhooks, and every API answer is checked
//! against `spec/backpack.yaml`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use backpack_sdk::{ClientCredentials, RefreshTokenGrant, TokenCache, TokenSource, Transport};
use common::*;
use reqwest::Method;
use serde_json::{Value, json};

const USER: &str = "6f1c2a3e-5b7d-4e8f-9a0b-1c2d3e4f5a6b";
const GAMES: &str = "/web/backpack/merchants/{merchantId}/projects/{projectId}/games";
const VIRTUAL_ITEMS: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/user/{userId}/virtual_items";
const VIRTUAL_CURRENCY: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/user/{userId}/virtual_currency";
const GAME_KEYS: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/user/{userId}/game_keys";
const PROMO_CODES: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/user/{userId}/promo_codes";
const ITEMS_LIST: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/users/{userId}/items";
const ITEM_DELETE: &str =
    "/web/backpack/merchants/{merchantId}/projects/{projectId}/users/{userId}/items/{itemId}";
const USER_ITEMS: &str = "/web/backpack/items";
const USER_ITEM: &str = "/web/backpack/items/{itemId}";
const MOVE_ITEM: &str = "/web/backpack/virtual_items/move_to_game";
const MOVE_CURRENCY: &str = "/web/backpack/virtual_currency/move_to_game";
const TO_WALLET: &str = "/web/backpack/virtual_currency/receive";

fn emulator_args<'a>(db: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "emulator",
        "--listen",
        "127.0.0.1:0",
        "--db",
        db,
        "--host-id",
        HOST_ID,
    ];
    args.extend_from_slice(extra);
    args
}

/// Merchant-side call on project 1/2.
async fn merchant(
    emu: &Proc,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Answer {
    call(method, &emu.url(path), Some(token), Some(HOST_ID), body).await
}

fn virtual_items_body() -> Value {
    json!([
        {"item_sku": "sword", "item_name": "Sword", "image_url": "https://img.example/sword.png",
         "external_game_id": "game-1"},
        {"item_sku": "shield", "item_name": "Shield", "image_url": "https://img.example/shield.png",
         "description": "A shield", "platform": "steam"}
    ])
}

fn item_ids(answer: &Answer) -> Vec<String> {
    answer
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_id"].as_str().unwrap().to_owned())
        .collect()
}

fn move_body(item_id: &str, player: &str) -> Value {
    json!({"item_id": item_id, "user_game_id": player, "project_id": 2, "merchant_id": 1})
}

/// The full flow: token → game → grant → list → move; the receiver checks signatures, answers
/// 500 twice, the emulator is SIGKILLed between attempts 2 and 3 and restarted on the same
/// database, and attempt 3 still arrives — once — on the compressed schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn move_sends_signed_webhooks_and_retries_survive_sigkill() {
    let spec = Spec::load();
    let store_schemas = backpack_types::webhooks::WebhookEvent::payload_schemas();
    let backpack_schemas = backpack_types::api::BackpackWebhookEvent::payload_schemas();
    let (recv_addr, mut webhooks) = receiver(Script {
        first: [500, 500].into(),
        then: 204,
        ..Script::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let db = db.to_str().unwrap();
    let webhook_url = format!("http://{recv_addr}/xsolla");
    // 100x: 5 minutes become 3 s, long enough to kill the emulator between two attempts.
    let scale_delay = Duration::from_secs(3);
    // The receiver's clock sees each attempt a little after the emulator sent it; a retry that
    // honours the delay can never come sooner than this.
    let at_least = scale_delay * 3 / 4;
    let args = emulator_args(
        db,
        &[
            "--webhook-url",
            &webhook_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
            "--time-scale",
            "100",
        ],
    );
    let env = [("RUST_LOG", "debug")];
    let mut emu = Proc::start(&args, &env).await;
    let base = emu.url("");

    let merchant_token = access_token(&base, &[]).await;
    let created = merchant(
        &emu,
        Method::POST,
        "/web/backpack/merchants/1/projects/2/games",
        &merchant_token,
        Some(json!({"external_game_id": "game-1", "game_name": "Game One"})),
    )
    .await;
    spec.check("post", GAMES, &created);
    assert_eq!(created.status, 201);

    let granted = merchant(
        &emu,
        Method::POST,
        &format!("/web/backpack/merchants/1/projects/2/user/{USER}/virtual_items"),
        &merchant_token,
        Some(virtual_items_body()),
    )
    .await;
    spec.check("post", VIRTUAL_ITEMS, &granted);
    assert_eq!(granted.status, 201);
    let ids = item_ids(&granted);
    assert_eq!(
        granted.json()[0]["game_name"],
        "Game One",
        "inherited from the game"
    );

    let listed = merchant(
        &emu,
        Method::GET,
        &format!("/web/backpack/merchants/1/projects/2/users/{USER}/items"),
        &merchant_token,
        None,
    )
    .await;
    spec.check("get", ITEMS_LIST, &listed);
    assert_eq!(item_ids(&listed), ids);

    let user_token = access_token(&base, &[("user_id", USER)]).await;
    let mine = call(
        Method::GET,
        &emu.url(USER_ITEMS),
        Some(&user_token),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEMS, &mine);
    assert_eq!(item_ids(&mine), ids);

    let moved = call(
        Method::POST,
        &emu.url(MOVE_ITEM),
        Some(&user_token),
        None,
        Some(move_body(&ids[0], "player-1")),
    )
    .await;
    spec.check("post", MOVE_ITEM, &moved);
    assert_eq!(moved.status, 200, "{:?}", moved.body);

    // user_validation first, answered before the move returned.
    let validation = next_webhook(&mut webhooks).await;
    assert_eq!(validation.notification_type, "user_validation");
    assert!(validation.signature_ok, "user_validation is signed");
    check_webhook(&backpack_schemas, &validation.body);
    let v: Value = serde_json::from_slice(&validation.body).unwrap();
    assert_eq!(v["user"]["id"], "player-1");
    assert_eq!(v["settings"], json!({"merchant_id": 1, "project_id": 2}));

    // Then order_paid: attempt 1 (500), attempt 2 (500) one scaled 5-minute delay later.
    let first = next_webhook(&mut webhooks).await;
    assert_eq!(first.notification_type, "order_paid");
    assert!(first.signature_ok);
    check_webhook(&store_schemas, &first.body);
    let paid: Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(paid["items"][0]["sku"], "sword");
    assert_eq!(paid["items"][0]["type"], "virtual_good");
    assert_eq!(paid["user"]["external_id"], "player-1");
    assert_eq!(
        paid["custom_parameters"]["backpack_item_id"],
        ids[0].as_str()
    );
    let second = next_webhook(&mut webhooks).await;
    assert_eq!(second.notification_type, "order_paid");
    assert_eq!(second.body, first.body, "a retry carries the same bytes");
    assert!(
        second.at - first.at >= at_least,
        "retry came early: {:?}",
        second.at - first.at
    );

    // Kill as soon as attempt 2's 500 is recorded, long before attempt 3 is due.
    emu.stderr_line(|l| {
        l.contains("webhook delivery attempt")
            && l.contains("attempt=2")
            && l.contains("status=500")
    })
    .await
    .expect("attempt 2 logged");
    let logs_before = emu.stderr_text();
    emu.kill();
    let killed_at = std::time::Instant::now();
    assert!(
        webhooks.try_recv().is_err(),
        "nothing else was delivered before the kill"
    );

    let mut emu = Proc::start(&args, &env).await;
    let third = next_webhook(&mut webhooks).await;
    assert_eq!(third.notification_type, "order_paid");
    assert!(third.signature_ok);
    assert_eq!(third.body, first.body);
    assert!(
        third.at > killed_at,
        "attempt 3 came from the restarted emulator"
    );
    assert!(
        third.at - second.at >= at_least,
        "attempt 3 came early: {:?}",
        third.at - second.at
    );
    emu.stderr_line(|l| l.contains("attempt=3") && l.contains("outcome=delivered"))
        .await
        .expect("attempt 3 logged as delivered");
    let outbox = call(Method::GET, &emu.url("/emulator/outbox"), None, None, None).await;
    let outbox = outbox.json();
    assert_eq!(outbox.as_array().unwrap().len(), 1);
    assert_eq!(outbox[0]["state"], "delivered");
    assert_eq!(outbox[0]["attempts"], 3);
    assert!(
        webhooks.try_recv().is_err(),
        "exactly 1 user_validation and 3 order_paid attempts"
    );

    // The state survived the SIGKILL, and so did the tokens (signed with a key in the db).
    let item = call(
        Method::GET,
        &emu.url(&format!("/web/backpack/items/{}", ids[0])),
        Some(&user_token),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEM, &item);
    assert_eq!(item.json()["item_status"], "moved_to_game");
    let again = call(
        Method::POST,
        &emu.url(MOVE_ITEM),
        Some(&user_token),
        None,
        Some(move_body(&ids[0], "player-1")),
    )
    .await;
    spec.check("post", MOVE_ITEM, &again);
    assert_eq!(again.status, 400, "an item moves once");

    // Secrets never reach the logs (debug level).
    let logs = format!("{logs_before}\n{}", emu.stderr_text());
    for secret in [
        WEBHOOK_SECRET,
        HOST_ID,
        CLIENT_SECRET,
        merchant_token.as_str(),
        user_token.as_str(),
    ] {
        assert!(!logs.contains(secret), "a secret leaked into the logs");
    }
}

/// The conformance check itself refuses an undocumented status.
#[test]
#[should_panic(expected = "does not document")]
fn spec_check_refuses_undocumented_statuses() {
    Spec::load().check(
        "post",
        MOVE_ITEM,
        &Answer {
            status: 201,
            body: Default::default(),
        },
    );
}

/// The conformance check itself refuses a body that does not match the schema.
#[test]
#[should_panic(expected = "does not match the spec")]
fn spec_check_refuses_bodies_off_schema() {
    Spec::load().check(
        "get",
        USER_ITEM,
        &Answer {
            status: 200,
            body: br#"{"item_id": 5}"#.to_vec().into(),
        },
    );
}

/// user_validation decides: 404 → the move fails with 404, 500 → 500; it is sent once and no
/// delivery is queued.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_user_validation_fails_the_move_and_is_not_resent() {
    let spec = Spec::load();
    let (recv_addr, mut webhooks) = receiver(Script {
        unknown_players: vec![("ghost".into(), 404), ("flaky".into(), 503)],
        then: 204,
        ..Script::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let webhook_url = format!("http://{recv_addr}/");
    let args = emulator_args(
        db.to_str().unwrap(),
        &[
            "--webhook-url",
            &webhook_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
        ],
    );
    let emu = Proc::start(&args, &[]).await;
    let base = emu.url("");
    let merchant_token = access_token(&base, &[]).await;
    let granted = merchant(
        &emu,
        Method::POST,
        &format!("/web/backpack/merchants/1/projects/2/user/{USER}/virtual_items"),
        &merchant_token,
        Some(virtual_items_body()),
    )
    .await;
    let ids = item_ids(&granted);
    let user_token = access_token(&base, &[("user_id", USER)]).await;

    for (player, status) in [("ghost", 404), ("flaky", 500)] {
        let moved = call(
            Method::POST,
            &emu.url(MOVE_ITEM),
            Some(&user_token),
            None,
            Some(move_body(&ids[0], player)),
        )
        .await;
        spec.check("post", MOVE_ITEM, &moved);
        assert_eq!(moved.status, status, "{player}");
        let validation = next_webhook(&mut webhooks).await;
        assert_eq!(validation.notification_type, "user_validation");
    }

    // A receiver that does not answer at all (closed port) also fails the move.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("emulator.sqlite");
    let args2 = emulator_args(
        db2.to_str().unwrap(),
        &[
            "--webhook-url",
            &closed_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
        ],
    );
    let emu2 = Proc::start(&args2, &[]).await;
    let token2 = access_token(&emu2.url(""), &[]).await;
    let granted2 = merchant(
        &emu2,
        Method::POST,
        &format!("/web/backpack/merchants/1/projects/2/user/{USER}/virtual_items"),
        &token2,
        Some(virtual_items_body()),
    )
    .await;
    let user2 = access_token(&emu2.url(""), &[("user_id", USER)]).await;
    let moved = call(
        Method::POST,
        &emu2.url(MOVE_ITEM),
        Some(&user2),
        None,
        Some(move_body(&item_ids(&granted2)[0], "player-1")),
    )
    .await;
    spec.check("post", MOVE_ITEM, &moved);
    assert_eq!(moved.status, 500);

    // Nothing queued, the item is still available, nothing more was sent.
    let outbox = call(Method::GET, &emu.url("/emulator/outbox"), None, None, None).await;
    assert_eq!(outbox.json(), json!([]));
    let item = call(
        Method::GET,
        &emu.url(&format!("/web/backpack/items/{}", ids[0])),
        Some(&user_token),
        None,
        None,
    )
    .await;
    assert_eq!(item.json()["item_status"], "available");
    assert!(webhooks.try_recv().is_err());
}

/// `--legacy-move-webhook` sends Backpack `move_to_game`; a 404 answer stops the schedule.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_move_webhook_and_a_stopping_answer() {
    let spec = Spec::load();
    let schemas = backpack_types::api::BackpackWebhookEvent::payload_schemas();
    let (recv_addr, mut webhooks) = receiver(Script {
        then: 404,
        ..Script::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let webhook_url = format!("http://{recv_addr}/");
    let args = emulator_args(
        db.to_str().unwrap(),
        &[
            "--webhook-url",
            &webhook_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
            "--legacy-move-webhook",
            "--time-scale",
            "6000",
        ],
    );
    let mut emu = Proc::start(&args, &[]).await;
    let base = emu.url("");
    let merchant_token = access_token(&base, &[]).await;
    let granted = merchant(
        &emu,
        Method::POST,
        &format!("/web/backpack/merchants/1/projects/2/user/{USER}/virtual_currency"),
        &merchant_token,
        Some(json!([{"item_sku": "gold", "item_name": "Gold", "image_url": "https://img.example/g.png",
                     "price": 4.99, "currency": "USD", "quantity": 500}])),
    )
    .await;
    spec.check("post", VIRTUAL_CURRENCY, &granted);
    let ids = item_ids(&granted);
    let user_token = access_token(&base, &[("user_id", USER)]).await;
    let moved = call(
        Method::POST,
        &emu.url(MOVE_CURRENCY),
        Some(&user_token),
        None,
        Some(move_body(&ids[0], "player-9")),
    )
    .await;
    spec.check("post", MOVE_CURRENCY, &moved);
    assert_eq!(moved.status, 200);

    assert_eq!(
        next_webhook(&mut webhooks).await.notification_type,
        "user_validation"
    );
    let delivery = next_webhook(&mut webhooks).await;
    assert_eq!(delivery.notification_type, "move_to_game");
    assert!(delivery.signature_ok);
    check_webhook(&schemas, &delivery.body);
    let body: Value = serde_json::from_slice(&delivery.body).unwrap();
    assert_eq!(
        body["items"][0],
        json!({"id": ids[0], "sku": "gold", "type": "virtual_currency", "quantity": 500})
    );
    assert_eq!(body["user"]["id"], "player-9");

    emu.stderr_line(|l| l.contains("attempt=1") && l.contains("outcome=rejected"))
        .await
        .expect("404 stops the schedule");
    let outbox = call(Method::GET, &emu.url("/emulator/outbox"), None, None, None).await;
    let outbox = outbox.json();
    assert_eq!(outbox[0]["state"], "rejected");
    assert_eq!(outbox[0]["attempts"], 1);
    assert_eq!(outbox[0]["last_status"], 404);
    assert!(webhooks.try_recv().is_err(), "not retried");
}

/// Every operation, success and error paths, checked against the spec's documented statuses and
/// response schemas; plus the auth rules.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_answers_as_documented() {
    let spec = Spec::load();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let emu = Proc::start(&emulator_args(db.to_str().unwrap(), &[]), &[]).await;
    let base = emu.url("");
    let t = access_token(&base, &[]).await;
    let p = "/web/backpack/merchants/1/projects/2";

    // Games.
    let created = merchant(
        &emu,
        Method::POST,
        &format!("{p}/games"),
        &t,
        Some(json!({"external_game_id": "g", "game_name": "G", "merchant_id": 1, "project_id": 2})),
    )
    .await;
    spec.check("post", GAMES, &created);
    assert_eq!(created.status, 201);
    let duplicate = merchant(
        &emu,
        Method::POST,
        &format!("{p}/games"),
        &t,
        Some(json!({"external_game_id": "g"})),
    )
    .await;
    spec.check("post", GAMES, &duplicate);
    assert_eq!(duplicate.status, 400);
    let updated = merchant(
        &emu,
        Method::PUT,
        &format!("{p}/games"),
        &t,
        Some(json!({"external_game_id": "g", "game_image_url": "https://img.example/g.png"})),
    )
    .await;
    spec.check("put", GAMES, &updated);
    assert_eq!(updated.status, 204);
    let missing = merchant(
        &emu,
        Method::PUT,
        &format!("{p}/games"),
        &t,
        Some(json!({"external_game_id": "nope"})),
    )
    .await;
    spec.check("put", GAMES, &missing);
    assert_eq!(missing.status, 422);
    let games = merchant(&emu, Method::GET, &format!("{p}/games"), &t, None).await;
    spec.check("get", GAMES, &games);
    assert_eq!(games.status, 200);
    assert_eq!(
        games.json()[0]["game_image_url"],
        "https://img.example/g.png"
    );

    // Grants of every kind.
    let u = format!("{p}/user/{USER}");
    let keys = merchant(
        &emu,
        Method::POST,
        &format!("{u}/game_keys"),
        &t,
        Some(json!([{"image_url": "https://img.example/k.png", "item_sku": "key", "code": "AAAA-BBBB", "external_game_id": "g"}])),
    )
    .await;
    spec.check("post", GAME_KEYS, &keys);
    assert_eq!(keys.status, 201);
    let promos = merchant(
        &emu,
        Method::POST,
        &format!("{u}/promo_codes"),
        &t,
        Some(json!([{"item_sku": "promo", "item_name": "Promo", "image_url": "https://img.example/p.png", "promo_code": "WELCOME"}])),
    )
    .await;
    spec.check("post", PROMO_CODES, &promos);
    assert_eq!(promos.status, 201);
    let bad_promo = merchant(
        &emu,
        Method::POST,
        &format!("{u}/promo_codes"),
        &t,
        Some(json!([{"item_sku": "promo"}])),
    )
    .await;
    spec.check("post", PROMO_CODES, &bad_promo);
    assert_eq!(bad_promo.status, 400);
    let currency = merchant(
        &emu,
        Method::POST,
        &format!("{u}/virtual_currency"),
        &t,
        Some(json!([{"image_url": "https://img.example/c.png", "item_sku": "gold", "item_name": "Gold", "price": 1.5, "currency": "USD", "quantity": 100}])),
    )
    .await;
    spec.check("post", VIRTUAL_CURRENCY, &currency);
    assert_eq!(currency.json()[0]["is_external_vc"], false);
    let items = merchant(
        &emu,
        Method::POST,
        &format!("{u}/virtual_items"),
        &t,
        Some(virtual_items_body()),
    )
    .await;
    spec.check("post", VIRTUAL_ITEMS, &items);
    let bad_sku = merchant(
        &emu,
        Method::POST,
        &format!("{u}/virtual_items"),
        &t,
        Some(json!([{"item_sku": "Bad SKU", "item_name": "x", "image_url": "y"}])),
    )
    .await;
    spec.check("post", VIRTUAL_ITEMS, &bad_sku);
    assert_eq!(bad_sku.status, 400);
    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"item_sku": format!("s{i}"), "item_name": "x", "image_url": "y"}))
        .collect();
    let too_many = merchant(
        &emu,
        Method::POST,
        &format!("{u}/virtual_items"),
        &t,
        Some(Value::Array(too_many)),
    )
    .await;
    assert_eq!(too_many.status, 400);

    // Listing with paging.
    let list = format!("{p}/users/{USER}/items");
    let all = merchant(&emu, Method::GET, &list, &t, None).await;
    spec.check("get", ITEMS_LIST, &all);
    assert_eq!(all.json().as_array().unwrap().len(), 5);
    let page = merchant(
        &emu,
        Method::GET,
        &format!("{list}?offset=1&limit=2"),
        &t,
        None,
    )
    .await;
    spec.check("get", ITEMS_LIST, &page);
    assert_eq!(item_ids(&page), item_ids(&all)[1..3].to_vec());
    let bad_query = merchant(&emu, Method::GET, &format!("{list}?limit=-1"), &t, None).await;
    spec.check("get", ITEMS_LIST, &bad_query);
    assert_eq!(bad_query.status, 400);

    // User side.
    let ut = access_token(&base, &[("user_id", USER)]).await;
    let vc_only = call(
        Method::GET,
        &emu.url("/web/backpack/items?item_type=virtual_currency&item_type=game_key"),
        Some(&ut),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEMS, &vc_only);
    let kinds: Vec<String> = vc_only
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["item_type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kinds, ["game_key", "virtual_currency"]);
    let grouped = call(
        Method::GET,
        &emu.url("/web/backpack/items?group=game_name&limit=2"),
        Some(&ut),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEMS, &grouped);
    assert_eq!(grouped.json().as_array().unwrap().len(), 2);
    let bad_group = call(
        Method::GET,
        &emu.url("/web/backpack/items?group=colour"),
        Some(&ut),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEMS, &bad_group);
    assert_eq!(bad_group.status, 400);
    let gold = item_ids(&currency)[0].clone();
    let one = call(
        Method::GET,
        &emu.url(&format!("/web/backpack/items/{gold}")),
        Some(&ut),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEM, &one);
    assert_eq!(one.json()["quantity"], 100);
    let none = call(
        Method::GET,
        &emu.url(&format!("/web/backpack/items/{}", uuid::Uuid::new_v4())),
        Some(&ut),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEM, &none);
    assert_eq!(none.status, 404);

    // Moves (no --webhook-url: recorded, nothing sent).
    let wallet_body = json!({"item_id": gold, "project_id": 2, "merchant_id": 1});
    let wallet = call(
        Method::POST,
        &emu.url(TO_WALLET),
        Some(&ut),
        None,
        Some(wallet_body.clone()),
    )
    .await;
    spec.check("post", TO_WALLET, &wallet);
    assert_eq!(wallet.status, 200);
    let twice = call(
        Method::POST,
        &emu.url(TO_WALLET),
        Some(&ut),
        None,
        Some(wallet_body),
    )
    .await;
    spec.check("post", TO_WALLET, &twice);
    assert_eq!(twice.status, 400);
    let sword = item_ids(&items)[0].clone();
    let wrong_kind = call(
        Method::POST,
        &emu.url(MOVE_CURRENCY),
        Some(&ut),
        None,
        Some(move_body(&sword, "p")),
    )
    .await;
    spec.check("post", MOVE_CURRENCY, &wrong_kind);
    assert_eq!(wrong_kind.status, 400);
    let other_project = call(
        Method::POST,
        &emu.url(MOVE_ITEM),
        Some(&ut),
        None,
        Some(json!({"item_id": sword, "user_game_id": "p", "project_id": 3, "merchant_id": 1})),
    )
    .await;
    spec.check("post", MOVE_ITEM, &other_project);
    assert_eq!(other_project.status, 404);
    let moved = call(
        Method::POST,
        &emu.url(MOVE_ITEM),
        Some(&ut),
        None,
        Some(move_body(&sword, "p")),
    )
    .await;
    spec.check("post", MOVE_ITEM, &moved);
    assert_eq!(moved.status, 200);

    // Delete.
    let shield = item_ids(&items)[1].clone();
    let deleted = merchant(&emu, Method::DELETE, &format!("{list}/{shield}"), &t, None).await;
    spec.check("delete", ITEM_DELETE, &deleted);
    assert_eq!(deleted.status, 204);
    let gone = merchant(&emu, Method::DELETE, &format!("{list}/{shield}"), &t, None).await;
    spec.check("delete", ITEM_DELETE, &gone);
    assert_eq!(gone.status, 404);

    // Auth rules: no token, a foreign token, the wrong kind, the wrong X-HOST-ID.
    let no_token = call(Method::GET, &emu.url(&list), None, Some(HOST_ID), None).await;
    spec.check("get", ITEMS_LIST, &no_token);
    // The list call's published `default` response makes 4XX documented, so refused
    // credentials get 401 there (see spec/NOTES.md, B10).
    assert_eq!(no_token.status, 401);
    let forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    let foreign = call(
        Method::GET,
        &emu.url(&list),
        Some(forged),
        Some(HOST_ID),
        None,
    )
    .await;
    spec.check("get", ITEMS_LIST, &foreign);
    assert_eq!(foreign.status, 401);
    let user_on_merchant = call(Method::GET, &emu.url(&list), Some(&ut), Some(HOST_ID), None).await;
    spec.check("get", ITEMS_LIST, &user_on_merchant);
    assert_eq!(user_on_merchant.status, 401);
    let merchant_on_user = call(Method::GET, &emu.url(USER_ITEMS), Some(&t), None, None).await;
    spec.check("get", USER_ITEMS, &merchant_on_user);
    assert_eq!(merchant_on_user.status, 400);
    let wrong_host = call(
        Method::PUT,
        &emu.url(&format!("{p}/games")),
        Some(&t),
        Some("00000000-0000-4000-8000-000000000000"),
        Some(json!({"external_game_id": "g"})),
    )
    .await;
    spec.check("put", GAMES, &wrong_host);
    assert_eq!(wrong_host.status, 401);
    let no_host = call(Method::GET, &emu.url(&list), Some(&t), None, None).await;
    spec.check("get", ITEMS_LIST, &no_host);
    assert_eq!(no_host.status, 400);
    // get-games documents only 2XX; like the generated router for a missing token, the emulator
    // answers a refused token with 401 there.
    let games_refused = call(
        Method::GET,
        &emu.url(&format!("{p}/games")),
        Some(forged),
        Some(HOST_ID),
        None,
    )
    .await;
    assert_eq!(games_refused.status, 401);

    // Token endpoint errors (Login's error shape).
    let client = reqwest::Client::new();
    let wrong_secret = client
        .post(emu.url("/api/oauth2/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", CLIENT_ID),
            ("client_secret", "wrong"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_secret.status(), 401);
    let body: Value = wrong_secret.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_client");
    let bad_grant = client
        .post(emu.url("/api/oauth2/token"))
        .form(&[("grant_type", "password"), ("client_id", CLIENT_ID)])
        .send()
        .await
        .unwrap();
    assert_eq!(bad_grant.status(), 400);
}

/// A short `--token-ttl`: the SDK's token cache and Transport refresh against the emulator's
/// Login-style endpoint, expired tokens are refused, and user refresh tokens rotate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_token_refresh_with_a_short_ttl() {
    let spec = Spec::load();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let emu = Proc::start(
        &emulator_args(db.to_str().unwrap(), &["--token-ttl", "2"]),
        &[],
    )
    .await;
    let token_url = emu.url("/api/oauth2/token");
    let transport = Transport::builder()
        .token_source(ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(&token_url))
        .host_id(HOST_ID)
        .build()
        .unwrap();
    let client = transport.settings().build_reqwest_client().unwrap();
    let games_url = emu.url("/web/backpack/merchants/1/projects/2/games");

    let list_games = || async {
        let mut request = client.get(&games_url).build().unwrap();
        transport.prepare(&mut request).await.unwrap();
        let sent = request
            .headers()
            .get("authorization")
            .unwrap()
            .to_str()
            .unwrap()
            .trim_start_matches("Bearer ")
            .to_owned();
        let response = transport.send(&client, request).await.unwrap();
        (response.status().as_u16(), sent)
    };
    let (status, first) = list_games().await;
    assert_eq!(status, 200);

    // Let the token expire: the behaviour under test is wall-clock expiry, so the test waits
    // until the token's own `exp` (whole seconds) has passed.
    let claims: Value = jsonwebtoken::dangerous::insecure_decode_claims(&first).unwrap();
    let exp = Duration::from_secs(claims["exp"].as_u64().unwrap());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    assert!(
        exp >= now + Duration::from_secs(1),
        "lives at least about the ttl"
    );
    tokio::time::sleep(exp.saturating_sub(now) + Duration::from_millis(50)).await;
    let expired = call(
        Method::GET,
        &emu.url(&format!(
            "/web/backpack/merchants/1/projects/2/users/{USER}/items"
        )),
        Some(&first),
        Some(HOST_ID),
        None,
    )
    .await;
    spec.check("get", ITEMS_LIST, &expired);
    assert_eq!(expired.status, 401);
    assert!(String::from_utf8_lossy(&expired.body).contains("expired"));

    let (status, second) = list_games().await;
    assert_eq!(status, 200, "the SDK fetched a fresh token");
    assert_ne!(first, second);

    // The token cache on its own, too.
    let cache = TokenCache::new(
        ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(&token_url),
    );
    let a = cache.token().await.unwrap();
    assert!(a.expires_at() <= std::time::Instant::now() + Duration::from_secs(2));

    // User tokens come with a refresh token that rotates.
    let answer = token(&emu.url(""), &[("user_id", USER)]).await;
    assert_eq!(answer["expires_in"], 2);
    let refresh = answer["refresh_token"].as_str().unwrap().to_owned();
    let grant = RefreshTokenGrant::new(CLIENT_ID, refresh.clone())
        .with_client_secret(CLIENT_SECRET)
        .with_token_url(&token_url);
    let fresh = grant.fetch_token().await.unwrap();
    let mine = call(
        Method::GET,
        &emu.url(USER_ITEMS),
        Some(fresh.access_token().expose()),
        None,
        None,
    )
    .await;
    spec.check("get", USER_ITEMS, &mine);
    assert_eq!(mine.status, 200);
    assert_ne!(grant.refresh_token().expose(), refresh, "rotated");
    let reused = RefreshTokenGrant::new(CLIENT_ID, refresh)
        .with_token_url(&token_url)
        .fetch_token()
        .await;
    assert!(reused.is_err(), "a refresh token works once");
}

/// `backpack emulator trigger TYPE` makes a running emulator send any webhook type.
#[tokio::test]
async fn trigger_command_sends_any_type_through_the_running_emulator() {
    let (recv_addr, mut webhooks) = receiver(Script {
        then: 204,
        ..Script::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("emulator.sqlite");
    let webhook_url = format!("http://{recv_addr}/");
    let args = emulator_args(
        db.to_str().unwrap(),
        &[
            "--webhook-url",
            &webhook_url,
            "--webhook-secret",
            WEBHOOK_SECRET,
        ],
    );
    let emu = Proc::start(&args, &[]).await;
    let base = emu.url("");
    let output = bin()
        .args(["emulator", "trigger", "refund", "--emulator", &base])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let line: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(line["type"], "refund");
    assert_eq!(line["policy"], "payment");
    assert_eq!(line["max_attempts"], 12);
    let got = next_webhook(&mut webhooks).await;
    assert_eq!(got.notification_type, "refund");
    assert!(got.signature_ok);

    let unknown = bin()
        .args(["emulator", "trigger", "nope", "--emulator", &base])
        .output()
        .unwrap();
    assert_eq!(unknown.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("unknown webhook type"));
}
