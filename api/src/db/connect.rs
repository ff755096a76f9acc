//! Opening the pool from a URL, with the settings each backend needs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::Db;
use crate::config::DatabaseConfig;
use secrecy::ExposeSecret;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "database.url must start with sqlite:// or postgres:// (got scheme {0:?}); a bare path is refused so that a typo does not create an empty database"
    )]
    UnknownScheme(String),
    #[error("cannot create the directory for the SQLite file {0}: {1}")]
    Directory(String, std::io::Error),
    #[error("cannot open the database: {0}")]
    Open(#[from] sqlx::Error),
}

pub async fn connect(config: &DatabaseConfig) -> Result<Db, DbError> {
    let url = config.url.expose_secret();
    let acquire = Duration::from_secs(config.acquire_timeout_secs);
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or(rest);
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| DbError::Directory(path.to_owned(), e))?;
        }
        let busy = Duration::from_secs(10);
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(busy)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(acquire)
            .connect_with(options)
            .await?;
        Ok(Db::Sqlite(pool, super::WriteGate::new(busy)))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let options = PgConnectOptions::from_str(url)?.application_name("gov-server");
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(acquire)
            .connect_with(options)
            .await?;
        Ok(Db::Postgres(pool))
    } else {
        let scheme = url.split(':').next().unwrap_or_default().to_owned();
        Err(DbError::UnknownScheme(scheme))
    }
}
