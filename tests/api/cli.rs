//! The `usher` binary as a newcomer and a script use it: first start, bootstrap, config, signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{free_port, sign_with};

const USHER: &str = env!("CARGO_BIN_EXE_usher");

/// Runs `usher` with a data folder (and the PostgreSQL database of this run, if any).
fn usher(data: &std::path::Path) -> Command {
    let mut c = Command::new(USHER);
    c.arg("--data-dir")
        .arg(data)
        .env_remove("USHER_DATABASE_URL")
        .env("USHER_LOG_LEVEL", "warn");
    c
}

/// `usher admin bootstrap --email EMAIL --json` on a data folder.
fn bootstrap(data: &std::path::Path, email: &str) -> std::process::Output {
    usher(data)
        .args(["admin", "bootstrap", "--email", email, "--json"])
        .output()
        .unwrap()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_ready(port: u16) {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("server did not start");
}

fn signed_get(port: u16, path: &str, key: &str, secret: &str) -> (u16, Value) {
    signed(port, reqwest::Method::GET, path, key, secret, None)
}

/// One HMAC-signed request to a server on `port`, from a synchronous test.
fn signed(
    port: u16,
    method: reqwest::Method,
    path: &str,
    key: &str,
    secret: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let header = sign_with(key, secret, &date);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        usher::install_tls_provider();
        let mut req = reqwest::Client::new()
            .request(method, format!("http://127.0.0.1:{port}{path}"))
            .header("Authorization", header);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    })
}

#[test]
fn the_first_start_prints_credentials_that_make_an_authenticated_call() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = usher(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let server = Server(child);
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        printed.push_str(&line);
        printed.push('\n');
        if line.starts_with("API browser") {
            break;
        }
    }
    let field = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_owned()))
            .unwrap_or_else(|| panic!("{name} in {printed}"))
    };
    let (key, secret, org) = (field("API key"), field("API secret"), field("organization"));
    assert!(printed.contains("initial-credentials.json"), "{printed}");
    wait_ready(port);
    let (status, member) = signed_get(port, "/users/v1/member", &key, &secret);
    assert_eq!(status, 200, "{member}");
    assert_eq!(member["selectedAccountId"], org.as_str());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for f in ["master.key", "initial-credentials.json"] {
            let mode = std::fs::metadata(dir.path().join(f))
                .unwrap()
                .permissions()
                .mode()
                & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
    drop(server);
}

#[test]
fn bootstrap_prints_one_json_object_and_is_safe_while_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let server = Server(
        usher(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port);
    let out = bootstrap(dir.path(), "script@example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "userId",
            "email",
            "password",
            "organizationId",
            "apiKey",
            "apiSecret"
        ]
    );
    let (status, member) = signed_get(
        port,
        "/users/v1/member",
        v["apiKey"].as_str().unwrap(),
        v["apiSecret"].as_str().unwrap(),
    );
    assert_eq!(status, 200);
    assert_eq!(member["email"], "script@example.com");
    let again = bootstrap(dir.path(), "script@example.com");
    assert!(
        !again.status.success(),
        "a second owner with the same e-mail is refused"
    );
    drop(server);
}

#[test]
fn admin_config_masks_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let out = usher(dir.path())
        .args(["admin", "config"])
        .env(
            "USHER_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .env(
            "USHER_DATABASE_URL",
            "postgres://usher:hunter2@db.internal:5432/usher",
        )
        .env("USHER_SIGNUP_OPEN", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("AAAAAAAA"),
        "{text}"
    );
    assert!(
        text.contains("postgres://usher:********@db.internal:5432/usher"),
        "{text}"
    );
    assert!(
        text.contains("signup_open = true"),
        "environment beats defaults: {text}"
    );
}

#[test]
fn openapi_prints_the_document() {
    let out = Command::new(USHER).arg("openapi").output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["paths"]["/users/v1/invitations"]["post"].is_object());
}

#[cfg(unix)]
#[test]
fn sigterm_shuts_the_server_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = usher(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..100 {
        if let Some(s) = child.try_wait().unwrap() {
            assert!(s.success(), "exit status {s}");
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("server did not exit after SIGTERM");
}

#[test]
fn admin_outbox_lists_parked_messages_and_queues_them_again() {
    let dir = tempfile::tempdir().unwrap();
    assert!(bootstrap(dir.path(), "ops@example.com").status.success());
    // A message parked after its last attempt, as the delivery worker leaves it.
    let db = format!("sqlite://{}", dir.path().join("usher.db").display());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query(
            "INSERT INTO outbox (id, kind, purpose, recipient, payload_encrypted, state, attempts, \
             next_attempt_at, last_error, created_at) VALUES ('6b0000000000000000000001', 'email', \
             'invitation', 'gone@example.com', 'x', 'PARKED', 8, '2026-01-01T00:00:00.000Z', \
             'mailbox unavailable', '2026-01-01T00:00:00.000Z')",
        )
        .execute(&mut c)
        .await
        .unwrap();
    });
    let run = |args: &[&str]| {
        let out = usher(dir.path())
            .arg("admin")
            .arg("outbox")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };

    let (ok, out, err) = run(&["list", "--state", "PARKED", "--json"]);
    assert!(ok, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{out}");
    assert_eq!(lines[0]["recipient"], "gone@example.com");
    assert_eq!(lines[0]["lastError"], "mailbox unavailable");
    assert_eq!(lines[0]["attempts"], 8);

    let (ok, out, err) = run(&["retry", "--id", "6b0000000000000000000001"]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "re-queued 1 message(s)");
    let (_, out, _) = run(&["list", "--state", "PENDING", "--json"]);
    let pending: Value = serde_json::from_str(out.lines().next().expect("now pending")).unwrap();
    assert_eq!(
        (&pending["state"], &pending["attempts"]),
        (&json!("PENDING"), &json!(0))
    );

    let (ok, _, err) = run(&["retry", "--id", "6b0000000000000000000001"]);
    assert!(
        !ok && err.contains("not found"),
        "only parked messages: {err}"
    );
    let (ok, out, _) = run(&["retry", "--all-parked"]);
    assert!(ok && out.trim() == "re-queued 0 message(s)", "{out}");
    let (ok, _, err) = run(&["list", "--state", "LOST"]);
    assert!(!ok && err.contains("PARKED"), "{err}");
}

/// Nothing acknowledged is lost: invitations answered 200 while mail could not go out are all
/// delivered after the server was killed (SIGKILL, no shutdown) and started again.
#[cfg(unix)]
#[test]
fn every_queued_message_survives_a_kill_and_is_delivered_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let out = bootstrap(dir.path(), "owner@example.com");
    assert!(out.status.success());
    let b: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (key, secret) = (
        b["apiKey"].as_str().unwrap(),
        b["apiSecret"].as_str().unwrap(),
    );

    // First life: the SMTP server it is told to use does not exist, so mail waits.
    let port = free_port();
    let nobody = free_port();
    let mut first = usher(dir.path())
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env(
            "USHER_MAIL_TRANSPORT",
            format!("smtp://127.0.0.1:{nobody}?tls=none"),
        )
        .env("USHER_OUTBOX_LEASE_SECS", "2")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    wait_ready(port);
    let invited: Vec<String> = (0..20).map(|i| format!("crash-{i}@example.com")).collect();
    for email in &invited {
        let (status, body) = signed(
            port,
            reqwest::Method::POST,
            "/users/v1/invitations",
            key,
            secret,
            Some(json!({"email": email, "role": "MEMBER"})),
        );
        assert_eq!(status, 200, "{body}");
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let mail = dir.path().join("mail");
    assert!(
        std::fs::read_dir(&mail).map_or(true, |d| d.count() == 0),
        "nothing was delivered before the kill"
    );

    // Second life, with the file transport: every message arrives (one file per message id).
    let port = free_port();
    let _second = Server(
        usher(dir.path())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_ready(port);
    // Messages whose attempt was cut short by the kill wait out their lease (2 s here).
    let mut recipients = Vec::new();
    for _ in 0..900 {
        recipients = delivered_recipients(&mail);
        if recipients.len() >= invited.len() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    recipients.sort();
    let mut expected = invited.clone();
    expected.sort();
    assert_eq!(recipients, expected);
}

/// The `To` address of every `.eml` in a folder.
fn delivered_recipients(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| {
            let raw = std::fs::read(e.path()).unwrap();
            let m = mailparse::parse_mail(&raw).unwrap();
            m.headers
                .iter()
                .find(|h| h.get_key().eq_ignore_ascii_case("To"))
                .map(|h| h.get_value())
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn the_invitation_pages_keep_tokens_passwords_and_cookies_out_of_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let out = bootstrap(dir.path(), "owner@example.com");
    let owner: Value = serde_json::from_slice(&out.stdout).unwrap();
    let (key, secret) = (
        owner["apiKey"].as_str().unwrap(),
        owner["apiSecret"].as_str().unwrap(),
    );
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut server = Server(
        usher(dir.path())
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log-format",
                "json",
            ])
            .env("USHER_LOG", "debug")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_ready(port);
    let (status, _) = signed(
        port,
        reqwest::Method::POST,
        "/users/v1/invitations",
        key,
        secret,
        Some(json!({"email": "new@example.com", "role": "MEMBER"})),
    );
    assert_eq!(status, 200);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mail_dir = dir.path().join("mail");
    let token = rt
        .block_on(crate::helpers::wait_for_tokens(
            &[mail_dir],
            "new@example.com",
            "/invitations/",
            1,
        ))
        .remove(0);
    let password = "a distinctive passphrase 7";
    let session = rt.block_on(async {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = client
            .get(format!("http://127.0.0.1:{port}/invitations/{token}"))
            .send()
            .await
            .unwrap();
        let cookie = page.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let html = page.text().await.unwrap();
        let at = html.find("name=\"csrf\" value=\"").unwrap() + 19;
        let csrf = html[at..].split('"').next().unwrap().to_owned();
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("csrf", csrf.as_str()),
                ("password", password),
                ("password_confirmation", password),
            ])
            .finish();
        let done = client
            .post(format!(
                "http://127.0.0.1:{port}/invitations/{token}/signup"
            ))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(done.status().as_u16(), 303);
        let session = done.headers()["set-cookie"].to_str().unwrap();
        session
            .split(';')
            .next()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned()
    });
    let _ = server.0.kill();
    let _ = server.0.wait();
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("/invitations/{token}"),
        "requests are logged by route: {logged}"
    );
    for secret in [token.as_str(), password, session.as_str()] {
        assert!(!logged.contains(secret), "a secret reached the log");
    }
}
