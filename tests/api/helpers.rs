//! The test application: a real usher server on a random port, a real database (a temporary
//! SQLite file, or a fresh PostgreSQL database when `USHER_TEST_DATABASE_URL` is set), real HTTP.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;
use sqlx::Connection;
use usher::app::Running;
use usher::config::Config;
use usher::core::credentials::Bootstrapped;

/// How a request authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    /// SOLAPI HMAC-SHA256, freshly signed for each request.
    Key(String, String),
    Bearer(String),
    /// A literal Authorization header value.
    Raw(String),
}

impl Auth {
    pub fn key(b: &Bootstrapped) -> Auth {
        Auth::Key(b.api_key.clone(), b.api_secret.clone())
    }

    /// The Authorization header, an HMAC key signed now by this machine's clock.
    pub fn header(&self) -> Option<String> {
        match self {
            Auth::Key(k, s) => {
                let date = time::OffsetDateTime::now_utc()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap();
                Some(sign_with(k, s, &date))
            }
            other => other.header_unsigned(),
        }
    }

    fn header_unsigned(&self) -> Option<String> {
        match self {
            Auth::None => None,
            Auth::Key(..) => unreachable!("keys are signed"),
            Auth::Bearer(t) => Some(format!("Bearer {t}")),
            Auth::Raw(h) => Some(h.clone()),
        }
    }
}

/// One HTTP request with an optional Authorization header and JSON body; the answer, its body
/// parsed as JSON where it is JSON.
pub async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    authorization: Option<String>,
    body: Option<Value>,
) -> Resp {
    let mut req = client.request(method, url);
    if let Some(h) = authorization {
        req = req.header("Authorization", h);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request sent");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Resp {
        status,
        headers,
        body,
    }
}

#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Resp {
    /// Asserts a SOLAPI error answer and returns it for further checks.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status.as_u16(), status, "status of {:?}", self.body);
        assert_eq!(self.body["errorCode"], code, "errorCode of {:?}", self.body);
        assert!(
            self.body["errorMessage"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "errorMessage of {:?}",
            self.body
        );
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(2),
            "exactly errorCode and errorMessage: {:?}",
            self.body
        );
        self
    }

    #[track_caller]
    pub fn assert_ok(&self) -> &Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "expected 200, got {:?}",
            self.body
        );
        &self.body
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub running: Option<Running>,
    pub config: Config,
    pub owner: Bootstrapped,
    _dir: tempfile::TempDir,
    pg_database: Option<PgDatabase>,
}

/// A PostgreSQL database made for one test, dropped by [`PgDatabase::drop`].
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    /// URL of the new database.
    pub url: String,
}

impl PgDatabase {
    /// Creates an empty database on the server of `admin_url` (a URL naming any database there).
    pub async fn create(admin_url: &str) -> Result<PgDatabase, sqlx::Error> {
        let name = format!(
            "usher_test_{}",
            usher::core::ids::new_id(time::OffsetDateTime::now_utc())
        );
        let mut conn = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await.ok();
        let (prefix, _) = admin_url
            .rsplit_once('/')
            .expect("a PostgreSQL URL names a database");
        Ok(PgDatabase {
            admin_url: admin_url.to_owned(),
            url: format!("{prefix}/{name}"),
            name,
        })
    }

    /// For tests that need PostgreSQL whichever backend the suite runs on (several instances on
    /// one database, migrate-data): the server of `USHER_TEST_DATABASE_URL`, else the local one
    /// (`postgres://postgres@127.0.0.1:5432/postgres`). Unreachable: in CI (`CI` set) the test
    /// fails; on a machine with only the Rust toolchain it says so loudly and is skipped.
    pub async fn for_test(test: &str) -> Option<PgDatabase> {
        let admin = std::env::var("USHER_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
        match PgDatabase::create(&admin).await {
            Ok(db) => Some(db),
            Err(e) if std::env::var_os("CI").is_some() => {
                panic!("{test} cannot run in CI: PostgreSQL at {admin}: {e}")
            }
            Err(e) => {
                let notice = format!(
                    "\nSKIPPED {test}: PostgreSQL at {admin} is unreachable ({e}). \
                     Set USHER_TEST_DATABASE_URL to run it.\n"
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
                None
            }
        }
    }

    pub async fn drop(self) {
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let drop = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                .execute(&mut conn)
                .await;
        }
    }
}

/// Creates a fresh PostgreSQL database when the suite runs against PostgreSQL.
async fn fresh_database(dir: &std::path::Path) -> (String, Option<PgDatabase>) {
    match std::env::var("USHER_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let db = PgDatabase::create(&admin_url)
                .await
                .unwrap_or_else(|e| panic!("USHER_TEST_DATABASE_URL is set but unreachable: {e}"));
            (db.url.clone(), Some(db))
        }
        _ => (format!("sqlite://{}", dir.join("usher.db").display()), None),
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let (url, pg_database) = fresh_database(dir.path()).await;
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            database_url: Some(url),
            auth_rate_per_minute: 10_000,
            log_level: "warn".into(),
            ..Config::default()
        };
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        config.listen = listener.local_addr().unwrap().to_string();
        let running = usher::app::start(&config, listener)
            .await
            .expect("server starts");
        let base = format!("http://{}", running.addr);
        let owner = running
            .state
            .core
            .bootstrap("owner@example.com", None, Some("Acme"))
            .await
            .unwrap();
        TestApp {
            base,
            client: {
                usher::install_tls_provider();
                reqwest::Client::new()
            },
            running: Some(running),
            config,
            owner,
            _dir: dir,
            pg_database,
        }
    }

    pub fn core(&self) -> &usher::core::Core {
        &self.running.as_ref().expect("running").state.core
    }

    /// Moves the server's clock (expiry tests).
    pub fn advance_clock(&self, by: time::Duration) {
        self.core().clock.advance(by);
    }

    /// A SOLAPI HMAC-SHA256 header signed now (by the server's clock) with a fresh salt.
    pub fn sign(&self, key: &str, secret: &str) -> String {
        let date = self
            .core()
            .clock
            .now()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        sign_with(key, secret, &date)
    }

    pub async fn call(&self, method: Method, path: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let header = match auth {
            Auth::Key(k, s) => Some(self.sign(k, s)),
            other => other.header_unsigned(),
        };
        send(
            &self.client,
            method,
            &format!("{}{path}", self.base),
            header,
            body,
        )
        .await
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.call(Method::GET, path, auth, None).await
    }

    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.call(Method::POST, path, auth, Some(body)).await
    }

    pub async fn put(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.call(Method::PUT, path, auth, Some(body)).await
    }

    pub async fn delete(&self, path: &str, auth: &Auth) -> Resp {
        self.call(Method::DELETE, path, auth, None).await
    }

    /// Invites `email` with `role`, signs them up through the e-mailed token, and returns their
    /// session and member id.
    pub async fn join(&self, email: &str, role: &str) -> (Auth, String) {
        let (_, token) = self.invite(email, role).await;
        let path = format!("/users/v1/signup/invitations/{token}");
        let account = self.post(&path, &Auth::None, new_password()).await;
        let name = email.split('@').next().unwrap();
        let members = account.assert_ok()["members"].as_array().unwrap();
        let me = members
            .iter()
            .find(|m| m["name"] == name)
            .expect("the new member is listed");
        let member_id = me["memberId"].as_str().unwrap().to_owned();
        (self.login(email, PASSWORD).await, member_id)
    }

    /// The owner's API key.
    pub fn owner_key(&self) -> Auth {
        Auth::key(&self.owner)
    }

    /// Signs in and returns a bearer session.
    pub async fn login(&self, email: &str, password: &str) -> Auth {
        let r = self
            .post(
                "/usher/v1/sessions",
                &Auth::None,
                serde_json::json!({"email": email, "password": password}),
            )
            .await;
        Auth::Bearer(r.assert_ok()["token"].as_str().expect("token").to_owned())
    }

    /// Another organization with its own owner and key.
    pub async fn other_org(&self, email: &str) -> Bootstrapped {
        self.core()
            .bootstrap(email, None, Some("Other Org"))
            .await
            .unwrap()
    }

    /// Sends an invitation as the owner and returns (invitation id, token from the e-mail).
    pub async fn invite(&self, email: &str, role: &str) -> (String, String) {
        let r = self
            .post(
                "/users/v1/invitations",
                &self.owner_key(),
                serde_json::json!({"email": email, "role": role}),
            )
            .await;
        let id = r.assert_ok()["invitationId"].as_str().unwrap().to_owned();
        let token = self.token_from_mail(email, "/invitations/").await;
        (id, token)
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.config.mail_dir().unwrap()
    }

    /// Waits for and returns the text parts of every e-mail sent to `to`, oldest first.
    pub async fn mails_to(&self, to: &str, at_least: usize) -> Vec<(String, String)> {
        for _ in 0..200 {
            let found = mails_in(&[self.mail_dir()], to);
            if found.len() >= at_least {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("fewer than {at_least} e-mails to {to} arrived");
    }

    /// Tokens of the links containing `marker` (e.g. `/invitations/`) in the e-mails to `to`,
    /// waiting until there are at least `at_least` of them.
    pub async fn tokens_from_mail(&self, to: &str, marker: &str, at_least: usize) -> Vec<String> {
        wait_for_tokens(&[self.mail_dir()], to, marker, at_least).await
    }

    /// The token of the one e-mail to `to` with a `marker` link.
    pub async fn token_from_mail(&self, to: &str, marker: &str) -> String {
        self.tokens_from_mail(to, marker, 1).await.pop().unwrap()
    }

    /// Row counts of every table: "nothing changed" means this is equal before and after.
    pub async fn snapshot(&self) -> Vec<(String, i64, String)> {
        let mut out = Vec::new();
        for (table, col) in [
            ("users", "updated_at"),
            ("organizations", "updated_at"),
            ("memberships", "updated_at"),
            ("invitations", "updated_at"),
            ("api_keys", "created_at"),
            ("user_tokens", "created_at"),
            ("outbox", "created_at"),
            ("audit_events", "created_at"),
        ] {
            let sql = format!("SELECT COUNT(*) AS n, COALESCE(MAX({col}), '') AS m FROM {table}");
            let row: (i64, String) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(self.core().db.read())
                .await
                .unwrap();
            out.push((table.to_owned(), row.0, row.1));
        }
        out
    }

    /// How many users have this (normalized) e-mail: 0 or 1.
    pub async fn users_with_email(&self, email: &str) -> i64 {
        self.scalar(
            "SELECT COUNT(*) FROM users WHERE email_normalized = $1",
            email,
        )
        .await
    }

    pub async fn scalar(&self, sql: &str, bind: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
            .bind(bind)
            .fetch_one(self.core().db.read())
            .await
            .unwrap()
    }

    pub async fn audit_actions(&self, target: &str) -> Vec<String> {
        usher::store::audit::actions_for(self.core().db.read(), target)
            .await
            .unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        if let Some(db) = self.pg_database.take() {
            db.drop().await;
        }
    }
}

/// (subject, text part) of every `.eml` file in `dirs` addressed to `to`, in file-name order
/// (message ids: creation order).
pub fn mails_in(dirs: &[PathBuf], to: &str) -> Vec<(String, String)> {
    let mut paths: Vec<PathBuf> = dirs
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort_by_key(|p| p.file_name().map(|n| n.to_owned()));
    let header = |parsed: &mailparse::ParsedMail, key: &str| {
        parsed
            .headers
            .iter()
            .find(|h| h.get_key() == key)
            .map(|h| h.get_value())
            .unwrap_or_default()
    };
    let mut found = Vec::new();
    for p in paths {
        let raw = std::fs::read(&p).unwrap();
        let parsed = mailparse::parse_mail(&raw).unwrap();
        if header(&parsed, "To")
            .to_lowercase()
            .contains(&to.to_lowercase())
        {
            let text = parsed
                .subparts
                .first()
                .map(|p| p.get_body().unwrap())
                .unwrap_or_default();
            found.push((header(&parsed, "Subject"), text));
        }
    }
    found
}

/// Waits until the e-mails to `to` in `dirs` hold at least `at_least` links containing `marker`
/// (e.g. `/invitations/`); their tokens.
pub async fn wait_for_tokens(
    dirs: &[PathBuf],
    to: &str,
    marker: &str,
    at_least: usize,
) -> Vec<String> {
    for _ in 0..400 {
        let tokens: Vec<String> = mails_in(dirs, to)
            .iter()
            .filter_map(|(_, text)| {
                let i = text.find(marker)?;
                let token: String = text[i + marker.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                (token.len() == 43).then_some(token)
            })
            .collect();
        if tokens.len() >= at_least {
            return tokens;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("fewer than {at_least} e-mails to {to} with a {marker} link");
}

/// The password new members choose in these tests.
pub const PASSWORD: &str = "correct horse battery";

/// A sign-up body with [`PASSWORD`] and its confirmation.
pub fn new_password() -> Value {
    serde_json::json!({"password": PASSWORD, "passwordConfirmation": PASSWORD})
}

pub fn sign_with(key: &str, secret: &str, date: &str) -> String {
    let mut salt = [0u8; 16];
    rand::fill(&mut salt);
    let salt = hex::encode(salt);
    let sig = usher::auth::hmac::sign(
        usher::auth::hmac::Algorithm::Sha256,
        secret.as_bytes(),
        date,
        &salt,
    );
    format!("HMAC-SHA256 apiKey={key}, date={date}, salt={salt}, signature={sig}")
}

/// A Python virtual environment under `target/` with `packages` from PyPI, created once (and
/// once at a time) per target folder; its interpreter. Without python3 or PyPI a test that needs
/// it cannot run: in CI (`CI` set) that fails the test; on a developer's machine with only the
/// Rust toolchain it says so loudly and the test is skipped (`None`).
pub fn python_venv(name: &str, packages: &[&str], test: &str) -> Option<std::path::PathBuf> {
    use std::process::Command;
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SETUP.lock().unwrap_or_else(|e| e.into_inner());
    let venv = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let python = venv.join("bin/python");
    let marker = venv.join(format!("{}.installed", packages.join("+")));
    if marker.exists() {
        return Some(python);
    }
    let setup = || -> Result<(), String> {
        let venv_ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .map_err(|e| format!("python3: {e}"))?;
        if !venv_ok.success() {
            return Err("python3 -m venv failed".into());
        }
        let pip = Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(packages)
            .status()
            .map_err(|e| format!("pip: {e}"))?;
        if !pip.success() {
            return Err(format!(
                "pip install {} failed (is PyPI reachable?)",
                packages.join(" ")
            ));
        }
        std::fs::write(&marker, "").map_err(|e| e.to_string())
    };
    match setup() {
        Ok(()) => Some(python),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{test} cannot run in CI: {why}")
        }
        Err(why) => {
            // Written past the test harness's output capture, so the skip is never silent.
            let notice =
                format!("\nSKIPPED {test}: {why}. Install python3 (venv, pip) to run it.\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
            None
        }
    }
}

/// The keys of a JSON object, in the order the server wrote them.
pub fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// (state, attempts, last error) of one outbox message.
pub type OutboxState = (String, i64, Option<String>);

impl TestApp {
    /// Confirms an e-mail address with the token of a verification e-mail.
    pub async fn verify_email(&self, token: &str) -> Resp {
        self.post(
            "/usher/v1/email-verifications",
            &Auth::None,
            serde_json::json!({"token": token}),
        )
        .await
    }

    /// `key`: the message's (normalized) recipient, or its id.
    pub async fn outbox_state(&self, key: &str) -> OutboxState {
        sqlx::query_as(
            "SELECT state, attempts, last_error FROM outbox WHERE recipient = $1 OR id = $1",
        )
        .bind(key)
        .fetch_one(self.core().db.read())
        .await
        .unwrap()
    }

    /// Polls the message to `recipient` until `done` holds (about 4 s at most); its last state.
    pub async fn wait_outbox(
        &self,
        recipient: &str,
        done: impl Fn(&OutboxState) -> bool,
    ) -> OutboxState {
        let mut last = self.outbox_state(recipient).await;
        for _ in 0..200 {
            if done(&last) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            last = self.outbox_state(recipient).await;
        }
        last
    }
}
