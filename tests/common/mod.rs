//! The end-to-end harness: starts the real `gov-server` binary on port 0
//! with a fresh database (a temporary SQLite file, or a fresh PostgreSQL
//! database per test when `TEST_POSTGRES_URL` is set) and talks HTTP to it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use api::config::DatabaseConfig;
use api::db::Db;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_gov-server");

/// A fresh, empty database: its URL, and what to remove when the owning
/// handle is dropped (a SQLite temp dir, or a PostgreSQL database).
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
    postgres: bool,
}

/// What the owning handle removes; shared handles remove nothing.
enum Cleanup {
    None,
    Dir(PathBuf),
    /// The admin URL and the database's name: thousands of test runs would
    /// otherwise leave thousands of databases behind, and a PostgreSQL that
    /// was not shut down cleanly fsyncs every file of them before it starts.
    Database {
        admin_url: String,
        name: String,
    },
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!("gov_test_{}", ulid::Ulid::new().to_string().to_lowercase());
        match std::env::var("TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let admin = sqlx::PgPool::connect(&admin_url)
                    .await
                    .expect("TEST_POSTGRES_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .expect("create test database");
                admin.close().await;
                let (base, _) = admin_url
                    .rsplit_once('/')
                    .expect("URL with a database name");
                TestDb {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Database {
                        admin_url: admin_url.clone(),
                        name,
                    },
                    postgres: true,
                }
            }
            _ => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}", dir.join("gov.db").display());
                TestDb {
                    url,
                    cleanup: Cleanup::Dir(dir),
                    postgres: false,
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres
    }

    /// Another handle on the same database, for a second server; the
    /// original handle keeps ownership of the files.
    pub fn shared(&self) -> TestDb {
        TestDb {
            url: self.url.clone(),
            cleanup: Cleanup::None,
            postgres: self.postgres,
        }
    }

    /// A direct connection, for looking at (or tampering with) what the
    /// server stored.
    pub async fn connect(&self) -> Db {
        let config = DatabaseConfig {
            url: self.url.clone().into(),
            max_connections: 2,
            acquire_timeout_secs: 5,
        };
        api::db::connect(&config)
            .await
            .expect("connect to the test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.cleanup, Cleanup::None) {
            Cleanup::None => {}
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin_url, name } => {
                // Drop runs inside the test's runtime, which cannot be
                // blocked on; a thread with its own runtime can. FORCE ends
                // the connections of a server that is still being killed.
                let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime");
                    runtime.block_on(async move {
                        let admin = sqlx::PgPool::connect(&admin_url).await?;
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&admin)
                            .await?;
                        admin.close().await;
                        Ok::<_, sqlx::Error>(())
                    })
                })
                .join();
                if let Ok(Err(e)) = dropped {
                    eprintln!("could not drop test database {name}: {e}");
                }
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub client: reqwest::Client,
    child: Child,
    logs: Arc<Mutex<Vec<String>>>,
}

#[derive(Default)]
pub struct Options {
    pub demo: bool,
    pub env: Vec<(&'static str, String)>,
}

/// The server with demo data, on a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_with(
        TestDb::new().await,
        Options {
            demo: true,
            env: vec![],
        },
    )
    .await
}

/// A fresh directory for one server's form attachments.
pub fn attachment_dir() -> String {
    let dir = std::env::temp_dir().join(format!("gov-attachments-{}", ulid::Ulid::new()));
    dir.to_string_lossy().into_owned()
}

pub async fn spawn_with(db: TestDb, options: Options) -> TestApp {
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0"]);
    if options.demo {
        cmd.arg("--demo");
    }
    cmd.env("DATABASE_URL", &db.url)
        .env("GOV_LOG__LEVEL", "info,sqlx=warn")
        .env("GOV_LOG__FORMAT", "json")
        // Scheduled org pulls would race the tests that drive the feed;
        // the test of the schedule turns it back on.
        .env("GOV_ORG_SYNC__INTERVAL_SECS", "0")
        // Likewise the calendar reminder, which on a day in November or
        // December would add a message to every test's outbox; its test
        // turns it on from today.
        .env("GOV_DISCLOSURE__CALENDAR_REMINDER_FROM", "")
        .env("GOV_DISCLOSURE__DEMO_HISTORY", "false")
        // Each server its own attachment store.
        .env("GOV_FILES__STORE", attachment_dir())
        .envs(options.env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("start gov-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let logs = Arc::new(Mutex::new(Vec::new()));
    let addr = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read server output") {
            logs.lock().unwrap().push(line.clone());
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            if v["message"] == "listening" {
                return v["addr"].as_str().map(str::to_owned);
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(addr) = addr else {
        let out = child.wait_with_output().await.expect("server output");
        panic!(
            "server did not start:\n{}\n{}",
            logs.lock().unwrap().join("\n"),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let sink = logs.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            sink.lock().unwrap().push(line);
        }
    });
    TestApp {
        base: format!("http://{addr}"),
        db,
        client: reqwest::Client::new(),
        child,
        logs,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET as a demo user (by login name), or anonymously with `None`.
    pub async fn get_as(&self, user: Option<&str>, path: &str) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(user) = user {
            req = req.header("x-test-user", user);
        }
        req.send().await.expect("request")
    }

    /// What a stand-in shows at `path` (its books: messages, stats), as JSON.
    pub async fn stand_in(&self, path: &str) -> serde_json::Value {
        let resp = self.get_as(None, path).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("JSON body")
    }

    /// GET and parse JSON, asserting the status.
    pub async fn get_json(&self, user: &str, path: &str, status: u16) -> serde_json::Value {
        let resp = self.get_as(Some(user), path).await;
        assert_eq!(resp.status().as_u16(), status, "GET {path} as {user}");
        resp.json().await.expect("JSON body")
    }

    pub async fn post_raw(
        &self,
        user: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("x-test-user", user)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request")
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("server running")
    }

    /// Sends SIGTERM and waits for the process to exit; answers how it
    /// exited, what it logged, and the database (kept for a look).
    pub async fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>, TestDb) {
        let pid = self.pid().to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("server exits after SIGTERM")
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let logs = self.logs();
        let TestApp { db, .. } = self;
        (exit, logs, db)
    }

    /// Runs a CLI command against this app's database.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        run_cli(&self.db.url, args, &[]).await
    }

    /// Stops the server, keeping the database for another start.
    pub async fn stop(mut self) -> TestDb {
        let _ = self.child.kill().await;
        let _ = self.child.wait().await;
        let TestApp { db, .. } = self;
        db
    }

    /// The id of a demo unit, by its code.
    pub async fn unit_id(&self, code: &str) -> String {
        let db = self.db.connect().await;
        let id: String = api::on_db!(&db, p =>
            sqlx::query_scalar("SELECT id FROM org_units WHERE code = $1").bind(code).fetch_one(p).await)
        .unwrap();
        db.close().await;
        id
    }

    /// How many audit entries record `action`, with any outcome.
    pub async fn audited(&self, action: &str) -> i64 {
        self.audited_with(action, None).await
    }

    /// How many audit entries record `action` with `outcome` (any if None).
    pub async fn audited_with(&self, action: &str, outcome: Option<&str>) -> i64 {
        let sql =
            "SELECT COUNT(*) FROM audit_log WHERE action = $1 AND ($2 IS NULL OR outcome = $2)";
        let db = self.db.connect().await;
        let n: i64 = api::on_db!(&db, p => sqlx::query_scalar(sql).bind(action).bind(outcome).fetch_one(p).await)
            .unwrap();
        db.close().await;
        n
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let db = self.db.connect().await;
        let n: i64 = api::on_db!(&db, p => sqlx::query_scalar(sql).fetch_one(p).await).unwrap();
        db.close().await;
        n
    }
}

pub async fn run_cli(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", db_url)
        .env("GOV_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .await
        .expect("run gov-server")
}

/// Asserts a problem+json answer and returns its body.
pub async fn problem(resp: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(resp.status().as_u16(), status);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_owned();
    assert_eq!(ct, "application/problem+json");
    let header_id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["request_id"], header_id.as_str());
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(body["type"].as_str().is_some_and(|t| t.ends_with(code)));
    body
}

/// The `field` of every element of the JSON array `list`, as strings.
pub fn pluck(list: &serde_json::Value, field: &str) -> Vec<String> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| item[field].as_str().expect("a string field").to_owned())
        .collect()
}

/// The current TOTP step (unix time / 30).
pub fn totp_step_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp() / 30
}

/// The demo administrators' TOTP code of `step`.
pub fn demo_totp_at(step: i64) -> String {
    sso::local::totp::current_code(sso::local::DEMO_TOTP_SECRET, (step * 30) as u64).unwrap()
}

/// The demo administrators' TOTP code `steps` 30-second steps from now.
pub fn demo_totp(steps: i64) -> String {
    demo_totp_at(totp_step_now() + steps)
}

impl TestApp {
    /// Signs a demo administrator in with password and the TOTP code of
    /// `step` (0 = now; a second login in the same 30 s needs 1). The answer
    /// carries the step used as `totp_step`, so a test can replay exactly
    /// that code, whatever the clock did meanwhile.
    pub async fn admin_login(&self, login: &str, step: i64) -> serde_json::Value {
        let step = totp_step_now() + step;
        let resp = self
            .client
            .post(self.url("/auth/admin/login"))
            .json(&serde_json::json!({
                "login_name": login,
                "password": sso::local::DEMO_PASSWORD,
                "totp_code": demo_totp_at(step),
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "login as {login}");
        let mut answer: serde_json::Value = resp.json().await.unwrap();
        answer["totp_step"] = serde_json::json!(step);
        answer
    }

    /// `method path` with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// What the SMS stand-in recorded for `phone`, oldest first.
    pub async fn sms_to(&self, phone: &str) -> Vec<serde_json::Value> {
        let path = format!("/stand-in/sms/messages?phone={phone}");
        let v: serde_json::Value = self.get_as(None, &path).await.json().await.unwrap();
        v.as_array().unwrap().clone()
    }

    /// Waits up to 5 s for `phone` to receive an SMS; answers all it got.
    pub async fn wait_for_sms(&self, phone: &str) -> Vec<serde_json::Value> {
        self.wait_for_sms_with(phone, "").await
    }

    /// Waits up to 5 s for `phone` to receive an SMS whose text holds
    /// `needle`; answers all it got. Other notices of the same journey (a
    /// case assigned, say) may reach the phone first, in either order.
    pub async fn wait_for_sms_with(&self, phone: &str, needle: &str) -> Vec<serde_json::Value> {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.sms_to(phone).await;
            let text = |m: &serde_json::Value| m["text"].as_str().unwrap_or_default().to_owned();
            if got.iter().any(|m| text(m).contains(needle)) {
                return got;
            }
            assert!(
                std::time::Instant::now() < until,
                "no SMS with {needle:?} reached {phone}: {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    pub async fn get_bearer(&self, token: &str, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET with a bearer token; asserts success and answers the JSON body.
    pub async fn bearer_json(&self, token: &str, path: &str) -> serde_json::Value {
        let resp = self.get_bearer(token, path).await;
        assert!(resp.status().is_success(), "GET {path}: {}", resp.status());
        resp.json().await.expect("JSON body")
    }

    /// POST `body` without a session; asserts `status`, answers the JSON.
    pub async fn posted(
        &self,
        path: &str,
        body: serde_json::Value,
        status: u16,
    ) -> serde_json::Value {
        let resp = self.post_json(path, body).await;
        assert_eq!(resp.status().as_u16(), status, "POST {path}");
        resp.json().await.expect("JSON body")
    }

    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

/// Requests as one demo user (X-Test-User), with a JSON body and, where
/// given, an idempotency key.
pub struct As<'a>(pub &'a TestApp, pub &'a str);

impl As<'_> {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
    ) -> reqwest::Response {
        let mut req = self
            .0
            .client
            .request(method, self.0.url(path))
            .header("x-test-user", self.1)
            .json(&body);
        if let Some(k) = key {
            req = req.header("Idempotency-Key", format!("test-key-{k}"));
        }
        req.send().await.unwrap()
    }

    /// Expects `status`; answers the JSON body.
    pub async fn expect(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
        status: u16,
    ) -> serde_json::Value {
        ok(self.send(method, path, key, body).await, status).await
    }

    /// Expects the problem `status`/`code`.
    pub async fn refused(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: serde_json::Value,
        status: u16,
        code: &str,
    ) -> serde_json::Value {
        problem(self.send(method, path, key, body).await, status, code).await
    }
}

pub async fn ok(resp: reqwest::Response, status: u16) -> serde_json::Value {
    let got = resp.status().as_u16();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(got, status, "{body}");
    body
}

/// The `kind` of every item of a JSON list (a history, a timeline, notices).
pub fn kinds(list: &serde_json::Value) -> Vec<&str> {
    list.as_array()
        .map(|items| items.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default()
}
