//! The `refresh_tokens` table: refresh tokens (by hash), each usable once.

use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;

use super::DbError;

/// The refresh tokens table.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
";

/// Stores a refresh token (by hash).
pub async fn insert_refresh_token(
    conn: &mut SqliteConnection,
    hash: &str,
    user_id: &str,
    client_id: &str,
    now_ms: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (hash, user_id, client_id, used, created_at)
         VALUES (?1, ?2, ?3, 0, ?4)",
    )
    .bind(hash)
    .bind(user_id)
    .bind(client_id)
    .bind(now_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Uses a refresh token up: the user it was issued for, if it was valid and unused for this
/// client.
pub async fn use_refresh_token(
    conn: &mut SqliteConnection,
    hash: &str,
    client_id: &str,
) -> Result<Option<String>, DbError> {
    let mut tx = conn.begin().await?;
    let user: Option<String> = sqlx::query_scalar(
        "SELECT user_id FROM refresh_tokens WHERE hash = ?1 AND client_id = ?2 AND used = 0",
    )
    .bind(hash)
    .bind(client_id)
    .fetch_optional(&mut *tx)
    .await?;
    if user.is_some() {
        sqlx::query("UPDATE refresh_tokens SET used = 1 WHERE hash = ?1")
            .bind(hash)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(user)
}
