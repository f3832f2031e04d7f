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

use sqlx::mysql::{MySql, MySqlConnectOptions, MySqlPool};
use sqlx::{AssertSqlSafe, Executor, Transaction};

use super::StoreError;
use super::sql::{PoolSettings, whole_seconds};
use super::sql_store::{StoreSql, sql_store, url_connect};

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

const SQL: StoreSql = StoreSql {
    claim: concat!(
        "INSERT IGNORE INTO backpack_webhook_deliveries (`key`, token, lease_until, created_at)
         VALUES (?, ?, ",
        now_ms!(),
        " + ?, ",
        now_ms!(),
        ")"
    ),
    take_over: concat!(
        "UPDATE backpack_webhook_deliveries SET token = ?, lease_until = ",
        now_ms!(),
        " + ? WHERE `key` = ? AND token IS NOT NULL AND lease_until <= ",
        now_ms!()
    ),
    select: "SELECT token, status, body FROM backpack_webhook_deliveries WHERE `key` = ?",
    complete: concat!(
        "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, completed_at = ",
        now_ms!(),
        ", status = ?, body = ? WHERE `key` = ? AND token = ?"
    ),
    release: "DELETE FROM backpack_webhook_deliveries WHERE `key` = ? AND token = ?",
    renew: concat!(
        "UPDATE backpack_webhook_deliveries SET lease_until = ",
        now_ms!(),
        " + ? WHERE `key` = ? AND token = ?"
    ),
    forget: "DELETE FROM backpack_webhook_deliveries WHERE `key` = ? AND token IS NULL",
    purge: "DELETE FROM backpack_webhook_deliveries WHERE token IS NULL AND completed_at <= ?",
    // A locking read sees the latest committed row; a shared lock lets several waiting
    // duplicates read it at once (an exclusive one would deadlock them).
    tx_select: concat!(
        "SELECT token, status, body, lease_until <= ",
        now_ms!(),
        " FROM backpack_webhook_deliveries WHERE `key` = ? LOCK IN SHARE MODE"
    ),
    tx_take_over: concat!(
        "UPDATE backpack_webhook_deliveries
         SET token = NULL, lease_until = NULL, status = 204, body = NULL, completed_at = ",
        now_ms!(),
        " WHERE `key` = ? AND token IS NOT NULL AND lease_until <= ",
        now_ms!()
    ),
    record: concat!(
        "UPDATE backpack_webhook_deliveries SET status = ?, body = ?, completed_at = ",
        now_ms!(),
        " WHERE `key` = ?"
    ),
    insert_answer: concat!(
        "INSERT IGNORE INTO backpack_webhook_deliveries (`key`, status, body, created_at, completed_at)
         VALUES (?, ?, ?, ",
        now_ms!(),
        ", ",
        now_ms!(),
        ")"
    ),
};

/// MySQL/MariaDB-backed [`DedupStore`](super::DedupStore) and transaction source of a
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

url_connect!(
    MySqlStore,
    MySqlConnectOptions,
    "mysql://user:pw@db.internal/app?ssl-mode=VERIFY_IDENTITY"
);
sql_store!(MySqlStore, MySql, SQL);

impl MySqlStore {
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

    async fn begin(pool: &MySqlPool) -> Result<Transaction<'static, MySql>, StoreError> {
        pool.begin().await.map_err(StoreError::backend)
    }
}
