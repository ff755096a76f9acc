//! Turns constraint violations into client errors instead of 500s.

/// The name of the unique or check constraint a database error broke, on
/// either backend. SQLite reports the columns (`UNIQUE constraint failed:
/// users.login_name`) or the index name is absent, so callers match on a
/// stable fragment that both messages contain.
pub fn violated(err: &sqlx::Error) -> Option<String> {
    let db_err = err.as_database_error()?;
    if !(db_err.is_unique_violation() || db_err.is_check_violation()) {
        return None;
    }
    Some(
        db_err
            .constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| db_err.message().to_owned()),
    )
}
