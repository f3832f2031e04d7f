//! The `refresh_tokens` table: refresh tokens (by hash), each usable once.

use rusqlite::{Connection, OptionalExtension, params};

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
pub fn insert_refresh_token(
    conn: &mut Connection,
    hash: &str,
    user_id: &str,
    client_id: &str,
    now_ms: i64,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO refresh_tokens (hash, user_id, client_id, used, created_at)
         VALUES (?1, ?2, ?3, 0, ?4)",
        params![hash, user_id, client_id, now_ms],
    )?;
    Ok(())
}

/// Uses a refresh token up: the user it was issued for, if it was valid and unused for this
/// client.
pub fn use_refresh_token(
    conn: &mut Connection,
    hash: &str,
    client_id: &str,
) -> rusqlite::Result<Option<String>> {
    let tx = conn.transaction()?;
    let user: Option<String> = tx
        .query_row(
            "SELECT user_id FROM refresh_tokens WHERE hash = ?1 AND client_id = ?2 AND used = 0",
            params![hash, client_id],
            |row| row.get(0),
        )
        .optional()?;
    if user.is_some() {
        tx.execute(
            "UPDATE refresh_tokens SET used = 1 WHERE hash = ?1",
            params![hash],
        )?;
    }
    tx.commit()?;
    Ok(user)
}
