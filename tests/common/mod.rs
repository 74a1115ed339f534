//! Test harness: runs the real `tollgate` binary on free ports with its own database and talks to
//! it over HTTP, like a user would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod accounts;
pub mod exposition;
pub mod routes;

use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN_PASSWORD: &str = "test-admin-password";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Tollgate {
    pub child: Option<Child>,
    pub proxy: String,
    pub admin: String,
    pub dir: tempfile::TempDir,
    pub token: String,
    pub http: reqwest::Client,
    pub log_path: PathBuf,
}

#[derive(Default)]
pub struct Options {
    pub env: Vec<(String, String)>,
    pub database_url: Option<String>,
    /// Command-line arguments (e.g. `--config FILE`).
    pub args: Vec<String>,
}

impl Options {
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
}

pub fn command(dir: &std::path::Path, proxy_port: u16, admin_port: u16, opts: &Options) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tollgate"));
    let db = opts
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/tollgate.db", dir.display()));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TOLLGATE__PROXY__LISTEN", format!("127.0.0.1:{proxy_port}"))
        .env("TOLLGATE__ADMIN__LISTEN", format!("127.0.0.1:{admin_port}"))
        .env("TOLLGATE__DATABASE__URL", db)
        .env("TOLLGATE__ADMIN__BOOTSTRAP_PASSWORD", ADMIN_PASSWORD)
        .env("TOLLGATE__PROXY__THREADS", "2")
        .env("TOLLGATE__SERVER__GRACE_PERIOD_SECS", "5")
        // Every test is one client address logging in far more often than a person would;
        // tests of the login limits set their own.
        .env("TOLLGATE__ADMIN__LOGIN_PER_ADDRESS_PER_MINUTE", "100000")
        .env("TOLLGATE__ADMIN__LOGIN_PER_USERNAME_PER_MINUTE", "100000")
        // Every test client is 127.0.0.1; tests of the per-address caps set their own.
        .env("TOLLGATE__ADMIN__MAX_CONNECTIONS_PER_IP", "0")
        .env("TOLLGATE__PROXY__MAX_CONNECTIONS_PER_IP", "0")
        .env(
            "TOLLGATE__LOG__LEVEL",
            "info,pingora_core=warn,pingora_proxy=warn,sqlx=warn,sea_orm=warn",
        )
        .current_dir(dir);
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    cmd.args(&opts.args);
    cmd
}

impl Tollgate {
    pub async fn start() -> Tollgate {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(opts: Options) -> Tollgate {
        Self::start_in(tempfile::tempdir().unwrap(), opts).await
    }

    /// Starts an instance on an existing data directory (a restart), on fresh ports.
    pub async fn start_in(dir: tempfile::TempDir, opts: Options) -> Tollgate {
        let (proxy_port, admin_port) = (free_port(), free_port());
        let log_path = dir.path().join("tollgate.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = command(dir.path(), proxy_port, admin_port, &opts)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        let mut tg = Tollgate {
            child: Some(child),
            proxy: format!("http://127.0.0.1:{proxy_port}"),
            admin: format!("http://127.0.0.1:{admin_port}"),
            dir,
            token: String::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            log_path,
        };
        tg.wait_ready().await;
        tg.token = tg.login(ADMIN_PASSWORD).await.expect("admin login");
        tg
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("tollgate exited early ({status}):\n{}", self.log());
            }
            let admin_ok = self
                .http
                .get(format!("{}/api/health", self.admin))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            let proxy_ok = tokio::net::TcpStream::connect(self.proxy.trim_start_matches("http://"))
                .await
                .is_ok();
            if admin_ok && proxy_ok {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tollgate not ready:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub async fn login(&self, password: &str) -> Option<String> {
        let r = self
            .http
            .post(format!("{}/api/auth/login", self.admin))
            .json(&json!({"username": "admin", "password": password}))
            .send()
            .await
            .unwrap();
        if !r.status().is_success() {
            return None;
        }
        let v: Value = r.json().await.unwrap();
        Some(v["access_token"].as_str().unwrap().to_string())
    }

    /// A management call; returns status and JSON body (Null when empty).
    pub async fn api(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{}", self.admin, path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn create_provider(&self, name: &str, format: &str, base_url: &str) -> i64 {
        let (s, v) = self
            .api(
                "POST",
                "/api/providers",
                Some(json!({"name": name, "api_format": format, "base_url": base_url})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_i64().unwrap()
    }

    /// The provider of that name pointed at `base_url`: the seeded one (`openai`, `anthropic`,
    /// `gemini`) changed, or a new one.
    pub async fn provider_at(&self, name: &str, format: &str, base_url: &str) -> i64 {
        let (_, list) = self.api("GET", "/api/providers", None).await;
        let found = list
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["id"].as_i64().unwrap());
        match found {
            Some(id) => {
                let (s, v) = self
                    .api(
                        "PATCH",
                        &format!("/api/providers/{id}"),
                        Some(json!({"base_url": base_url})),
                    )
                    .await;
                assert_eq!(s, 200, "{v}");
                id
            }
            None => self.create_provider(name, format, base_url).await,
        }
    }

    pub async fn create_provider_key(&self, provider_id: i64, secret: &str) -> i64 {
        let (s, v) = self
            .api(
                "POST",
                "/api/provider-keys",
                Some(json!({"provider_id": provider_id, "name": format!("key-{}", rand_suffix()), "secret": secret})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["id"].as_i64().unwrap()
    }

    /// Returns (client key id, client key).
    pub async fn create_client_key(&self, provider_id: i64, pool: &[i64]) -> (i64, String) {
        let (s, v) = self
            .api(
                "POST",
                "/api/client-keys",
                Some(json!({"name": "test", "provider_id": provider_id, "provider_key_ids": pool})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_i64().unwrap(),
            v["key"].as_str().unwrap().to_string(),
        )
    }

    /// A client key on `provider_id` over `pool` with more fields (limits, model list, ...).
    /// Returns (client key id, client key).
    pub async fn create_client_key_with(
        &self,
        provider_id: i64,
        pool: &[i64],
        fields: Value,
    ) -> (i64, String) {
        let mut body =
            json!({"name": "test", "provider_id": provider_id, "provider_key_ids": pool});
        for (k, v) in fields.as_object().unwrap() {
            body[k] = v.clone();
        }
        let (s, v) = self.api("POST", "/api/client-keys", Some(body)).await;
        assert_eq!(s, 201, "{v}");
        (
            v["id"].as_i64().unwrap(),
            v["key"].as_str().unwrap().to_string(),
        )
    }

    /// Provider + one key + a client key, in one go. Returns (provider id, provider key id, client key).
    pub async fn setup(&self, format: &str, base_url: &str, secret: &str) -> (i64, i64, String) {
        let pid = self
            .create_provider(&format!("p-{}", rand_suffix()), format, base_url)
            .await;
        let kid = self.create_provider_key(pid, secret).await;
        let (_, key) = self.create_client_key(pid, &[kid]).await;
        (pid, kid, key)
    }

    pub async fn set_price(
        &self,
        model: &str,
        input: &str,
        output: &str,
        cache_write: &str,
        cache_read: &str,
    ) {
        let (s, v) = self
            .api(
                "POST",
                "/api/model-prices",
                Some(json!({
                    "model": model, "input_per_mtok": input, "output_per_mtok": output,
                    "cache_write_per_mtok": cache_write, "cache_read_per_mtok": cache_read,
                    "effective_from": "2020-01-01T00:00:00Z"
                })),
            )
            .await;
        assert_eq!(s, 201, "{v}");
    }

    /// The log row of a request, waiting for the batch writer.
    pub async fn log_row(&self, request_id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (_, v) = self.api("GET", "/api/logs?per_page=500", None).await;
            if let Some(row) = v["items"].as_array().and_then(|items| {
                items
                    .iter()
                    .find(|r| r["request_id"] == request_id)
                    .cloned()
            }) {
                return row;
            }
            assert!(
                Instant::now() < deadline,
                "no log row for {request_id}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the process to exit; returns its exit code.
    pub fn wait_exit(&mut self, within: Duration) -> Option<i32> {
        let deadline = Instant::now() + within;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Tollgate {
    fn drop(&mut self) {
        if std::thread::panicking() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("--- tollgate log ({}) ---\n{}", self.admin, self.log());
            }
        }
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn rand_suffix() -> String {
    format!("{:x}", rand::random::<u64>())
}

/// The shared Redis of Redis tests (`None` outside CI when unset; CI must set it).
pub fn redis_url() -> Option<String> {
    let url = std::env::var("TOLLGATE_TEST_REDIS_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set TOLLGATE_TEST_REDIS_URL"
        );
    }
    url
}

/// Creates a fresh Postgres database for one test; dropped by the returned guard.
pub struct PgDatabase {
    pub url: String,
    name: String,
    admin_url: String,
}

/// The Postgres server of Postgres tests (`None` outside CI when unset; CI must set it).
pub fn postgres_url() -> Option<String> {
    let url = std::env::var("TOLLGATE_TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty());
    if url.is_none() {
        assert!(
            std::env::var("CI").is_err(),
            "CI must set TOLLGATE_TEST_POSTGRES_URL"
        );
    }
    url
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        use sea_orm::{ConnectionTrait, Database};
        let name = format!("tollgate_test_{}", rand_suffix());
        let db = Database::connect(admin_url)
            .await
            .expect("postgres reachable");
        db.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        db.close().await.unwrap();
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(admin_url);
        PgDatabase {
            url: format!("{base}/{name}"),
            name,
            admin_url: admin_url.to_string(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                use sea_orm::{ConnectionTrait, Database};
                if let Ok(db) = Database::connect(&admin_url).await {
                    let _ = db
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    let _ = db.close().await;
                }
            });
        })
        .join();
    }
}

/// A test master key for Postgres runs (every instance must share one).
pub const TEST_MASTER_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

/// Several instances as in production: one fresh Postgres database, one Redis with a key prefix
/// of their own. `None` (outside CI) when the servers are not configured.
pub struct Cluster {
    pub db: PgDatabase,
    pub redis_url: String,
    pub prefix: String,
}

impl Cluster {
    pub async fn create() -> Option<Cluster> {
        let (Some(pg), Some(redis_url)) = (postgres_url(), redis_url()) else {
            return None;
        };
        Some(Cluster {
            db: PgDatabase::create(&pg).await,
            redis_url,
            prefix: format!("tollgate-test-{}:", rand_suffix()),
        })
    }

    /// Options for one more instance of the cluster.
    pub fn options(&self) -> Options {
        Options {
            database_url: Some(self.db.url.clone()),
            ..Default::default()
        }
        .env("TOLLGATE__SECURITY__MASTER_KEY", TEST_MASTER_KEY)
        .env("TOLLGATE__REDIS__URL", &self.redis_url)
        .env("TOLLGATE__REDIS__KEY_PREFIX", &self.prefix)
    }
}
