//! PostgreSQL store (feature `postgres`): one table shared by every receiver instance behind a
//! load balancer.
//!
//! * A claim is `INSERT … ON CONFLICT (key) DO NOTHING`; exactly one instance inserts the row.
//! * A claim whose lease ran out (the claimer crashed or hung) is taken over by a single
//!   conditional `UPDATE … WHERE token IS NOT NULL AND lease_until <= clock_timestamp()`.
//! * `complete`, `release` and `renew` only touch the row while it still carries the caller's token.
//! * All times are the **database server's** clock (`clock_timestamp()`), so instances with
//!   skewed clocks agree on lease expiry.
//! * Waiting duplicates poll (the trait's default `wait_for_change`).
//!
//! The connection is plain TCP without TLS ([`PostgresStore::connect`]); for TLS, connect a
//! [`tokio_postgres::Client`] yourself and use [`PostgresStore::from_client`]. A store made by
//! `connect` reconnects when it finds the connection closed.
//!
//! Table (created if missing, under an advisory lock so concurrent starts do not race):
//!
//! ```sql
//! CREATE TABLE backpack_webhook_deliveries (
//!     key text PRIMARY KEY,
//!     token text,              -- claim token while claimed, NULL when done
//!     lease_until timestamptz, -- while claimed
//!     status integer,          -- answer, when done
//!     body bytea,
//!     created_at timestamptz NOT NULL,
//!     completed_at timestamptz
//! );
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::sync::RwLock;
use tokio_postgres::{Client, NoTls};

use super::{Claim, ClaimToken, DedupStore, StoreError, StoredAnswer, lease_millis, unix_millis};

const SCHEMA: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(724239117);
CREATE TABLE IF NOT EXISTS backpack_webhook_deliveries (
    key text PRIMARY KEY,
    token text,
    lease_until timestamptz,
    status integer,
    body bytea,
    created_at timestamptz NOT NULL,
    completed_at timestamptz
);
COMMIT;";

/// PostgreSQL-backed [`DedupStore`].
#[derive(Clone)]
pub struct PostgresStore {
    client: Arc<RwLock<Arc<Client>>>,
    /// Connection string, kept to reconnect; `None` for [`PostgresStore::from_client`].
    config: Option<Arc<str>>,
    /// Idle connections for transactional handlers (a transaction needs a connection of its
    /// own: `tokio_postgres` transactions borrow their client mutably).
    tx_pool: Arc<std::sync::Mutex<Vec<Client>>>,
}

/// Most idle transaction connections kept.
const TX_POOL_MAX: usize = 16;

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connection string may hold a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

async fn connect_client(config: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(config, NoTls)
        .await
        .map_err(StoreError::backend)?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(error = %err, "PostgreSQL dedup store connection ended");
        }
    });
    Ok(client)
}

impl PostgresStore {
    /// Connects (without TLS) with a libpq-style connection string or URL, e.g.
    /// `postgresql://user@127.0.0.1:5432/db`, and creates the table if missing.
    pub async fn connect(config: &str) -> Result<Self, StoreError> {
        let client = connect_client(config).await?;
        client
            .batch_execute(SCHEMA)
            .await
            .map_err(StoreError::backend)?;
        Ok(Self {
            client: Arc::new(RwLock::new(Arc::new(client))),
            config: Some(Arc::from(config)),
            tx_pool: Arc::default(),
        })
    }

    /// Uses a client you connected yourself (e.g. with TLS) and creates the table if missing.
    /// Such a store cannot reconnect, and cannot open the extra connections a
    /// [`TransactionalReceiver`](crate::TransactionalReceiver) needs (it answers 500); use
    /// [`PostgresStore::connect`] for that.
    pub async fn from_client(client: Client) -> Result<Self, StoreError> {
        client
            .batch_execute(SCHEMA)
            .await
            .map_err(StoreError::backend)?;
        Ok(Self {
            client: Arc::new(RwLock::new(Arc::new(client))),
            config: None,
            tx_pool: Arc::default(),
        })
    }

    /// A connection of its own for one transaction (idle one, or a new one).
    pub(crate) async fn checkout(&self) -> Result<Client, StoreError> {
        let idle = {
            let mut pool = self.tx_pool.lock().unwrap_or_else(|e| e.into_inner());
            std::iter::from_fn(|| pool.pop()).find(|c| !c.is_closed())
        };
        if let Some(client) = idle {
            return Ok(client);
        }
        let Some(config) = &self.config else {
            return Err(StoreError::backend(std::io::Error::other(
                "transactions need a store made by PostgresStore::connect",
            )));
        };
        connect_client(config).await
    }

    /// Gives back a connection taken by [`checkout`](Self::checkout).
    pub(crate) fn checkin(&self, client: Client) {
        if client.is_closed() {
            return;
        }
        let mut pool = self.tx_pool.lock().unwrap_or_else(|e| e.into_inner());
        if pool.len() < TX_POOL_MAX {
            pool.push(client);
        }
    }

    async fn client(&self) -> Result<Arc<Client>, StoreError> {
        let current = self.client.read().await.clone();
        if !current.is_closed() {
            return Ok(current);
        }
        let Some(config) = &self.config else {
            return Ok(current); // the call will fail with "connection closed"
        };
        let mut slot = self.client.write().await;
        if slot.is_closed() {
            *slot = Arc::new(connect_client(config).await?);
        }
        Ok(slot.clone())
    }

    async fn claim_async(&self, key: String, lease_ms: i64) -> Result<Claim, StoreError> {
        let client = self.client().await?;
        for _ in 0..4 {
            let token = ClaimToken::new();
            let inserted = client
                .execute(
                    "INSERT INTO backpack_webhook_deliveries (key, token, lease_until, created_at)
                     VALUES ($1, $2, clock_timestamp() + $3::bigint * interval '1 millisecond',
                             clock_timestamp())
                     ON CONFLICT (key) DO NOTHING",
                    &[&key, &token.as_str(), &lease_ms],
                )
                .await
                .map_err(StoreError::backend)?;
            if inserted == 1 {
                return Ok(Claim::Acquired(token));
            }
            let taken_over = client
                .execute(
                    "UPDATE backpack_webhook_deliveries
                     SET token = $2,
                         lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
                     WHERE key = $1 AND token IS NOT NULL AND lease_until <= clock_timestamp()",
                    &[&key, &token.as_str(), &lease_ms],
                )
                .await
                .map_err(StoreError::backend)?;
            if taken_over == 1 {
                return Ok(Claim::Acquired(token));
            }
            let row = client
                .query_opt(
                    "SELECT token, status, body FROM backpack_webhook_deliveries WHERE key = $1",
                    &[&key],
                )
                .await
                .map_err(StoreError::backend)?;
            let Some(row) = row else {
                continue; // released in between: try again
            };
            let token: Option<String> = row.try_get(0).map_err(StoreError::backend)?;
            if token.is_some() {
                return Ok(Claim::InProgress);
            }
            let status: Option<i32> = row.try_get(1).map_err(StoreError::backend)?;
            let body: Option<Vec<u8>> = row.try_get(2).map_err(StoreError::backend)?;
            let status = status
                .and_then(|s| u16::try_from(s).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("bad status for key {key}")))?;
            return Ok(Claim::Done(StoredAnswer {
                status,
                body: Bytes::from(body.unwrap_or_default()),
            }));
        }
        Ok(Claim::InProgress)
    }

    async fn owned_execute(
        &self,
        sql: &'static str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        let changed = client
            .execute(sql, params)
            .await
            .map_err(StoreError::backend)?;
        if changed == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost)
        }
    }
}

impl DedupStore for PostgresStore {
    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM backpack_webhook_deliveries WHERE key = $1 AND token IS NULL",
                &[&key],
            )
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn purge_completed_before(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL
                 AND completed_at <= to_timestamp(($1::bigint)::float8 / 1000)",
                &[&unix_millis(cutoff)],
            )
            .await
            .map_err(StoreError::backend)
    }

    fn claim(
        &self,
        key: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        self.claim_async(key.to_owned(), lease_millis(lease))
    }

    fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let status = i32::from(answer.status);
        let body = answer.body.clone();
        let key = key.to_owned();
        let token = token.as_str().to_owned();
        async move {
            self.owned_execute(
                "UPDATE backpack_webhook_deliveries
                 SET token = NULL, lease_until = NULL, completed_at = clock_timestamp(),
                     status = $3, body = $4
                 WHERE key = $1 AND token = $2",
                &[&key, &token, &status, &body.as_ref()],
            )
            .await
        }
    }

    fn release(
        &self,
        key: &str,
        token: &ClaimToken,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let key = key.to_owned();
        let token = token.as_str().to_owned();
        async move {
            self.owned_execute(
                "DELETE FROM backpack_webhook_deliveries WHERE key = $1 AND token = $2",
                &[&key, &token],
            )
            .await
        }
    }

    fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        let key = key.to_owned();
        let token = token.as_str().to_owned();
        let lease_ms = lease_millis(lease);
        async move {
            self.owned_execute(
                "UPDATE backpack_webhook_deliveries
                 SET lease_until = clock_timestamp() + $3::bigint * interval '1 millisecond'
                 WHERE key = $1 AND token = $2",
                &[&key, &token, &lease_ms],
            )
            .await
        }
    }
}
