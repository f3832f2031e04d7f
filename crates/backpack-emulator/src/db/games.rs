//! The `games` table: games per merchant and project.

use sqlx::Row;
use sqlx::sqlite::{SqliteConnection, SqliteRow};

use super::DbError;

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
pub async fn insert_game(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
    game: &GameRow,
    created_at: &str,
) -> Result<GameInsert, DbError> {
    let result = sqlx::query(
        "INSERT INTO games (id, merchant_id, project_id, external_game_id, game_name,
                            game_image_url, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .bind(&game.id)
    .bind(merchant_id)
    .bind(project_id)
    .bind(&game.external_game_id)
    .bind(&game.game_name)
    .bind(&game.game_image_url)
    .bind(created_at)
    .execute(conn)
    .await;
    match result {
        Ok(_) => Ok(GameInsert::Created(game.id.clone())),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(GameInsert::Duplicate),
        Err(e) => Err(e.into()),
    }
}

fn game_from_row(row: &SqliteRow) -> Result<GameRow, sqlx::Error> {
    Ok(GameRow {
        id: row.try_get(0)?,
        external_game_id: row.try_get(1)?,
        game_name: row.try_get(2)?,
        game_image_url: row.try_get(3)?,
    })
}

/// The project's games, oldest first.
pub async fn list_games(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
) -> Result<Vec<GameRow>, DbError> {
    let rows = sqlx::query(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 ORDER BY rowid",
    )
    .bind(merchant_id)
    .bind(project_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(game_from_row).collect::<Result<_, _>>()?)
}

/// The project's game with this external ID.
pub async fn game_by_external_id(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
) -> Result<Option<GameRow>, DbError> {
    let row = sqlx::query(
        "SELECT id, external_game_id, game_name, game_image_url FROM games
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
    )
    .bind(merchant_id)
    .bind(project_id)
    .bind(external_game_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.as_ref().map(game_from_row).transpose()?)
}

/// Updates the given fields of a game; `false` if there is no such game.
pub async fn update_game(
    conn: &mut SqliteConnection,
    merchant_id: u32,
    project_id: u32,
    external_game_id: &str,
    game_name: Option<&str>,
    game_image_url: Option<&str>,
) -> Result<bool, DbError> {
    let changed = sqlx::query(
        "UPDATE games SET game_name = COALESCE(?4, game_name),
                          game_image_url = COALESCE(?5, game_image_url)
         WHERE merchant_id = ?1 AND project_id = ?2 AND external_game_id = ?3",
    )
    .bind(merchant_id)
    .bind(project_id)
    .bind(external_game_id)
    .bind(game_name)
    .bind(game_image_url)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed > 0)
}
