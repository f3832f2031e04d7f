//! MySQL / MariaDB store (feature `mysql`, sqlx, InnoDB): one table shared by every receiver
//! instance behind a load balancer.
//!
//! * A claim is `INSERT IGNORE`; exactly one instance inserts the row. In a
//!   [`TransactionalReceiver`](crate::TransactionalReceiver) that insert is the first statement of
//!   the delivery's transaction, so a concurrent duplicate waits on the key (at most
//!   `innodb_lock_wait_timeout`) and then reads the committed answer with a locking read.
//! * A claim whose lease ran out is taken over by a conditional `UPDATE`; `complete`, `release`
//!   and `renew` only touch the row while it carries the caller's token.
//! * Times are the **database server's** clock in Unix milliseconds.
//!
//! TLS: put `ssl-mode=REQUIRED` (or `VERIFY_IDENTITY` with `ssl-ca=…`) in the URL; rustls does
//! it. Timeouts ([`PoolSettings`]) are set per connection: `innodb_lock_wait_timeout`, and
//! `max_statement_time` (MariaDB) or `max_execution_time` (MySQL).
//!
//! Table (created if missing):
//!
//! ```sql
//! CREATE TABLE backpack_webhook_deliveries (
//!     `key` VARBINARY(512) PRIMARY KEY,
//!     token VARCHAR(64),        -- claim token while claimed, NULL when done
//!     lease_until BIGINT,       -- Unix ms, while claimed
//!     status INT,               -- answer, when done
//!     body LONGBLOB,
//!     created_at BIGINT NOT NULL,
//!     completed_at BIGINT
//! ) ENGINE=InnoDB;
//! ```

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPool};
use sqlx::{AssertSqlSafe, Executor, Row, Transaction};

use super::sql::{
    HANDLER_SAVEPOINT, PoolSettings, claim_retrying, hex_literal, row_claim, stored_answer,
    whole_seconds,
};
use super::{Claim, ClaimToken, DedupStore, StoreError, StoredAnswer, lease_millis, unix_millis};
use crate::transactional::{SqlStore, TxClaim, sealed};

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS backpack_webhook_deliveries (
    `key` VARBINARY(512) NOT NULL PRIMARY KEY,
    token VARCHAR(64) NULL,
    lease_until BIGINT NULL,
    status INT NULL,
    body LONGBLOB NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT NULL
) ENGINE=InnoDB";

/// The server's clock in Unix milliseconds.
macro_rules! now_ms {
    () => {
        "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)"
    };
}

/// MySQL/MariaDB-backed [`DedupStore`] and transaction source of a
/// [`TransactionalReceiver`](crate::TransactionalReceiver).
#[derive(Clone)]
pub struct MySqlStore {
    pool: MySqlPool,
}

impl fmt::Debug for MySqlStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The connect options hold the password.
        f.debug_struct("MySqlStore").finish_non_exhaustive()
    }
}

impl MySqlStore {
    /// The connection pool: create your tables with it, or query outside webhooks.
    pub fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    /// Connects with a URL such as `mysql://user:pw@db.internal/app?ssl-mode=VERIFY_IDENTITY`
    /// (default [`PoolSettings`]) and creates the table if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, &PoolSettings::default()).await
    }

    /// Connects with explicit pool and timeout settings.
    pub async fn connect_with(url: &str, settings: &PoolSettings) -> Result<Self, StoreError> {
        let options = MySqlConnectOptions::from_str(url).map_err(StoreError::backend)?;
        Self::connect_options(options, settings).await
    }

    /// Connects with options you built (e.g. TLS certificates set in code).
    pub async fn connect_options(
        options: MySqlConnectOptions,
        settings: &PoolSettings,
    ) -> Result<Self, StoreError> {
        let lock_wait = whole_seconds(settings.lock_timeout());
        let statement_ms = settings.statement_timeout().as_millis();
        let pool = settings
            .pool_options::<MySql>()
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    let version: String = sqlx::query_scalar("SELECT VERSION()")
                        .fetch_one(&mut *conn)
                        .await?;
                    // MariaDB and MySQL name the statement limit differently.
                    let limit = if version.contains("MariaDB") {
                        format!(
                            "max_statement_time = {}.{:03}",
                            statement_ms / 1000,
                            statement_ms % 1000
                        )
                    } else {
                        format!("max_execution_time = {statement_ms}")
                    };
                    conn.execute(sqlx::raw_sql(AssertSqlSafe(format!(
                        "SET SESSION innodb_lock_wait_timeout = {lock_wait}, SESSION {limit}"
                    ))))
                    .await?;
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(StoreError::backend)?;
        pool.execute(SCHEMA).await.map_err(StoreError::backend)?;
        Ok(Self { pool })
    }

    async fn owned_execute(
        &self,
        sql: &'static str,
        key: &str,
        token: &ClaimToken,
        extra: Option<(i32, &[u8])>,
    ) -> Result<(), StoreError> {
        let mut query = sqlx::query(sql);
        if let Some((status, body)) = extra {
            query = query.bind(status).bind(body);
        }
        let done = query
            .bind(key)
            .bind(token.as_str())
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost)
        }
    }

    async fn claim_once(&self, key: &str, lease_ms: i64) -> Result<Option<Claim>, StoreError> {
        let token = ClaimToken::new();
        let inserted = sqlx::query(concat!(
            "INSERT IGNORE INTO backpack_webhook_deliveries (`key`, token, lease_until, created_at)
             VALUES (?, ?, ",
            now_ms!(),
            " + ?, ",
            now_ms!(),
            ")"
        ))
        .bind(key)
        .bind(token.as_str())
        .bind(lease_ms)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if inserted.rows_affected() == 1 {
            return Ok(Some(Claim::Acquired(token)));
        }
        let taken_over = sqlx::query(concat!(
            "UPDATE backpack_webhook_deliveries SET token = ?, lease_until = ",
            now_ms!(),
            " + ? WHERE `key` = ? AND token IS NOT NULL AND lease_until <= ",
            now_ms!()
        ))
        .bind(token.as_str())
        .bind(lease_ms)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if taken_over.rows_affected() == 1 {
            return Ok(Some(Claim::Acquired(token)));
        }
        let row = sqlx::query(
            "SELECT token, status, body FROM backpack_webhook_deliveries WHERE `key` = ?",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        match row {
            None => Ok(None),
            Some(row) => row_claim(&row).map(Some),
        }
    }
}

impl DedupStore for MySqlStore {
    async fn claim(&self, key: &str, lease: Duration) -> Result<Claim, StoreError> {
        let lease_ms = lease_millis(lease);
        claim_retrying(|| self.claim_once(key, lease_ms)).await
    }

    async fn complete(
        &self,
        key: &str,
        token: &ClaimToken,
        answer: &StoredAnswer,
    ) -> Result<(), StoreError> {
        self.owned_execute(
            concat!(
                "UPDATE backpack_webhook_deliveries
                 SET token = NULL, lease_until = NULL, completed_at = ",
                now_ms!(),
                ", status = ?, body = ? WHERE `key` = ? AND token = ?"
            ),
            key,
            token,
            Some((i32::from(answer.status), &answer.body)),
        )
        .await
    }

    async fn release(&self, key: &str, token: &ClaimToken) -> Result<(), StoreError> {
        self.owned_execute(
            "DELETE FROM backpack_webhook_deliveries WHERE `key` = ? AND token = ?",
            key,
            token,
            None,
        )
        .await
    }

    async fn renew(
        &self,
        key: &str,
        token: &ClaimToken,
        lease: Duration,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(concat!(
            "UPDATE backpack_webhook_deliveries SET lease_until = ",
            now_ms!(),
            " + ? WHERE `key` = ? AND token = ?"
        ))
        .bind(lease_millis(lease))
        .bind(key)
        .bind(token.as_str())
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::ClaimLost)
        }
    }

    async fn forget(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM backpack_webhook_deliveries WHERE `key` = ? AND token IS NULL")
            .bind(key)
            .execute(&self.pool)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn purge_completed_before(&self, cutoff: SystemTime) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL AND completed_at <= ?",
        )
        .bind(unix_millis(cutoff))
        .execute(&self.pool)
        .await
        .map_err(StoreError::backend)?;
        Ok(done.rows_affected())
    }
}

impl sealed::Sealed for MySqlStore {}

impl SqlStore for MySqlStore {
    type Db = MySql;

    fn pool(&self) -> &MySqlPool {
        &self.pool
    }

    async fn begin_tx(&self) -> Result<Transaction<'static, MySql>, StoreError> {
        self.pool.begin().await.map_err(StoreError::backend)
    }

    async fn claim_in(
        tx: &mut Transaction<'static, MySql>,
        key: &str,
    ) -> Result<TxClaim, StoreError> {
        // One round trip: the claim, recorded as a 204 in advance (what `Ok` answers), and the
        // savepoint a rejection rolls back to.
        let hex = hex_literal(key);
        let batch = format!(
            "INSERT IGNORE INTO backpack_webhook_deliveries
                 (`key`, status, created_at, completed_at)
             VALUES (X'{hex}', 204, {now}, {now});
             SAVEPOINT {HANDLER_SAVEPOINT}",
            now = now_ms!()
        );
        let done = sqlx::raw_sql(AssertSqlSafe(batch))
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        if done.rows_affected() == 1 {
            return Ok(TxClaim::Owned);
        }
        // A locking read sees the latest committed row; a shared lock lets several waiting
        // duplicates read it at once (an exclusive one would deadlock them).
        let row = sqlx::query(concat!(
            "SELECT token, status, body, lease_until <= ",
            now_ms!(),
            " FROM backpack_webhook_deliveries WHERE `key` = ? LOCK IN SHARE MODE"
        ))
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        let Some(row) = row else {
            return Ok(TxClaim::InProgress);
        };
        let token: Option<String> = row.try_get(0).map_err(StoreError::backend)?;
        let expired: Option<i64> = row.try_get(3).map_err(StoreError::backend)?;
        if token.is_some() && expired != Some(1) {
            return Ok(TxClaim::InProgress);
        }
        if token.is_none() {
            return Ok(TxClaim::Done(stored_answer(&row)?));
        }
        // A plain claim whose holder died: take it over inside this transaction.
        let taken = sqlx::query(concat!(
            "UPDATE backpack_webhook_deliveries
             SET token = NULL, lease_until = NULL, status = 204, body = NULL, completed_at = ",
            now_ms!(),
            " WHERE `key` = ? AND token IS NOT NULL AND lease_until <= ",
            now_ms!()
        ))
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        if taken.rows_affected() != 1 {
            return Ok(TxClaim::InProgress); // someone else took it first
        }
        tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
            "SAVEPOINT {HANDLER_SAVEPOINT}"
        ))))
        .await
        .map_err(StoreError::backend)?;
        Ok(TxClaim::Owned)
    }

    async fn record_in(
        tx: &mut Transaction<'static, MySql>,
        key: &str,
        answer: &StoredAnswer,
        rejected: bool,
    ) -> Result<(), StoreError> {
        if rejected {
            tx.execute(sqlx::raw_sql(AssertSqlSafe(format!(
                "ROLLBACK TO SAVEPOINT {HANDLER_SAVEPOINT}"
            ))))
            .await
            .map_err(StoreError::backend)?;
        }
        sqlx::query(concat!(
            "UPDATE backpack_webhook_deliveries SET status = ?, body = ?, completed_at = ",
            now_ms!(),
            " WHERE `key` = ?"
        ))
        .bind(i32::from(answer.status))
        .bind(answer.body.as_ref())
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(StoreError::backend)?;
        Ok(())
    }

    async fn forget_in(tx: &mut Transaction<'static, MySql>, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM backpack_webhook_deliveries WHERE `key` = ? AND token IS NULL")
            .bind(key)
            .execute(&mut **tx)
            .await
            .map_err(StoreError::backend)?;
        Ok(())
    }
}
