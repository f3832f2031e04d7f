//! The delivery-table logic of the three sqlx stores, written once: the claim protocol of
//! [`DedupStore`](super::DedupStore) and the transactional claim, record and forget of
//! [`SqlStore`]. Each store supplies its dialect's statements ([`StoreSql`]), its connection
//! set-up, how it opens a delivery's transaction and how it inserts a transactional claim;
//! [`sql_store!`] writes the rest.

use std::future::Future;

use sqlx::{Database, Pool, Transaction};

use super::{DedupStore, StoreError, StoredAnswer};

/// The statements of one SQL dialect. Binds are listed in order; every time is the database's
/// clock (SQLite: this machine's) in the table's own representation.
pub(crate) struct StoreSql {
    /// Binds `key`, `token`, `lease_ms`: inserts a plain claim unless the key exists.
    pub(crate) claim: &'static str,
    /// Binds `token`, `lease_ms`, `key`: takes over a plain claim whose lease ran out.
    pub(crate) take_over: &'static str,
    /// Binds `key`: `token, status, body` of the key's row.
    pub(crate) select: &'static str,
    /// Binds `status`, `body`, `key`, `token`: records the answer of the caller's claim.
    pub(crate) complete: &'static str,
    /// Binds `key`, `token`: deletes the caller's claim.
    pub(crate) release: &'static str,
    /// Binds `lease_ms`, `key`, `token`: extends the caller's claim.
    pub(crate) renew: &'static str,
    /// Binds `key`: deletes the key's recorded answer (not a live claim).
    pub(crate) forget: &'static str,
    /// Binds `cutoff` (Unix ms): deletes the answers recorded at or before it.
    pub(crate) purge: &'static str,
    /// Binds `key`, inside a delivery's transaction: `token, status, body` and whether the lease
    /// ran out (an integer, 1 when it did, NULL without a lease), waiting for a concurrent
    /// transaction that holds the row.
    pub(crate) tx_select: &'static str,
    /// Binds `key`: turns a plain claim whose lease ran out into this transaction's claim, a 204
    /// recorded in advance.
    pub(crate) tx_take_over: &'static str,
    /// Binds `status`, `body`, `key`: records the answer of this transaction's claim.
    pub(crate) record: &'static str,
    /// Binds `key`, `status`, `body`: inserts the key as answered unless it exists. Inside a
    /// delivery's transaction with a 204 it is the transactional claim (recorded in advance as
    /// what `Ok` answers); on its own, a rejection's record.
    pub(crate) insert_answer: &'static str,
}

pub(crate) mod sealed {
    /// Only this crate's stores are [`SqlStore`](super::SqlStore)s.
    pub trait Sealed {}
}

/// Where the key claim of a transactional delivery landed.
#[doc(hidden)]
#[derive(Debug)]
pub enum TxClaim {
    /// Inserted by this transaction (or taken over from a dead plain claim): run the handler.
    Owned,
    /// Answered before: replay.
    Done(StoredAnswer),
    /// A plain (lease) claim of another receiver is live.
    InProgress,
}

/// A sqlx store that can run a [`TransactionalReceiver`](crate::TransactionalReceiver):
/// [`SqliteStore`](crate::SqliteStore), `PostgresStore` (feature `postgres`) or `MySqlStore`
/// (feature `mysql`). Sealed.
pub trait SqlStore: DedupStore + Clone + sealed::Sealed {
    /// The sqlx database.
    type Db: Database;

    /// The store's connection pool: create your tables with it, or query outside webhooks.
    fn pool(&self) -> &Pool<Self::Db>;

    /// Opens the delivery's transaction.
    #[doc(hidden)]
    fn begin_tx(
        &self,
    ) -> impl Future<Output = Result<Transaction<'static, Self::Db>, StoreError>> + Send;

    /// Claims `key` inside `tx`, recorded in advance as a 204.
    #[doc(hidden)]
    fn claim_in<'a>(
        tx: &'a mut Transaction<'static, Self::Db>,
        key: &'a str,
    ) -> impl Future<Output = Result<TxClaim, StoreError>> + Send + 'a;

    /// Records `answer` for the owned `key`.
    #[doc(hidden)]
    fn record_in<'a>(
        tx: &'a mut Transaction<'static, Self::Db>,
        key: &'a str,
        answer: &'a StoredAnswer,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'a;

    /// Records a rejection's `answer` for `key` on its own (the delivery's transaction was
    /// rolled back); `false` if the key was recorded or claimed again in between.
    #[doc(hidden)]
    fn record_rejection<'a>(
        &'a self,
        key: &'a str,
        answer: &'a StoredAnswer,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send + 'a;

    /// Deletes the recorded answer of `key` (not a live claim).
    #[doc(hidden)]
    fn forget_in<'a>(
        tx: &'a mut Transaction<'static, Self::Db>,
        key: &'a str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send + 'a;
}

/// The shared part of a SQL store `$store` (a struct with a `pool` field) on database `$db`
/// with statements `$sql` ([`StoreSql`]): `pool()`, [`DedupStore`] and [`SqlStore`]. The store
/// itself provides `async fn begin(pool) -> Result<Transaction<'static, $db>, StoreError>`.
macro_rules! sql_store {
    ($store:ident, $db:ty, $sql:expr) => {
        impl $store {
            /// The connection pool: create your tables with it, or query outside webhooks.
            pub fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            /// One round of a plain claim: insert, take over an expired claim, or read the row
            /// (`None`: the row vanished in between, released by another instance).
            async fn claim_once(
                &self,
                key: &str,
                lease_ms: i64,
            ) -> Result<Option<$crate::dedup::Claim>, $crate::dedup::StoreError> {
                use $crate::dedup::{Claim, ClaimToken, StoreError};
                let token = ClaimToken::new();
                let inserted = sqlx::query($sql.claim)
                    .bind(key)
                    .bind(token.as_str())
                    .bind(lease_ms)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                if inserted.rows_affected() == 1 {
                    return Ok(Some(Claim::Acquired(token)));
                }
                let taken_over = sqlx::query($sql.take_over)
                    .bind(token.as_str())
                    .bind(lease_ms)
                    .bind(key)
                    .execute(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                if taken_over.rows_affected() == 1 {
                    return Ok(Some(Claim::Acquired(token)));
                }
                let row = sqlx::query($sql.select)
                    .bind(key)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(StoreError::backend)?;
                row.map(|row| $crate::dedup::sql::row_claim(&row))
                    .transpose()
            }

            /// `Ok` when a statement on the caller's claim touched its row, else the claim is
            /// lost.
            fn owned(
                done: Result<<$db as sqlx::Database>::QueryResult, sqlx::Error>,
            ) -> Result<(), $crate::dedup::StoreError> {
                match done {
                    Ok(done) if done.rows_affected() == 1 => Ok(()),
                    Ok(_) => Err($crate::dedup::StoreError::ClaimLost),
                    Err(err) => Err($crate::dedup::StoreError::backend(err)),
                }
            }
        }

        impl $crate::dedup::DedupStore for $store {
            async fn claim(
                &self,
                key: &str,
                lease: std::time::Duration,
            ) -> Result<$crate::dedup::Claim, $crate::dedup::StoreError> {
                let lease_ms = $crate::dedup::lease_millis(lease);
                $crate::dedup::sql::claim_retrying(|| self.claim_once(key, lease_ms)).await
            }

            async fn complete(
                &self,
                key: &str,
                token: &$crate::dedup::ClaimToken,
                answer: &$crate::dedup::StoredAnswer,
            ) -> Result<(), $crate::dedup::StoreError> {
                let done = sqlx::query($sql.complete)
                    .bind(i32::from(answer.status))
                    .bind(answer.body.as_ref())
                    .bind(key)
                    .bind(token.as_str())
                    .execute(&self.pool)
                    .await;
                Self::owned(done)
            }

            async fn release(
                &self,
                key: &str,
                token: &$crate::dedup::ClaimToken,
            ) -> Result<(), $crate::dedup::StoreError> {
                let done = sqlx::query($sql.release)
                    .bind(key)
                    .bind(token.as_str())
                    .execute(&self.pool)
                    .await;
                Self::owned(done)
            }

            async fn renew(
                &self,
                key: &str,
                token: &$crate::dedup::ClaimToken,
                lease: std::time::Duration,
            ) -> Result<(), $crate::dedup::StoreError> {
                let done = sqlx::query($sql.renew)
                    .bind($crate::dedup::lease_millis(lease))
                    .bind(key)
                    .bind(token.as_str())
                    .execute(&self.pool)
                    .await;
                Self::owned(done)
            }

            async fn forget(&self, key: &str) -> Result<(), $crate::dedup::StoreError> {
                sqlx::query($sql.forget)
                    .bind(key)
                    .execute(&self.pool)
                    .await
                    .map_err($crate::dedup::StoreError::backend)?;
                Ok(())
            }

            async fn purge_completed_before(
                &self,
                cutoff: std::time::SystemTime,
            ) -> Result<u64, $crate::dedup::StoreError> {
                let done = sqlx::query($sql.purge)
                    .bind($crate::dedup::unix_millis(cutoff))
                    .execute(&self.pool)
                    .await
                    .map_err($crate::dedup::StoreError::backend)?;
                Ok(done.rows_affected())
            }
        }

        impl $crate::dedup::sql_store::sealed::Sealed for $store {}

        impl $crate::dedup::sql_store::SqlStore for $store {
            type Db = $db;

            fn pool(&self) -> &sqlx::Pool<$db> {
                &self.pool
            }

            async fn begin_tx(
                &self,
            ) -> Result<sqlx::Transaction<'static, $db>, $crate::dedup::StoreError> {
                Self::begin(&self.pool).await
            }

            async fn claim_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                key: &str,
            ) -> Result<$crate::dedup::sql_store::TxClaim, $crate::dedup::StoreError> {
                use $crate::dedup::StoreError;
                use $crate::dedup::sql_store::TxClaim;
                let inserted = sqlx::query($sql.insert_answer)
                    .bind(key)
                    .bind(204_i32)
                    .bind(None::<&[u8]>)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                if inserted.rows_affected() == 1 {
                    return Ok(TxClaim::Owned);
                }
                let row = sqlx::query($sql.tx_select)
                    .bind(key)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                let Some(row) = row else {
                    return Ok(TxClaim::InProgress);
                };
                let token: Option<String> =
                    sqlx::Row::try_get(&row, 0).map_err(StoreError::backend)?;
                let expired: Option<i64> =
                    sqlx::Row::try_get(&row, 3).map_err(StoreError::backend)?;
                if token.is_some() && expired != Some(1) {
                    return Ok(TxClaim::InProgress);
                }
                if token.is_none() {
                    return Ok(TxClaim::Done($crate::dedup::sql::stored_answer(&row)?));
                }
                // A plain claim whose holder died: take it over inside this transaction.
                let taken = sqlx::query($sql.tx_take_over)
                    .bind(key)
                    .execute(&mut **tx)
                    .await
                    .map_err(StoreError::backend)?;
                if taken.rows_affected() != 1 {
                    return Ok(TxClaim::InProgress); // someone else took it first
                }
                Ok(TxClaim::Owned)
            }

            async fn record_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                key: &str,
                answer: &$crate::dedup::StoredAnswer,
            ) -> Result<(), $crate::dedup::StoreError> {
                sqlx::query($sql.record)
                    .bind(i32::from(answer.status))
                    .bind(answer.body.as_ref())
                    .bind(key)
                    .execute(&mut **tx)
                    .await
                    .map_err($crate::dedup::StoreError::backend)?;
                Ok(())
            }

            async fn record_rejection(
                &self,
                key: &str,
                answer: &$crate::dedup::StoredAnswer,
            ) -> Result<bool, $crate::dedup::StoreError> {
                let inserted = sqlx::query($sql.insert_answer)
                    .bind(key)
                    .bind(i32::from(answer.status))
                    .bind(answer.body.as_ref())
                    .execute(&self.pool)
                    .await
                    .map_err($crate::dedup::StoreError::backend)?;
                Ok(inserted.rows_affected() == 1)
            }

            async fn forget_in(
                tx: &mut sqlx::Transaction<'static, $db>,
                key: &str,
            ) -> Result<(), $crate::dedup::StoreError> {
                sqlx::query($sql.forget)
                    .bind(key)
                    .execute(&mut **tx)
                    .await
                    .map_err($crate::dedup::StoreError::backend)?;
                Ok(())
            }
        }
    };
}

pub(crate) use sql_store;

/// `connect(url)` and `connect_with(url, settings)` of a server store whose
/// `connect_options($options, settings)` does the work; `$example` is a URL for the docs.
#[cfg(any(feature = "postgres", feature = "mysql"))]
macro_rules! url_connect {
    ($store:ident, $options:ty, $example:literal) => {
        impl $store {
            #[doc = concat!("Connects with a URL such as `", $example, "` (default")]
            /// [`PoolSettings`](crate::PoolSettings)) and creates the table if missing.
            pub async fn connect(url: &str) -> Result<Self, $crate::dedup::StoreError> {
                Self::connect_with(url, &$crate::dedup::PoolSettings::default()).await
            }

            /// Connects with explicit pool and timeout settings.
            pub async fn connect_with(
                url: &str,
                settings: &$crate::dedup::PoolSettings,
            ) -> Result<Self, $crate::dedup::StoreError> {
                let options = <$options as std::str::FromStr>::from_str(url)
                    .map_err($crate::dedup::StoreError::backend)?;
                Self::connect_options(options, settings).await
            }
        }
    };
}

#[cfg(any(feature = "postgres", feature = "mysql"))]
pub(crate) use url_connect;
