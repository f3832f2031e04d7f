//! The `games` table: games per merchant and project.

use rusqlite::{Connection, OptionalExtension, Row, params};

/// The games table.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS games (
    id TEXT PRIMARY KEY,
    merchant_id INTEGER NOT NULL,
    project_id INTEGER NOT NULL,
    external_game_id TEXT,
    game_name TEXT,
    game_image_url TEXT,
    created_at TEXT NOT NULL,
    UNIQUE (merchant_id, project_id, external_game_id)
);
";

/// A game entity.
#[derive(Debug, Clone, PartialEq)]
pub struct GameRow {
    /// Emulator-assigned ID (a UUID).
    pub id: String,
    /// `external_game_id`.
    pub external_game_id: Option<String>,
    /// `game_name`.
    pub game_name: Option<String>,
    /// `game_image_url`.
    pub game_image_url: Option<String>,
}

/// Result of inserting a game.
#[derive(Debug, Clone, PartialEq)]
pub enum GameInsert {
    /// Created with this ID.
    Created(String),
    /// A game with that `external_game_id` exists in the project.
    Duplicate,
}

/// Stores a new game.
pub fn insert_game(
    conn: &mut Connection,
    merchant_id: u32,
    project_id: u32,
    game: &GameRow,
    created_at: &str,
) -> rusqlite::Result<GameInsert> {
    let result = conn.execute(
        "INSERT INTO games (id, merchant_id, project_id, external_game_id, game_name,
                            game_image_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            game.id,
            merchant_id,
            project_id,
            game.external_game_id,
            game.game_name,
            game.game_image_url,
            created_at
        ],
    );
    match result {
        Ok(_) => Ok(GameInsert::Created(game.id.clone())),
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Ok(GameInsert::Duplicate)
        }
        Err(e) => Err(e),
    }
}

fn game_from_row(row: &Row<'_>) -> rusqlite::Result<GameRow> {
    Ok(GameRow {
        id: row.get(0)?,
        external_game_id: row.get(1)?,
        game_name: row.get(2)?,
        game_image_url: row.get(3)?,
    })
}

/// The project's games, oldest first.
pub fn list_games(
    conn: &Connection,
    merchant_id: u32,
    project_id: u32,
) -> rusqlite::Result<Vec<GameRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![merchant_id, project_id], game_from_row)?;
    rows.collect()
}

/// The project's game with this external ID.
pub fn game_by_external_id(
    conn: &Connection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
) -> rusqlite::Result<Option<GameRow>> {
    conn.query_row(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
        params![merchant_id, project_id, external_game_id],
        game_from_row,
    )
    .optional()
}

/// Updates the given fields of a game; `false` if there is no such game.
pub fn update_game(
    conn: &mut Connection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
    game_name: Option<&str>,
    game_image_url: Option<&str>,
) -> rusqlite::Result<bool> {
    let changed = conn.execute(
        "UPDATE games SET game_name = COALESCE(?4, game_name),
                          game_image_url = COALESCE(?5, game_image_url)
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
        params![
            merchant_id,
            project_id,
            external_game_id,
            game_name,
            game_image_url
        ],
    )?;
    Ok(changed > 0)
}
