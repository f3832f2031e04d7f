//! PostgreSQL store (feature `postgres`, sqlx): one table shared by every receiver instance
//! behind a load balancer.
//!
//! * A claim is `INSERT … ON CONFLICT (key) DO NOTHING`; exactly one instance inserts the row. In
//!   a [`TransactionalReceiver`](crate::TransactionalReceiver) that insert is the first statement
//!   of the delivery's transaction, so a concurrent duplicate waits on the key (at most the lock
//!   timeout) and then reads the committed answer.
//! * A claim whose lease ran out (the claimer crashed or hung) is taken over by a single
//!   conditional `UPDATE … WHERE token IS NOT NULL AND lease_until <= clock_timestamp()`.
//! * `complete`, `release` and `renew` only touch the row while it still carries the caller's token.
//! * All times are the **database server's** clock (`clock_timestamp()`), so instances with
//!   skewed clocks agree on lease expiry.
//!
//! TLS: put `sslmode=require` (or `verify-full` with `sslrootcert=…`) in the URL; rustls does it.
//! Timeouts ([`PoolSettings`]) are set per connection (`lock_timeout`, `statement_timeout`).
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

use sqlx::postgres::{PgConnectOptions, PgPool, Postgres};
use sqlx::{Executor, Transaction};

use super::StoreError;
use super::sql::PoolSettings;
use super::sql_store::{StoreSql, sql_store, url_connect};

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

/// `clock_timestamp()` plus a bound number of milliseconds.
macro_rules! later_ms {
    ($n:literal) => {
        concat!(
            "clock_timestamp() + $",
            $n,
            "::bigint * interval '1 millisecond'"
        )
    };
}

const SQL: StoreSql = StoreSql {
    claim: concat!(
        "INSERT INTO backpack_webhook_deliveries (key, token, lease_until, created_at)
         VALUES ($1, $2, ",
        later_ms!(3),
        ", clock_timestamp()) ON CONFLICT (key) DO NOTHING"
    ),
    take_over: concat!(
        "UPDATE backpack_webhook_deliveries SET token = $1, lease_until = ",
        later_ms!(2),
        " WHERE key = $3 AND token IS NOT NULL AND lease_until <= clock_timestamp()"
    ),
    select: "SELECT token, status, body FROM backpack_webhook_deliveries WHERE key = $1",
    complete: "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, completed_at = clock_timestamp(),
             status = $1, body = $2
         WHERE key = $3 AND token = $4",
    release: "DELETE FROM backpack_webhook_deliveries WHERE key = $1 AND token = $2",
    renew: concat!(
        "UPDATE backpack_webhook_deliveries SET lease_until = ",
        later_ms!(1),
        " WHERE key = $2 AND token = $3"
    ),
    forget: "DELETE FROM backpack_webhook_deliveries WHERE key = $1 AND token IS NULL",
    purge: "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL
         AND completed_at <= to_timestamp(($1::bigint)::float8 / 1000)",
    tx_select: "SELECT token, status, body, (lease_until <= clock_timestamp())::int::int8
         FROM backpack_webhook_deliveries WHERE key = $1",
    tx_take_over: "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, status = 204, body = NULL,
             completed_at = clock_timestamp()
         WHERE key = $1 AND token IS NOT NULL AND lease_until <= clock_timestamp()",
    record: "UPDATE backpack_webhook_deliveries
         SET status = $1, body = $2, completed_at = clock_timestamp()
         WHERE key = $3",
    insert_answer:
        "INSERT INTO backpack_webhook_deliveries (key, status, body, created_at, completed_at)
         VALUES ($1, $2, $3, clock_timestamp(), clock_timestamp())
         ON CONFLICT (key) DO NOTHING",
};

/// PostgreSQL-backed [`DedupStore`](super::DedupStore) and transaction source of a
/// [`TransactionalReceiver`](crate::TransactionalReceiver).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connect options hold the password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

url_connect!(
    PostgresStore,
    PgConnectOptions,
    "postgresql://user:pw@db.internal/app?sslmode=verify-full"
);
sql_store!(PostgresStore, Postgres, SQL);

impl PostgresStore {
    /// Connects with options you built (e.g. TLS certificates set in code).
    pub async fn connect_options(
        options: PgConnectOptions,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let options = options.options([
            (
                "lock_timeout",
                format!("{}ms", settings.lock_timeout().as_millis()),
            ),
            (
                "statement_timeout",
                format!("{}ms", settings.statement_timeout().as_millis()),
            ),
        ]);
        let pool = settings
            .pool_options::<Postgres>()
            .connect_with(options)
            .await
            .map_err(StoreError::backend)?;
        pool.execute(SCHEMA).await.map_err(StoreError::backend)?;
        Ok(Self { pool })
    }

    async fn begin(pool: &PgPool) -> Result<Transaction<'static, Postgres>, StoreError> {
        pool.begin().await.map_err(StoreError::backend)
    }
}
