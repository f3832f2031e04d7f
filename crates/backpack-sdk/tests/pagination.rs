//! `paginate` over a loopback offset/limit endpoint driven through the
//! `Transport`: every item exactly once.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use backpack_sdk::{Error, Transport, paginate};
use futures::TryStreamExt;
use serde::Deserialize;

const TOTAL: usize = 1000;

#[derive(Clone)]
struct Items {
    served: Arc<AtomicUsize>,
    pages: Arc<AtomicUsize>,
    /// Serve this many times `limit` (a server that ignores the limit).
    overshoot: usize,
}

#[derive(Deserialize)]
struct Page {
    offset: usize,
    limit: usize,
}

#[derive(Deserialize)]
struct Item {
    item_id: String,
}

async fn list(
    State(items): State<Items>,
    Query(page): Query<Page>,
) -> axum::Json<serde_json::Value> {
    let end = (page.offset + page.limit * items.overshoot).min(TOTAL);
    let slice: Vec<_> = (page.offset.min(TOTAL)..end)
        .map(|i| serde_json::json!({"item_id": format!("item-{i:04}")}))
        .collect();
    items.served.fetch_add(slice.len(), Ordering::SeqCst);
    items.pages.fetch_add(1, Ordering::SeqCst);
    axum::Json(serde_json::json!({"items": slice}))
}

async fn walk(limit: u32, overshoot: usize) -> (Vec<String>, usize, usize) {
    let items = Items {
        served: Arc::default(),
        pages: Arc::default(),
        overshoot,
    };
    let router = Router::new()
        .route("/web/backpack/items", get(list))
        .with_state(items.clone());
    let base = format!("http://{}/web/backpack/items", common::spawn(router).await);
    let transport = Transport::builder().user_token("user-jwt").build().unwrap();
    let client = reqwest::Client::new();

    let ids: Vec<String> = paginate(limit, |offset, limit| {
        let (transport, client, base) = (transport.clone(), client.clone(), base.clone());
        async move {
            let mut request = client
                .get(&base)
                .query(&[("offset", offset), ("limit", limit)])
                .build()?;
            transport.prepare(&mut request).await?;
            let response = transport.send(&client, request).await?;
            if !response.status().is_success() {
                return Err(Error::from_response(response).await);
            }
            let body: HashMap<String, Vec<Item>> = response.json().await?;
            Ok::<_, Error>(
                body.into_values()
                    .flatten()
                    .map(|i| i.item_id)
                    .collect::<Vec<_>>(),
            )
        }
    })
    .try_collect()
    .await
    .unwrap();
    (
        ids,
        items.served.load(Ordering::SeqCst),
        items.pages.load(Ordering::SeqCst),
    )
}

fn expected() -> Vec<String> {
    (0..TOTAL).map(|i| format!("item-{i:04}")).collect()
}

#[tokio::test]
async fn thousand_items_are_walked_exactly_once() {
    for limit in [50u32, 37, 1000, 999] {
        let (ids, served, pages) = walk(limit, 1).await;
        assert_eq!(
            ids,
            expected(),
            "limit {limit}: in order, none missing, no duplicate"
        );
        assert_eq!(served, TOTAL, "limit {limit}: nothing served twice");
        assert_eq!(pages, TOTAL / limit as usize + 1, "limit {limit}");
    }
}

#[tokio::test]
async fn a_server_ignoring_the_limit_causes_no_duplicates() {
    let (ids, served, _) = walk(40, 3).await;
    assert_eq!(ids, expected());
    assert_eq!(served, TOTAL);
}
