//! `usher admin migrate-data`: a deployment moved SQLite → PostgreSQL → SQLite answers every API
//! call exactly as before (same sessions, same API keys); a destination holding data is refused
//! and left as it was; the copy reports a checksum per table.

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use usher::app::Running;
use usher::config::Config;
use usher::store::{Db, transfer};

use reqwest::Method;

use crate::helpers::{Auth, PgDatabase, TestApp, free_port, send};

const USHER: &str = env!("CARGO_BIN_EXE_usher");

/// `usher --data-dir DATA`: the configured database is the SQLite file of the data folder,
/// whatever this test run's backend.
fn usher(data: &Path) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(USHER);
    c.arg("--data-dir")
        .arg(data)
        .env_remove("USHER_DATABASE_URL")
        .env("USHER_LOG_LEVEL", "warn");
    c
}

/// A data folder whose SQLite database holds a first owner, organization and API key.
async fn bootstrapped() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = usher(dir.path())
        .args(["admin", "bootstrap", "--email", "first@example.com"])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    dir
}

/// Runs `usher --data-dir DATA admin migrate-data ARGS…`.
async fn migrate_data(data: &Path, args: &[&str]) -> Output {
    usher(data)
        .args(["admin", "migrate-data"])
        .args(args)
        .output()
        .await
        .unwrap()
}

/// The `--json` report of a migrate-data run that must have succeeded.
#[track_caller]
fn report_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "migrate-data failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

async fn open(url: &str) -> Db {
    Db::connect(&Config::default().db_options(url.to_owned()))
        .await
        .unwrap()
}

/// (table, rows, checksum) of every copied table of the database at `url`.
async fn contents(url: &str) -> Vec<(String, u64, String)> {
    let db = open(url).await;
    let sums = transfer::table_checksums(&db).await.unwrap();
    db.close().await;
    sums
}

/// A server on one database of the deployment whose data folder (and so master key) `config`
/// names. The outbox worker is off, so nothing changes between two looks at the same data.
struct Server {
    running: Running,
    base: String,
    client: reqwest::Client,
}

impl Server {
    async fn start(config: &Config, url: &str) -> Server {
        let mut config = config.clone();
        config.database_url = Some(url.to_owned());
        config.outbox_worker = false;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        config.listen = listener.local_addr().unwrap().to_string();
        let running = usher::app::start(&config, listener).await.unwrap();
        Server {
            base: format!("http://{}", running.addr),
            running,
            client: reqwest::Client::new(),
        }
    }

    /// A GET's status and body.
    async fn get(&self, path: &str, auth: &Auth) -> Value {
        let url = format!("{}{path}", self.base);
        let r = send(&self.client, Method::GET, &url, auth.header(), None).await;
        json!({"status": r.status.as_u16(), "body": r.body})
    }
}

/// The credentials and organizations of the deployment under test.
struct Fixture {
    org: String,
    other_org: String,
    owner_key: Auth,
    owner_session: Auth,
    developer_key: Auth,
    other_key: Auth,
    /// Sessions of members who joined through invitations.
    sessions: Vec<Auth>,
    /// Tokens (from the e-mails) of invitations that are pending, cancelled and declined.
    invitation_tokens: Vec<String>,
}

/// Builds, through the API, every kind of row a deployment holds: members with several roles,
/// invitations in every state, API keys of the organization and of a member, webhooks (enabled
/// with failing deliveries, and disabled), e-mails and webhook events in the outbox, sessions, a
/// password-reset token, a second organization, an organization language.
async fn populate(app: &TestApp) -> Fixture {
    let org = app.owner.org_id.clone();
    let owner_key = app.owner_key();
    let hooks = format!("/usher/v1/accounts/{org}/webhooks");
    // Nobody listens there: deliveries fail and wait for their retry with the error kept.
    let url = format!("http://127.0.0.1:{}/hook", free_port());
    app.post(&hooks, &owner_key, json!({"url": url, "events": []}))
        .await
        .assert_ok();
    let quiet = app
        .post(
            &hooks,
            &owner_key,
            json!({"url": url, "events": ["invitation.created"], "description": "muted"}),
        )
        .await;
    let quiet = quiet.assert_ok()["webhookId"].as_str().unwrap().to_owned();
    app.put(
        &format!("{hooks}/{quiet}"),
        &owner_key,
        json!({"enabled": false}),
    )
    .await
    .assert_ok();

    let (developer, _) = app.join("dev@example.com", "DEVELOPER").await;
    let (member, member_id) = app.join("member@example.com", "MEMBER").await;
    let (co_owner, _) = app.join("co-owner@example.com", "OWNER").await;
    app.put(
        &format!("/users/v1/accounts/{org}/members/{member_id}"),
        &owner_key,
        json!({"name": "Renamed Member"}),
    )
    .await
    .assert_ok();

    let (_, pending) = app.invite("pending@example.com", "MEMBER").await;
    let (cancelled_id, cancelled) = app.invite("cancelled@example.com", "DEVELOPER").await;
    app.delete(&format!("/users/v1/invitations/{cancelled_id}"), &owner_key)
        .await
        .assert_ok();
    let (_, declined) = app.invite("declined@example.com", "MEMBER").await;
    app.post(
        &format!("/usher/v1/invitations/{declined}/decline"),
        &Auth::None,
        json!({}),
    )
    .await
    .assert_ok();

    app.put(
        &format!("/usher/v1/accounts/{org}/language"),
        &owner_key,
        json!({"language": "ko"}),
    )
    .await
    .assert_ok();
    let created = app
        .post(
            &format!("/usher/v1/accounts/{org}/api-keys"),
            &developer,
            json!({"description": "deploys"}),
        )
        .await;
    let created = created.assert_ok();
    let developer_key = Auth::Key(
        created["apiKey"].as_str().unwrap().to_owned(),
        created["apiSecret"].as_str().unwrap().to_owned(),
    );

    let other = app.other_org("other@example.com").await;
    let other_key = Auth::key(&other);
    // A pending invitation the developer sees among their own.
    app.post(
        "/users/v1/invitations",
        &other_key,
        json!({"email": "dev@example.com", "role": "MEMBER"}),
    )
    .await
    .assert_ok();
    app.post(
        "/users/v1/member/password/reset",
        &Auth::None,
        json!({"email": "member@example.com"}),
    )
    .await
    .assert_ok();

    // A service account with a secret and a live access token (the Atlas face's credentials).
    let mut atlas = crate::atlas::Atlas::owner(app);
    atlas.accept = Some("application/vnd.atlas.2024-08-05+json".into());
    let account = atlas
        .call(
            reqwest::Method::POST,
            &format!("/api/atlas/v2/orgs/{org}/serviceAccounts"),
            Some(json!({"name": "bot", "description": "", "roles": ["ORG_MEMBER"], "secretExpiresAfterHours": 24})),
        )
        .await
        .json();
    let token = app
        .client
        .post(format!("{}/api/oauth/token", app.base))
        .basic_auth(
            account["clientId"].as_str().unwrap(),
            account["secrets"][0]["secret"].as_str(),
        )
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);

    // A project with its owner, a team in it, and an invitation that grants both.
    let project = crate::atlas_projects::project(app, "Payments").await;
    let team = crate::atlas_projects::team(app, "Ops", &["member@example.com"]).await;
    let owner = crate::atlas::Atlas::owner(app);
    let assigned = owner
        .call(
            reqwest::Method::POST,
            &format!("/api/atlas/v2/groups/{project}/teams"),
            Some(json!([{"teamId": team, "roleNames": ["GROUP_READ_ONLY"]}])),
        )
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.text);
    let granted = owner
        .call(
            reqwest::Method::POST,
            &format!("/api/atlas/v2/orgs/{org}/invites"),
            Some(json!({
                "username": "granted@example.com",
                "roles": ["ORG_MEMBER"],
                "teamIds": [team],
                "groupRoleAssignments": [{"groupId": project, "roles": ["GROUP_OWNER"]}],
            })),
        )
        .await;
    assert_eq!(granted.status, 200, "{}", granted.text);
    // An Atlas programmatic key with an access list that admits this machine.
    let key = owner
        .call(
            reqwest::Method::POST,
            &format!("/api/atlas/v2/orgs/{org}/apiKeys"),
            Some(json!({"desc": "ci", "roles": ["ORG_READ_ONLY"]})),
        )
        .await
        .json();
    let listed = owner
        .call(
            reqwest::Method::POST,
            &format!(
                "/api/atlas/v2/orgs/{org}/apiKeys/{}/accessList",
                key["id"].as_str().unwrap()
            ),
            Some(json!([{"cidrBlock": "127.0.0.0/8"}])),
        )
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);

    Fixture {
        owner_session: app.login(&app.owner.email, &app.owner.password).await,
        org,
        other_org: other.org_id,
        owner_key,
        developer_key,
        other_key,
        sessions: vec![developer, member, co_owner],
        invitation_tokens: vec![pending, cancelled, declined],
    }
}

/// The answer to every read of every entity, keyed by the call.
async fn answers(server: &Server, f: &Fixture) -> Vec<(String, Value)> {
    let mut calls: Vec<(String, &Auth)> = vec![
        ("/users/v1/member".into(), &f.owner_session),
        ("/users/v1/accounts".into(), &f.owner_session),
    ];
    for (org, key) in [(&f.org, &f.owner_key), (&f.other_org, &f.other_key)] {
        for what in ["", "/members", "/invitations"] {
            calls.push((format!("/users/v1/accounts/{org}{what}"), key));
        }
        for what in ["api-keys", "webhooks", "outbox"] {
            calls.push((format!("/usher/v1/accounts/{org}/{what}"), key));
        }
    }
    calls.push((format!("/users/v1/accounts/{}/me", f.org), &f.developer_key));
    for session in &f.sessions {
        for path in [
            "/users/v1/member".to_owned(),
            "/users/v1/invitations".to_owned(),
            format!("/users/v1/accounts/{}/me", f.org),
        ] {
            calls.push((path, session));
        }
    }
    for token in &f.invitation_tokens {
        calls.push((format!("/users/v1/invitations/{token}"), &Auth::None));
    }
    let mut out = Vec::with_capacity(calls.len());
    for (path, auth) in calls {
        let answer = server.get(&path, auth).await;
        out.push((format!("{path} as {auth:?}"), answer));
    }
    out
}

async fn answers_on(config: &Config, url: &str, f: &Fixture) -> Vec<(String, Value)> {
    let server = Server::start(config, url).await;
    let seen = answers(&server, f).await;
    server.running.stop().await;
    seen
}

/// The reported tables match the contents of both databases: every table, in the fixed order,
/// with its row count and checksum, all ok.
#[track_caller]
fn assert_reported(report: &Value, expected: &[(String, u64, String)]) {
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["committed"], true, "{report}");
    let tables = report["tables"].as_array().unwrap();
    let reported: Vec<(String, u64, String)> = tables
        .iter()
        .map(|t| {
            assert_eq!(t["ok"], true, "{t}");
            assert_eq!(t["checksum"], t["destinationChecksum"], "{t}");
            (
                t["table"].as_str().unwrap().to_owned(),
                t["rows"].as_u64().unwrap(),
                t["checksum"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(reported, expected);
}

#[tokio::test]
async fn a_deployment_moved_to_postgresql_and_back_answers_every_call_as_before() {
    let app = TestApp::spawn_with(|c| {
        c.database_url = Some(sqlite_url(&c.data_dir.join("usher.db")));
    })
    .await;
    let fixture = populate(&app).await;
    let mut app = app;
    app.running.take().unwrap().stop().await;
    let Some(pg) = PgDatabase::for_test("migrate_data::round_trip").await else {
        app.stop().await;
        return;
    };
    let data = app.config.data_dir.clone();
    let source = sqlite_url(&data.join("usher.db"));
    let back = sqlite_url(&data.join("back.db"));

    let before = answers_on(&app.config, &source, &fixture).await;
    let ok = before
        .iter()
        .filter(|(_, answer)| answer["status"] == 200)
        .count();
    assert!(
        ok >= before.len() - 2,
        "only ended invitations fail: {before:#?}"
    );
    let original = contents(&source).await;
    for (table, rows, _) in &original {
        assert!(*rows > 0, "the fixture leaves {table} empty: {original:?}");
    }

    let report = report_of(&migrate_data(&data, &["--to", &pg.url, "--json"]).await);
    assert_reported(&report, &original);
    assert_eq!(contents(&pg.url).await, original);
    assert_eq!(answers_on(&app.config, &pg.url, &fixture).await, before);

    // Copying again into the now filled database is refused, and it stays as it was.
    let again = migrate_data(&data, &["--from", &source, "--to", &pg.url]).await;
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("not empty"), "{why}");
    assert_eq!(contents(&pg.url).await, original);

    let report =
        report_of(&migrate_data(&data, &["--from", &pg.url, "--to", &back, "--json"]).await);
    assert_reported(&report, &original);
    assert_eq!(answers_on(&app.config, &back, &fixture).await, before);

    pg.drop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_copy_prints_a_checksum_per_table_and_a_filled_destination_is_refused_untouched() {
    let dir = bootstrapped().await;
    let data = dir.path();
    let copy = sqlite_url(&data.join("copy.db"));

    // Without --from: the configured database, here the data folder's SQLite file.
    let out = migrate_data(data, &["--to", &copy]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8(out.stdout).unwrap();
    let mut lines = printed.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["table", "rows", "checksum", "ok"]);
    let copied = contents(&copy).await;
    let rows: Vec<(String, u64, String)> = lines
        .filter(|l| !l.starts_with("not copied (transient): "))
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(cells.len(), 4, "{l}");
            assert_eq!(cells[3], "ok", "{l}");
            (
                cells[0].to_owned(),
                cells[1].parse().unwrap(),
                cells[2].to_owned(),
            )
        })
        .collect();
    assert_eq!(rows, copied);
    assert_eq!(copied, contents(&sqlite_url(&data.join("usher.db"))).await);
    let users = copied.iter().find(|(t, ..)| t == "users").unwrap();
    assert_eq!(users.1, 1);
    assert!(users.2.len() == 64 && users.2.chars().all(|c| c.is_ascii_hexdigit()));

    let again = migrate_data(data, &["--to", &copy]).await;
    assert!(!again.status.success());
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(
        why.contains("not empty") && why.contains("users: 1 rows"),
        "{why}"
    );
    assert_eq!(contents(&copy).await, copied);

    // A mistyped source is an error, not a new empty database copied into the destination.
    let missing = data.join("missing.db");
    let out = migrate_data(
        data,
        &[
            "--from",
            &sqlite_url(&missing),
            "--to",
            &sqlite_url(&data.join("x.db")),
        ],
    )
    .await;
    assert!(!out.status.success());
    assert!(!missing.exists());
}

#[tokio::test]
async fn the_table_lists_name_every_table_of_both_schemas() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open(&sqlite_url(&dir.path().join("schema.db"))).await;
    sqlite.migrate().await.unwrap();
    assert_covered(&sqlite).await;
    sqlite.close().await;
    let Some(pg) = PgDatabase::for_test("migrate_data::table_lists").await else {
        return;
    };
    let db = open(&pg.url).await;
    db.migrate().await.unwrap();
    assert_covered(&db).await;
    db.close().await;
    pg.drop().await;
}

/// Every table of the migrated schema is copied or named transient, and every copied table
/// exists (transient ones may not exist yet).
async fn assert_covered(db: &Db) {
    let tables = transfer::schema_tables(db).await.unwrap();
    assert_eq!(
        transfer::unlisted(&tables),
        Vec::<String>::new(),
        "add new tables to transfer::TABLES (in foreign-key order) or transfer::TRANSIENT"
    );
    for t in transfer::TABLES {
        assert!(tables.contains(*t), "{t} is listed but not in the schema");
    }
}

#[tokio::test]
async fn a_copy_that_does_not_verify_is_rolled_back() {
    let dir = bootstrapped().await;
    let data = dir.path();
    // A destination that alters what it is given: the checksums must catch it.
    let target = sqlite_url(&data.join("altered.db"));
    let db = open(&target).await;
    db.migrate().await.unwrap();
    sqlx::query(
        "CREATE TRIGGER alter_audit AFTER INSERT ON audit_events \
         BEGIN UPDATE audit_events SET details = '{\"altered\":true}' WHERE id = NEW.id; END",
    )
    .execute(&mut *db.write().await.unwrap())
    .await
    .unwrap();
    db.close().await;

    let out = migrate_data(data, &["--to", &target, "--json"]).await;
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["committed"], false, "{report}");
    let failed: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["ok"] == false)
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["audit_events"]);
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(why.contains("rolled back"), "{why}");
    for (table, rows, _) in contents(&target).await {
        assert_eq!(rows, 0, "{table} kept rows of a rolled-back copy");
    }
}

#[tokio::test]
async fn transient_tables_are_left_behind() {
    let dir = bootstrapped().await;
    let data = dir.path();
    // The anti-replay table as migration 0005 makes it (IF NOT EXISTS: once it does, this only
    // adds the row).
    let source = open(&sqlite_url(&data.join("usher.db"))).await;
    for sql in [
        "CREATE TABLE IF NOT EXISTS replay_guard (digest TEXT PRIMARY KEY, expires_at BIGINT NOT NULL)",
        "INSERT INTO replay_guard (digest, expires_at) VALUES ('seen', 4102444800)",
    ] {
        sqlx::query(sql)
            .execute(&mut *source.write().await.unwrap())
            .await
            .unwrap();
    }
    source.close().await;

    let copy = sqlite_url(&data.join("copy.db"));
    let report = report_of(&migrate_data(data, &["--to", &copy, "--json"]).await);
    assert_eq!(
        report["notCopied"],
        json!(["replay_guard", "rate_counters", "deployment"])
    );
    let reported: Vec<&str> = report["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["table"].as_str().unwrap())
        .collect();
    assert_eq!(reported, transfer::TABLES);
    let db = open(&copy).await;
    if transfer::schema_tables(&db)
        .await
        .unwrap()
        .contains("replay_guard")
    {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM replay_guard")
            .fetch_one(db.read())
            .await
            .unwrap();
        assert_eq!(n, 0);
    }
    db.close().await;
}
