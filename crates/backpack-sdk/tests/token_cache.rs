//! Token cache and Login token sources against a fake Xsolla Login endpoint.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use backpack_sdk::{
    ClientCredentials, Error, ManualClock, RefreshTokenGrant, StaticToken, Token, TokenCache,
    TokenError, Transport, token_fn,
};
use common::*;

fn credentials(url: &str) -> ClientCredentials {
    ClientCredentials::new(CLIENT_ID, CLIENT_SECRET).with_token_url(url)
}

#[tokio::test]
async fn jwt_exp_is_used_and_refresh_happens_before_expiry() {
    // No expires_in/expire_in: the lifetime must come from the JWT `exp`.
    let login = FakeLogin::new(Lifetime::JwtOnly, 300);
    let url = login.start().await;
    let clock = ManualClock::new();
    let start = backpack_sdk::Clock::now(&clock);
    let cache = TokenCache::builder(credentials(&url))
        .refresh_skew(Duration::from_secs(60))
        .clock(clock.clone())
        .build();

    let first = cache.token().await.unwrap();
    assert_eq!(login.count(), 1);
    let lifetime = first.expires_at() - start;
    assert!(
        lifetime > Duration::from_secs(298) && lifetime <= Duration::from_secs(300),
        "lifetime from exp: {lifetime:?}"
    );

    clock.advance(Duration::from_secs(230));
    let same = cache.token().await.unwrap();
    assert_eq!(same.secret(), first.secret());
    assert_eq!(login.count(), 1);

    // 245 s: inside the 60 s skew window, still 55 s before the JWT expires.
    clock.advance(Duration::from_secs(15));
    assert!(backpack_sdk::Clock::now(&clock) < first.expires_at());
    let second = cache.token().await.unwrap();
    assert_ne!(second.secret(), first.secret());
    assert_eq!(login.count(), 2);
    assert_eq!(second.secret().expose(), login.issued()[1]);
}

#[tokio::test]
async fn expires_in_and_expire_in_both_set_the_lifetime() {
    for lifetime in [Lifetime::ExpiresIn(100), Lifetime::ExpireIn(100)] {
        // The JWTs say one hour; the answer's field (100 s) must win.
        let login = FakeLogin::new(lifetime, 3600);
        let url = login.start().await;
        let clock = ManualClock::new();
        let cache = TokenCache::builder(credentials(&url))
            .refresh_skew(Duration::from_secs(10))
            .clock(clock.clone())
            .build();
        let first = cache.token().await.unwrap();
        clock.advance(Duration::from_secs(85));
        assert_eq!(cache.token().await.unwrap().secret(), first.secret());
        assert_eq!(login.count(), 1, "{lifetime:?}");
        clock.advance(Duration::from_secs(10));
        assert_ne!(cache.token().await.unwrap().secret(), first.secret());
        assert_eq!(login.count(), 2, "{lifetime:?}");
    }
}

#[tokio::test]
async fn opaque_token_without_lifetime_uses_the_default() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let cache = TokenCache::builder(token_fn(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move { Ok::<_, std::io::Error>(Token::new(format!("opaque-{n}"))) }
    }))
    .clock(clock.clone())
    .build();
    assert_eq!(cache.token().await.unwrap().secret().expose(), "opaque-0");
    clock.advance(Duration::from_secs(3600 - 61));
    assert_eq!(cache.token().await.unwrap().secret().expose(), "opaque-0");
    clock.advance(Duration::from_secs(2));
    assert_eq!(cache.token().await.unwrap().secret().expose(), "opaque-1");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_prepares_at_expiry_make_one_token_request() {
    const CALLERS: usize = 1000;
    let login = FakeLogin::new(Lifetime::ExpiresIn(120), 3600);
    let url = login.start().await;
    let clock = ManualClock::new();
    let cache = TokenCache::builder(credentials(&url))
        .refresh_skew(Duration::from_secs(30))
        .clock(clock.clone())
        .build();
    let transport = Transport::builder()
        .token_cache(cache)
        .host_id(HOST_ID)
        .build()
        .unwrap();
    let api_url = reqwest::Url::parse("http://127.0.0.1:1/web/backpack/items").unwrap();

    let mut warm = reqwest::Request::new(reqwest::Method::GET, api_url.clone());
    transport.prepare(&mut warm).await.unwrap();
    assert_eq!(login.count(), 1);

    // Expire the token, and make the refresh request wait until every caller
    // has started, so that they all overlap with it.
    clock.advance(Duration::from_secs(91));
    let all_started = Arc::new(tokio::sync::Notify::new());
    login.hold_until(all_started.clone());
    let started = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(tokio::sync::Barrier::new(CALLERS));
    let mut tasks = Vec::with_capacity(CALLERS);
    for _ in 0..CALLERS {
        let (transport, url) = (transport.clone(), api_url.clone());
        let (barrier, started, all_started) =
            (barrier.clone(), started.clone(), all_started.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            if started.fetch_add(1, Ordering::SeqCst) + 1 == CALLERS {
                all_started.notify_one();
            }
            let mut request = reqwest::Request::new(reqwest::Method::GET, url);
            transport.prepare(&mut request).await.unwrap();
            request.headers()["authorization"]
                .to_str()
                .unwrap()
                .to_owned()
        }));
    }
    let mut headers = Vec::with_capacity(CALLERS);
    for task in tasks {
        headers.push(task.await.unwrap());
    }

    assert_eq!(
        login.count(),
        2,
        "exactly one token request for {CALLERS} callers"
    );
    let expected = format!("Bearer {}", login.issued()[1]);
    assert!(headers.iter().all(|h| *h == expected));
}

#[tokio::test]
async fn dead_token_endpoint_gives_a_typed_error_after_bounded_attempts() {
    let url = dead_port_url().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let source = Counting {
        inner: credentials(&url),
        calls: calls.clone(),
    };
    let cache = TokenCache::builder(source)
        .retry_policy(fast_retry(3))
        .build();
    let error = cache.token().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Token {
                attempts: 3,
                source: TokenError::Transport(_)
            }
        ),
        "{error:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert!(!format!("{error} {error:?}").contains(CLIENT_SECRET));
}

#[tokio::test]
async fn failing_token_endpoint_is_tried_a_bounded_number_of_times_even_with_many_callers() {
    let login = FakeLogin::failing(StatusCode::SERVICE_UNAVAILABLE);
    let url = login.start().await;
    let clock = ManualClock::new();
    let cache = TokenCache::builder(credentials(&url))
        .retry_policy(fast_retry(3))
        .failure_cooldown(Duration::from_secs(1))
        .clock(clock.clone())
        .build();

    let callers: Vec<_> = (0..100)
        .map(|_| {
            let cache = cache.clone();
            tokio::spawn(async move { cache.token().await })
        })
        .collect();
    for caller in callers {
        let error = caller.await.unwrap().unwrap_err();
        match error {
            Error::Token {
                attempts: 3,
                source:
                    TokenError::Endpoint {
                        status: 503,
                        ref code,
                        ..
                    },
            } => assert_eq!(code.as_deref(), Some("000-000")),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(login.count(), 3, "one bounded series of attempts, shared");

    // Within the cooldown the failure is answered from memory.
    assert!(cache.token().await.is_err());
    assert_eq!(login.count(), 3);
    // After it, a new bounded series.
    clock.advance(Duration::from_secs(2));
    assert!(cache.token().await.is_err());
    assert_eq!(login.count(), 6);
}

#[tokio::test]
async fn rejected_credentials_are_not_retried_and_keep_the_login_error() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let url = login.start().await;
    let cache = TokenCache::builder(
        ClientCredentials::new(CLIENT_ID, "wrong-secret-value").with_token_url(&url),
    )
    .retry_policy(fast_retry(3))
    .build();
    let error = cache.token().await.unwrap_err();
    assert_eq!(login.count(), 1);
    let Error::Token {
        attempts: 1,
        source:
            TokenError::Endpoint {
                status: 401,
                ref code,
                ref description,
                ..
            },
    } = error
    else {
        panic!("unexpected {error:?}");
    };
    assert_eq!(code.as_deref(), Some("003-061"));
    assert_eq!(description.as_deref(), Some("Object not found."));
    let rendered = format!("{error} {error:?}");
    assert!(rendered.contains("003-061"));
    assert!(!rendered.contains("wrong-secret-value"));
}

#[tokio::test]
async fn refresh_token_grant_keeps_the_rotated_refresh_token() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let url = login.start().await;
    let grant = RefreshTokenGrant::new(CLIENT_ID, "refresh-0")
        .with_client_secret(CLIENT_SECRET)
        .with_token_url(&url);
    let cache = TokenCache::new(grant.clone());

    let first = cache.token().await.unwrap();
    assert_eq!(grant.refresh_token().expose(), "refresh-1");
    // The endpoint now only accepts refresh-1: a second refresh proves the
    // rotated token is the one sent.
    assert!(cache.invalidate(&first));
    let second = cache.token().await.unwrap();
    assert_ne!(first.secret(), second.secret());
    assert_eq!(grant.refresh_token().expose(), "refresh-2");
    assert_eq!(login.count(), 2);
    assert!(!format!("{grant:?} {cache:?}").contains("refresh-2"));
}

#[tokio::test]
async fn invalidate_only_drops_the_token_that_failed() {
    let login = FakeLogin::new(Lifetime::ExpiresIn(3600), 3600);
    let url = login.start().await;
    let cache = TokenCache::new(credentials(&url));
    let first = cache.token().await.unwrap();
    assert!(cache.invalidate(&first));
    let second = cache.token().await.unwrap();
    // A late 401 for the old token must not throw away the new one.
    assert!(!cache.invalidate(&first));
    assert_eq!(cache.cached().unwrap().secret(), second.secret());
    assert_eq!(login.count(), 2);
}

#[tokio::test]
async fn previous_token_is_kept_while_a_refresh_fails_until_it_expires() {
    let clock = ManualClock::new();
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let cache = TokenCache::builder(token_fn(move || {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Ok(Token::new("only-token").with_expires_in(Duration::from_secs(100)))
            } else {
                Err(std::io::Error::other("vault unavailable"))
            }
        }
    }))
    .refresh_skew(Duration::from_secs(10))
    .retry_policy(fast_retry(2))
    .failure_cooldown(Duration::ZERO)
    .clock(clock.clone())
    .build();
    cache.token().await.unwrap();
    clock.advance(Duration::from_secs(95));
    assert_eq!(cache.token().await.unwrap().secret().expose(), "only-token");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    clock.advance(Duration::from_secs(10));
    let error = cache.token().await.unwrap_err();
    assert!(matches!(
        error,
        Error::Token {
            attempts: 2,
            source: TokenError::Source(_)
        }
    ));
    assert!(error.to_string().contains("vault unavailable"));
}

#[tokio::test]
async fn static_token_is_fetched_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let cache = TokenCache::new(Counting {
        inner: StaticToken::new("static-token-value"),
        calls: calls.clone(),
    });
    for _ in 0..10 {
        assert_eq!(
            cache.token().await.unwrap().secret().expose(),
            "static-token-value"
        );
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(!format!("{cache:?}").contains("static-token-value"));
}
