//! What the benchmark programs share: a fresh database of their own, and
//! percentiles.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

/// A database made for one benchmark run: a file in a temporary directory
/// (SQLite), or, with `TEST_POSTGRES_URL=postgres://…/admin_db`, a new
/// PostgreSQL database that [`FreshDb::drop_it`] removes afterwards.
pub struct FreshDb {
    pub url: String,
    pub backend: &'static str,
    name: String,
    admin_url: String,
}

impl FreshDb {
    pub async fn create() -> FreshDb {
        let name = format!("gov_bench_{}", ulid::Ulid::new().to_string().to_lowercase());
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(admin) if !admin.is_empty() => {
                let pool = sqlx::PgPool::connect(&admin).await.unwrap();
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&pool)
                    .await
                    .unwrap();
                let (base, _) = admin.rsplit_once('/').unwrap();
                FreshDb {
                    url: format!("{base}/{name}"),
                    backend: "PostgreSQL",
                    name,
                    admin_url: admin,
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                FreshDb {
                    url: format!("sqlite://{}", dir.join("gov.db").display()),
                    backend: "SQLite",
                    name,
                    admin_url: String::new(),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        !self.admin_url.is_empty()
    }

    pub async fn drop_it(self) {
        if self.is_postgres() {
            let pool = sqlx::PgPool::connect(&self.admin_url).await.unwrap();
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
        } else {
            std::fs::remove_dir_all(std::env::temp_dir().join(&self.name)).ok();
        }
    }
}

/// The `p`th percentile of sorted figures (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The machine, as every benchmark prints it: cores and memory.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().map(str::to_owned))
        .unwrap_or_default();
    format!("{cores} cores, {memory}")
}
