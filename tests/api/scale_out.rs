//! Scale-out: three `usher serve` processes on one PostgreSQL database behave as one server.
//! These run whichever backend the rest of the suite uses (see `PgDatabase::for_test`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Auth, PgDatabase, Resp, free_port, send, wait_for_tokens};

const USHER: &str = env!("CARGO_BIN_EXE_usher");

/// Runs `usher` on the fleet's database and master key, with its own data folder.
pub fn usher_on(database_url: &str, master_key: &str, data: &std::path::Path) -> Command {
    let mut c = Command::new(USHER);
    c.arg("--data-dir")
        .arg(data)
        .env("USHER_DATABASE_URL", database_url)
        .env("USHER_MASTER_KEY", master_key)
        .env("USHER_LOG_LEVEL", "warn");
    c
}

/// One `usher serve` process; killed when dropped.
pub struct Instance {
    child: Child,
    pub base: String,
    pub data: PathBuf,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    /// Starts `usher serve` on a free port; does not wait for it.
    pub fn start(command: &mut Command, data: PathBuf) -> Instance {
        let port = free_port();
        let log = std::fs::File::create(data.with_extension("log")).unwrap();
        let child = command
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Instance {
            child,
            base: format!("http://127.0.0.1:{port}"),
            data,
        }
    }

    /// Waits until `/readyz` answers 200 (at most 60 s); panics with the log if the process
    /// exits first.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) {
        for _ in 0..600 {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("usher exited ({status}):\n{}", self.log());
            }
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await
                && r.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("usher was not ready after 60 s:\n{}", self.log());
    }

    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
    }
}

pub struct Fleet {
    pub instances: Vec<Instance>,
    pub client: reqwest::Client,
    pub db: sqlx::PgPool,
    pub owner: Value,
    pub master_key: String,
    database: PgDatabase,
    dir: tempfile::TempDir,
}

impl Fleet {
    /// `n` instances started at once on a new, empty database (so they race to migrate it and
    /// to create its first owner), each with its own data folder and mail folder, one master
    /// key. `env`: extra settings for every instance. `None`: no PostgreSQL (see
    /// `PgDatabase::for_test`).
    pub async fn start(test: &str, n: usize, env: &[(&str, &str)]) -> Option<Fleet> {
        let database = PgDatabase::for_test(test).await?;
        Some(Fleet::start_on(database, n, env).await)
    }

    /// [`Fleet::start`] on a database of the caller's.
    pub async fn start_on(database: PgDatabase, n: usize, env: &[(&str, &str)]) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let master_key =
            usher::core::crypto::encode_master_key(&usher::core::crypto::generate_master_key());
        usher::install_tls_provider();
        let client = reqwest::Client::new();
        let mut instances: Vec<Instance> = (0..n)
            .map(|i| {
                let data = dir.path().join(format!("instance-{i}"));
                let mut c = usher_on(&database.url, &master_key, &data);
                c.env("USHER_AUTH_RATE_PER_MINUTE", "10000");
                for (k, v) in env {
                    c.env(k, v);
                }
                Instance::start(&mut c, data)
            })
            .collect();
        for i in &mut instances {
            i.wait_ready(&client).await;
        }
        // Ready comes before the first owner is made (serving starts first), so wait for it.
        let mut credentials: Vec<Value> = Vec::new();
        for _ in 0..100 {
            credentials = instances
                .iter()
                .filter_map(|i| std::fs::read(i.data.join("initial-credentials.json")).ok())
                .filter_map(|raw| serde_json::from_slice(&raw).ok())
                .collect();
            if !credentials.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            credentials.len(),
            1,
            "exactly one instance created the first owner"
        );
        let db = sqlx::PgPool::connect(&database.url).await.unwrap();
        Fleet {
            instances,
            client,
            db,
            owner: credentials.into_iter().next().unwrap(),
            master_key,
            database,
            dir,
        }
    }

    pub fn owner_key(&self) -> Auth {
        Auth::Key(
            self.owner["apiKey"].as_str().unwrap().into(),
            self.owner["apiSecret"].as_str().unwrap().into(),
        )
    }

    pub async fn call(
        &self,
        instance: usize,
        method: Method,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Resp {
        let url = format!("{}{path}", self.instances[instance].base);
        send(&self.client, method, &url, auth.header(), body).await
    }

    pub async fn get(&self, instance: usize, path: &str, auth: &Auth) -> Resp {
        self.call(instance, Method::GET, path, auth, None).await
    }

    pub async fn post(&self, instance: usize, path: &str, auth: &Auth, body: Value) -> Resp {
        self.call(instance, Method::POST, path, auth, Some(body))
            .await
    }

    pub fn mail_dirs(&self) -> Vec<PathBuf> {
        self.instances.iter().map(|i| i.data.join("mail")).collect()
    }

    /// Invites `email` as a member through `instance`; (invitation id, token from the e-mail,
    /// whichever instance delivered it).
    pub async fn invite(&self, instance: usize, email: &str) -> (String, String) {
        let r = self
            .post(
                instance,
                "/users/v1/invitations",
                &self.owner_key(),
                json!({"email": email, "role": "MEMBER"}),
            )
            .await;
        let id = r.assert_ok()["invitationId"].as_str().unwrap().to_owned();
        let token = wait_for_tokens(&self.mail_dirs(), email, "/invitations/", 1).await;
        (id, token[0].clone())
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.db)
            .await
            .unwrap()
    }

    /// A user made with `usher admin create-user` on the fleet's database; their password.
    pub fn create_user(&self, email: &str) -> String {
        let password = "a long enough password";
        let out = usher_on(&self.database.url, &self.master_key, self.dir.path())
            .args([
                "admin",
                "create-user",
                "--email",
                email,
                "--password",
                password,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{:?}", out);
        password.into()
    }

    pub async fn stop(self) {
        drop(self.instances);
        self.db.close().await;
        self.database.drop().await;
    }
}

async fn login(fleet: &Fleet, instance: usize, email: &str, password: &str) -> Auth {
    let r = fleet
        .post(
            instance,
            "/usher/v1/sessions",
            &Auth::None,
            json!({"email": email, "password": password}),
        )
        .await;
    Auth::Bearer(r.assert_ok()["token"].as_str().unwrap().into())
}

#[tokio::test]
async fn three_instances_starting_at_once_migrate_once_and_create_one_first_owner() {
    let Some(fleet) = Fleet::start("scale_out::first_start", 3, &[]).await else {
        return;
    };
    assert_eq!(fleet.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        fleet
            .count("SELECT COUNT(*) - COUNT(DISTINCT version) FROM _sqlx_migrations")
            .await,
        0,
        "each migration applied once"
    );
    for i in 0..3 {
        fleet
            .get(i, "/users/v1/member", &fleet.owner_key())
            .await
            .assert_ok();
    }
    fleet.stop().await;
}

#[tokio::test]
async fn an_instance_with_another_master_key_refuses_to_start() {
    let Some(fleet) = Fleet::start("scale_out::master_key", 1, &[]).await else {
        return;
    };
    let other_key =
        usher::core::crypto::encode_master_key(&usher::core::crypto::generate_master_key());
    let data = fleet.dir.path().join("stranger");
    let out = usher_on(&fleet.database.url, &other_key, &data)
        .arg("migrate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(
        !stderr.contains(&other_key),
        "the key itself is never printed"
    );
    fleet.stop().await;
}

#[tokio::test]
async fn an_invitation_created_on_one_instance_is_cancelled_through_another() {
    let Some(fleet) = Fleet::start("scale_out::cancel", 3, &[]).await else {
        return;
    };
    let (id, _) = fleet.invite(0, "moving@example.com").await;
    let path = format!("/users/v1/invitations/{id}");
    let r = fleet
        .call(1, Method::DELETE, &path, &fleet.owner_key(), None)
        .await;
    assert_eq!(r.assert_ok()["invitationId"], id.as_str());
    fleet
        .call(2, Method::DELETE, &path, &fleet.owner_key(), None)
        .await
        .assert_error(409, "InvitationCancelled");
    let state: String = sqlx::query_scalar("SELECT state FROM invitations WHERE id = $1")
        .bind(&id)
        .fetch_one(&fleet.db)
        .await
        .unwrap();
    assert_eq!(state, "CANCELLED");
    fleet.stop().await;
}

#[tokio::test]
async fn a_signature_accepted_by_one_instance_is_refused_by_the_others() {
    let Some(fleet) = Fleet::start("scale_out::replay", 3, &[]).await else {
        return;
    };
    let header = fleet.owner_key().header().unwrap();
    let raw = Auth::Raw(header);
    fleet.get(0, "/users/v1/member", &raw).await.assert_ok();
    for i in [1, 2, 0] {
        fleet
            .get(i, "/users/v1/member", &raw)
            .await
            .assert_error(403, "DuplicatedSignature");
    }
    fleet.stop().await;
}

#[tokio::test]
async fn a_session_made_on_one_instance_is_valid_on_the_others_until_signed_out_on_any() {
    let Some(fleet) = Fleet::start("scale_out::sessions", 3, &[]).await else {
        return;
    };
    let email = fleet.owner["email"].as_str().unwrap().to_owned();
    let password = fleet.owner["password"].as_str().unwrap().to_owned();
    let session = login(&fleet, 0, &email, &password).await;
    for i in 0..3 {
        fleet.get(i, "/users/v1/member", &session).await.assert_ok();
    }
    fleet
        .call(
            1,
            Method::DELETE,
            "/usher/v1/sessions/current",
            &session,
            None,
        )
        .await;
    for i in 0..3 {
        assert_eq!(
            fleet.get(i, "/users/v1/member", &session).await.status,
            401,
            "signed out everywhere (instance {i})"
        );
    }
    fleet.stop().await;
}

#[tokio::test]
async fn fifty_concurrent_accepts_spread_over_three_instances_make_exactly_one_member() {
    let Some(fleet) = Fleet::start("scale_out::accept_race", 3, &[]).await else {
        return;
    };
    let password = fleet.create_user("racer@example.com");
    let (id, token) = fleet.invite(0, "racer@example.com").await;
    let session = login(&fleet, 1, "racer@example.com", &password).await;
    let path = format!("/users/v1/invitations/{token}");
    let results =
        futures::future::join_all((0..50).map(|i| fleet.post(i % 3, &path, &session, json!({}))))
            .await;
    assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1);
    for r in results.iter().filter(|r| r.status != 200) {
        r.assert_error(409, "InvitationAlreadyAccepted");
    }
    assert_eq!(fleet.count("SELECT COUNT(*) FROM memberships").await, 2);
    let accepted = format!(
        "SELECT COUNT(*) FROM audit_events WHERE target_id = '{id}' AND action = 'invitation.accepted'"
    );
    assert_eq!(fleet.count(&accepted).await, 1);
    fleet.stop().await;
}

#[tokio::test]
async fn outbox_messages_are_delivered_exactly_once_across_instances() {
    let Some(fleet) = Fleet::start("scale_out::outbox", 3, &[]).await else {
        return;
    };
    const N: usize = 30;
    let key = fleet.owner_key();
    let created = futures::future::join_all((0..N).map(|i| {
        fleet.post(
            i % 3,
            "/users/v1/invitations",
            &key,
            json!({"email": format!("guest{i}@example.com"), "role": "MEMBER"}),
        )
    }))
    .await;
    assert!(created.iter().all(|r| r.status == 200));
    let queued = fleet.count("SELECT COUNT(*) FROM outbox").await;
    assert_eq!(queued, N as i64);
    for _ in 0..300 {
        if fleet
            .count("SELECT COUNT(*) FROM outbox WHERE state = 'SENT'")
            .await
            == queued
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut files: Vec<String> = fleet
        .mail_dirs()
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|e| e.flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".eml"))
        .collect();
    assert_eq!(files.len(), N, "one e-mail per message: {files:?}");
    files.sort();
    files.dedup();
    assert_eq!(files.len(), N, "no message delivered by two instances");
    fleet.stop().await;
}

#[tokio::test]
async fn rate_limits_count_a_client_across_instances() {
    // 30 per minute: the e-mail existence check allows a third of it, 10.
    let env = [("USHER_AUTH_RATE_PER_MINUTE", "30")];
    let Some(fleet) = Fleet::start("scale_out::rate_limits", 3, &env).await else {
        return;
    };
    let path = "/users/v1/existence/email/someone@example.com";
    for i in 0..10 {
        let r = fleet.get(i % 3, path, &Auth::None).await;
        assert_ne!(r.status, 429, "attempt {i} is within the limit");
    }
    for i in 0..3 {
        fleet
            .get(i, path, &Auth::None)
            .await
            .assert_error(429, "TooManyRequests");
    }
    fleet.stop().await;
}
