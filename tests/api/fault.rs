//! Faults: PostgreSQL restarted under load. usher answers errors while the database is away (no
//! hang, no crash), recovers without a restart, and loses nothing it acknowledged.
//!
//! The test runs its own PostgreSQL server (initdb in a temporary folder, a free port), so that
//! stopping it disturbs no other test.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{PgDatabase, free_port};
use crate::scale_out::Fleet;

/// A PostgreSQL server of this test's own; stopped and deleted when dropped.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// `None` (said loudly) where PostgreSQL's server programs are not installed, except in
    /// CI, where that fails the test.
    fn start(test: &str) -> Option<PrivatePostgres> {
        match Self::try_start() {
            Ok(pg) => Some(pg),
            Err(why) if std::env::var_os("CI").is_some() => {
                panic!("{test} cannot run in CI: {why}")
            }
            Err(why) => {
                let notice = format!(
                    "\nSKIPPED {test}: {why}. Install PostgreSQL's server programs to run it.\n"
                );
                let _ = std::io::Write::write_all(&mut std::io::stderr(), notice.as_bytes());
                None
            }
        }
    }

    fn try_start() -> Result<PrivatePostgres, String> {
        let bindir = Command::new("pg_config")
            .arg("--bindir")
            .output()
            .map_err(|e| format!("pg_config: {e}"))?;
        let bin = PathBuf::from(String::from_utf8_lossy(&bindir.stdout).trim());
        if !bin.join("initdb").exists() {
            return Err(format!("no initdb in {}", bin.display()));
        }
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("pg");
        std::fs::create_dir(&data).map_err(|e| e.to_string())?;
        let pg = PrivatePostgres {
            bin,
            data,
            port: free_port(),
            _dir: dir,
        };
        if is_root() {
            // PostgreSQL refuses to run as root: hand the folder to its own user.
            use std::os::unix::fs::PermissionsExt;
            let open = std::fs::Permissions::from_mode(0o755);
            std::fs::set_permissions(pg._dir.path(), open).map_err(|e| e.to_string())?;
            let chown = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&pg.data)
                .status()
                .map_err(|e| e.to_string())?;
            if !chown.success() {
                return Err("chown postgres failed".into());
            }
        }
        pg.run(
            "initdb",
            &["-A", "trust", "-U", "postgres", "--no-sync", "-D"],
        )?;
        pg.ctl("start")?;
        Ok(pg)
    }

    /// Runs one of PostgreSQL's programs (as the `postgres` user when we are root), with the
    /// data folder as its last argument.
    fn run(&self, program: &str, args: &[&str]) -> Result<(), String> {
        let exe = self.bin.join(program);
        let mut c = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        };
        let out = c
            .args(args)
            .arg(&self.data)
            .output()
            .map_err(|e| format!("{program}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{program} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    fn ctl(&self, action: &str) -> Result<(), String> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.display()
        );
        let log = self.data.join("server.log");
        let log = log.to_string_lossy();
        self.run(
            "pg_ctl",
            &[action, "-w", "-m", "fast", "-l", &log, "-o", &options, "-D"],
        )
    }

    fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.run("pg_ctl", &["stop", "-m", "immediate", "-D"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// One request of the load: the e-mail invited, the status (0: no HTTP answer) and how long
/// the answer took.
type Outcome = (String, u16, Duration);

#[tokio::test]
async fn a_postgresql_restart_under_load_gives_errors_not_hangs_and_loses_nothing_acknowledged() {
    let Some(pg) = PrivatePostgres::start("fault::postgres_restart") else {
        return;
    };
    let database = PgDatabase::create(&pg.admin_url()).await.unwrap();
    let env = [
        ("USHER_DATABASE_CONNECT_TIMEOUT_SECS", "2"),
        ("USHER_DATABASE_STATEMENT_TIMEOUT_MS", "5000"),
        // The load invites as fast as it can; on a fast day it outran the daily send limit and
        // the outage's 5xx answers were mixed with 429s.
        ("USHER_INVITATION_SENDS_PER_ORG_PER_DAY", "0"),
    ];
    let mut fleet = Fleet::start_on(database, 1, &env).await;
    let base = fleet.instances[0].base.clone();
    let key = fleet.owner_key();

    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let load: Vec<_> = (0..6)
        .map(|worker| {
            let (client, base, key) = (fleet.client.clone(), base.clone(), key.clone());
            let (stop, outcomes) = (stop.clone(), outcomes.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let email = format!("load-{worker}-{n}@example.com");
                    n += 1;
                    let started = Instant::now();
                    let request = client
                        .post(format!("{base}/users/v1/invitations"))
                        .header("Authorization", key.header().unwrap())
                        .json(&json!({"email": email, "role": "MEMBER"}))
                        .timeout(Duration::from_secs(20))
                        .send();
                    let status = match request.await {
                        Ok(r) => r.status().as_u16(),
                        Err(_) => 0,
                    };
                    outcomes
                        .lock()
                        .unwrap()
                        .push((email, status, started.elapsed()));
                    if status != 200 {
                        // Errors come fast during the outage; do not spin.
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();

    let readyz = |client: reqwest::Client, base: String| async move {
        client
            .get(format!("{base}/readyz"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before_outage = outcomes.lock().unwrap().len();
    pg.ctl("stop").unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        readyz(fleet.client.clone(), base.clone()).await,
        503,
        "not ready while the database is away"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.ctl("start").unwrap();
    let recovered = Instant::now();
    while readyz(fleet.client.clone(), base.clone()).await != 200 {
        assert!(
            recovered.elapsed() < Duration::from_secs(30),
            "ready again within 30 s of the database's return"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let at_recovery = outcomes.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    for task in load {
        task.await.unwrap();
    }

    let outcomes = outcomes.lock().unwrap().clone();
    assert!(
        fleet.instances[0].running(),
        "usher is still running:\n{}",
        fleet.instances[0].log()
    );
    assert!(
        outcomes.iter().all(|(_, status, _)| *status != 0),
        "every request got an HTTP answer"
    );
    let slowest = outcomes.iter().map(|o| o.2).max().unwrap();
    assert!(slowest < Duration::from_secs(15), "no hang: {slowest:?}");
    let failed = outcomes.iter().filter(|o| o.1 != 200).count();
    assert!(failed > 0, "the outage was felt");
    assert!(
        outcomes.iter().filter(|o| o.1 != 200).all(|o| o.1 >= 500),
        "the outage answers server errors, not {:?}",
        outcomes
            .iter()
            .filter(|o| o.1 != 200 && o.1 < 500)
            .map(|o| o.1)
            .collect::<Vec<_>>()
    );
    assert!(
        outcomes[..before_outage].iter().any(|o| o.1 == 200)
            && outcomes[at_recovery..].iter().any(|o| o.1 == 200),
        "successes before the outage and after recovery"
    );
    let stored: Vec<String> = sqlx::query_scalar("SELECT email FROM invitations")
        .fetch_all(&fleet.db)
        .await
        .unwrap();
    let stored: std::collections::HashSet<String> = stored.into_iter().collect();
    let acknowledged: Vec<&String> = outcomes
        .iter()
        .filter(|o| o.1 == 200)
        .map(|o| &o.0)
        .collect();
    let lost: Vec<&&String> = acknowledged
        .iter()
        .filter(|e| !stored.contains(e.as_str()))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged invitations lost: {lost:?}",
        lost.len(),
        acknowledged.len()
    );
    fleet.instances.truncate(0);
    fleet.stop().await;
    drop(pg);
}
