//! Load benchmark for usher: starts the release `usher` binary on a fresh data folder, drives it
//! over plain HTTP/1.1 keep-alive connections and prints throughput, latency and memory next to
//! the targets. One command: `cargo run --release --bin usher-bench` (see docs/benchmarks.md).
//!
//! Client and server run on the same machine, so the load generator competes with the server for
//! the CPU: the `/healthz` phase measures that ceiling, and every other phase is also given as a
//! fraction of it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::process::{Child, Command};
use tokio::task::JoinSet;
use usher::auth::hmac::{Algorithm, sign};

/// Load benchmark: starts `usher serve` on a temporary data folder and measures it.
#[derive(Debug, Parser)]
#[command(name = "usher-bench")]
struct Args {
    /// Duration of each measured phase, in seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent keep-alive connections (one task and one HTTP client each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// The usher binary to measure [default: `usher` next to this binary].
    #[arg(long)]
    usher: Option<PathBuf>,
    /// Invitations prepared for the sign-up phase [default: 60 per second of phase].
    #[arg(long)]
    signup_invitations: Option<usize>,
    /// Do not run `cargo build --bin usher` first (only happens when started by `cargo run`).
    #[arg(long)]
    no_build: bool,
    /// Keep the temporary data folder (database, server log) instead of deleting it.
    #[arg(long)]
    keep_data: bool,
    /// Messages in the outbox backlog of the drain phase (0: skip it; skipped on PostgreSQL).
    #[arg(long, default_value_t = 100_000)]
    drain: usize,
    /// Measure on PostgreSQL: a URL naming any database of the server, where the benchmark
    /// creates (and afterwards drops) databases of its own. Default: SQLite in the data folder.
    #[arg(long)]
    database_url: Option<String>,
    /// With `--database-url`: also run the list, create and cancel phases against this many
    /// `usher serve` instances on one database, connections spread evenly over them.
    #[arg(long, default_value_t = 1)]
    instances: usize,
}

/// Settings every `usher` child gets on PostgreSQL runs: the benchmark's database and one master
/// key (instances on one database must share it). Set once, before the first child starts.
static DEPLOYMENT_ENV: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();

/// Variables `cargo run` sets for the binary it runs (on top of the caller's environment).
const CARGO_RUN_VARS: &[&str] = &[
    "CARGO",
    "CARGO_MANIFEST_DIR",
    "CARGO_MANIFEST_PATH",
    "CARGO_MANIFEST_LINKS",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];
const CARGO_RUN_PREFIXES: &[&str] = &["CARGO_PKG_", "CARGO_BIN_EXE_"];

// Targets (see docs/benchmarks.md).
/// Throughput and latency goals, which differ by backend (the PostgreSQL server shares the two
/// cores with usher and the load generator).
struct Goals {
    list_rps: f64,
    list_p99_ms: f64,
    create_rps: f64,
    cancel_rps: f64,
    /// p99 of create and cancel, where there is a goal.
    write_p99_ms: Option<f64>,
    /// The invitee's page (issue: 5,000 req/s at 32 connections).
    page_rps: f64,
}

const SQLITE_GOALS: Goals = Goals {
    list_rps: 8_000.0,
    list_p99_ms: 20.0,
    create_rps: 2_000.0,
    cancel_rps: 2_000.0,
    write_p99_ms: None,
    page_rps: 5_000.0,
};

const POSTGRES_GOALS: Goals = Goals {
    list_rps: 5_000.0,
    list_p99_ms: 30.0,
    create_rps: 1_500.0,
    cancel_rps: 1_500.0,
    write_p99_ms: Some(30.0),
    page_rps: 5_000.0,
};

fn goals() -> &'static Goals {
    if DEPLOYMENT_ENV.get().is_some() {
        &POSTGRES_GOALS
    } else {
        &SQLITE_GOALS
    }
}

const IDLE_RSS_TARGET_KB: u64 = 30 * 1024;
const SIGNUP_LIST_P99_TARGET_MS: f64 = 50.0;

const SEED_INVITATIONS: usize = 20;
const SIGNUP_WAVE: usize = 20;
const SIGNUP_BODY: &str = r#"{"password":"correct horse battery staple","passwordConfirmation":"correct horse battery staple"}"#;
const JSON_CT: &str = "application/json";

/// Who the requests are sent as, and where.
struct Target {
    base: String,
    api_key: String,
    api_secret: String,
}

impl Target {
    /// A fresh `Authorization` header: the server refuses a signature it has already seen.
    fn auth(&self) -> String {
        let date = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .expect("the current UTC time formats as RFC 3339");
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        let salt = hex::encode(salt);
        let sig = sign(Algorithm::Sha256, self.api_secret.as_bytes(), &date, &salt);
        format!(
            "HMAC-SHA256 apiKey={}, date={date}, salt={salt}, signature={sig}",
            self.api_key
        )
    }
}

/// What a phase's connections send.
#[derive(Clone)]
/// URLs are given per server: connection `i` uses the `i % len`-th (several instances share the
/// connections evenly).
enum Work {
    /// An unauthenticated GET (health, the invitee's page).
    Get {
        url: Arc<[String]>,
    },
    List {
        url: Arc<[String]>,
    },
    Create {
        url: Arc<[String]>,
        prefix: &'static str,
    },
    Cancel {
        base: Arc<[String]>,
        ids: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
    },
    /// A Digest-authenticated Atlas GET of `uri` (path and query) in `version`.
    AtlasGet {
        base: Arc<[String]>,
        uri: Arc<str>,
        version: &'static str,
    },
    /// Atlas legacy invitations, created (`POST …/invites`) and deleted.
    AtlasCreate {
        base: Arc<[String]>,
        org: Arc<str>,
        prefix: &'static str,
    },
    AtlasDelete {
        base: Arc<[String]>,
        org: Arc<str>,
        ids: Arc<Vec<String>>,
        next: Arc<AtomicUsize>,
    },
}

/// A connection's Digest state: the server's nonce and the count of requests sent under it
/// (RFC 7616 `nc`), as requests and httpx keep it, so one challenge serves many requests.
struct DigestSession {
    nonce: String,
    nc: u32,
}

impl DigestSession {
    /// Asks `url` without credentials and keeps the nonce of the challenge.
    async fn start(client: &reqwest::Client, url: &str) -> anyhow::Result<DigestSession> {
        let r = client.get(url).send().await?;
        let challenge = r
            .headers()
            .get("www-authenticate")
            .and_then(|v| v.to_str().ok())
            .context("no Digest challenge")?;
        let nonce = challenge
            .split(", ")
            .find_map(|p| p.strip_prefix("nonce=\""))
            .and_then(|n| n.strip_suffix('"'))
            .context("no nonce in the challenge")?
            .to_owned();
        let _ = r.bytes().await;
        Ok(DigestSession { nonce, nc: 0 })
    }

    fn header(&mut self, target: &Target, method: &str, uri: &str) -> String {
        use usher::auth::digest;
        self.nc += 1;
        let nc = format!("{:08x}", self.nc);
        let mut c = [0u8; 8];
        rand::fill(&mut c);
        let cnonce = hex::encode(c);
        let alg = digest::Algorithm::Md5;
        let r = digest::response(
            alg,
            &target.api_key,
            &target.api_secret,
            method,
            uri,
            &self.nonce,
            &nc,
            &cnonce,
        );
        format!(
            r#"Digest username="{}", realm="{}", nonce="{}", uri="{uri}", response="{r}", algorithm="MD5", qop=auth, nc={nc}, cnonce="{cnonce}""#,
            target.api_key,
            digest::REALM,
            self.nonce
        )
    }
}

fn atlas_accept(version: &str) -> String {
    format!("application/vnd.atlas.{version}+json")
}

/// `path` on each of `bases`.
fn on_each(bases: &[String], path: &str) -> Arc<[String]> {
    bases.iter().map(|b| format!("{b}{path}")).collect()
}

/// What one connection saw.
#[derive(Default)]
struct Tally {
    ok: u64,
    /// Latency of every 2xx answer, in microseconds.
    ok_us: Vec<u32>,
    /// Latency of every non-2xx answer and transport failure, in microseconds.
    err_us: Vec<u32>,
    /// Error count per status code (or "transport").
    errors: BTreeMap<String, u64>,
    /// The first response body seen for each error kind.
    samples: BTreeMap<String, String>,
    /// `invitationId`s of created invitations.
    ids: Vec<String>,
    /// 2xx answers whose body did not have the expected shape.
    bad_bodies: u64,
}

impl Tally {
    fn record_ok(&mut self, us: u32) {
        self.ok += 1;
        self.ok_us.push(us);
    }

    fn record_err(&mut self, kind: String, us: u32, body: &[u8]) {
        self.err_us.push(us);
        *self.errors.entry(kind.clone()).or_default() += 1;
        self.samples.entry(kind).or_insert_with(|| {
            let s = String::from_utf8_lossy(body);
            s.chars().take(300).collect()
        });
    }

    fn merge(&mut self, o: Tally) {
        self.ok += o.ok;
        self.ok_us.extend(o.ok_us);
        self.err_us.extend(o.err_us);
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in o.samples {
            self.samples.entry(k).or_insert(v);
        }
        self.ids.extend(o.ids);
        self.bad_bodies += o.bad_bodies;
    }

    fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }
}

struct PhaseResult {
    name: String,
    connections: usize,
    elapsed: Duration,
    tally: Tally,
    note: Option<String>,
    /// Whether its throughput is meaningfully compared with the ceiling (not for sign-up waves).
    vs_ceiling: bool,
    /// CPU used during the phase, in cores (CPU seconds per wall second).
    cpu: Option<CpuUse>,
    /// The server's RSS right after the phase, in kB.
    rss_after_kb: Option<u64>,
    /// The size of one response body, where the phase has a goal on it.
    bytes: Option<usize>,
}

#[derive(Clone, Copy)]
struct CpuUse {
    server: f64,
    bench: f64,
    /// Everything else on the machine (other users' builds, ...).
    other: f64,
}

/// CPU counters at one instant: ticks of the server, of this process, and of the whole machine.
#[derive(Clone, Copy)]
struct CpuSnap {
    at: Instant,
    server_ticks: u64,
    self_ticks: u64,
    machine_busy_ticks: u64,
}

/// utime + stime of a process, from /proc/PID/stat, in clock ticks.
fn proc_ticks(pid: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; the fields after it start after the last ')'.
    let rest = &s[s.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): utime is field 14, stime field 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// Busy ticks of all CPUs together (everything but idle and iowait), from /proc/stat.
fn machine_busy_ticks() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    let line = s.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice: already in user/nice]
    let total: u64 = v.iter().take(8).sum();
    Some(total - v.get(3)? - v.get(4)?)
}

fn cpu_snap(pid: u32) -> Option<CpuSnap> {
    Some(CpuSnap {
        at: Instant::now(),
        server_ticks: proc_ticks(&pid.to_string())?,
        self_ticks: proc_ticks("self")?,
        machine_busy_ticks: machine_busy_ticks()?,
    })
}

/// Clock ticks per second (USER_HZ); 100 on every common Linux build.
const TICKS_PER_SEC: f64 = 100.0;

fn cpu_use(before: Option<CpuSnap>, pid: u32) -> Option<CpuUse> {
    let (b, a) = (before?, cpu_snap(pid)?);
    let secs = a.at.duration_since(b.at).as_secs_f64().max(1e-9) * TICKS_PER_SEC;
    let server = (a.server_ticks - b.server_ticks) as f64 / secs;
    let bench = (a.self_ticks - b.self_ticks) as f64 / secs;
    let machine = (a.machine_busy_ticks - b.machine_busy_ticks) as f64 / secs;
    Some(CpuUse {
        server,
        bench,
        other: (machine - server - bench).max(0.0),
    })
}

impl PhaseResult {
    fn rps(&self) -> f64 {
        self.tally.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Percentile (0..=100) of the 2xx latencies in milliseconds; None without any 2xx.
    fn pct_ms(&self, p: f64) -> Option<f64> {
        percentile_ms(&self.tally.ok_us, p)
    }

    fn max_ms(&self) -> Option<f64> {
        self.tally.ok_us.last().map(|&us| us as f64 / 1000.0)
    }

    fn to_json(&self, ceiling_rps: f64) -> Value {
        json!({
            "phase": self.name,
            "connections": self.connections,
            "seconds": self.elapsed.as_secs_f64(),
            "ok": self.tally.ok,
            "requestsPerSecond": self.rps(),
            "p50Ms": self.pct_ms(50.0),
            "p99Ms": self.pct_ms(99.0),
            "maxMs": self.max_ms(),
            "errors": self.tally.error_count(),
            "errorsByStatus": self.tally.errors,
            "errorSamples": self.tally.samples,
            "unexpectedBodies": self.tally.bad_bodies,
            "ratioOfCeiling": if self.vs_ceiling && ceiling_rps > 0.0 { Some(self.rps() / ceiling_rps) } else { None },
            "note": self.note,
            "cpuCores": self.cpu.map(|c| json!({"server": c.server, "bench": c.bench, "other": c.other})),
            "serverRssAfterKb": self.rss_after_kb,
        })
    }
}

fn percentile_ms(sorted_us: &[u32], p: f64) -> Option<f64> {
    if sorted_us.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted_us.len()) - 1;
    Some(sorted_us[i] as f64 / 1000.0)
}

fn elapsed_us(t0: Instant) -> u32 {
    u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX)
}

fn client(max_idle: usize) -> anyhow::Result<reqwest::Client> {
    usher::install_tls_provider();
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(max_idle)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30))
        .build()?)
}

/// One connection's loop: sends until the deadline (or, for cancel, until the ids run out).
async fn worker(
    conn: usize,
    work: Work,
    target: Arc<Target>,
    deadline: Option<Instant>,
) -> anyhow::Result<Tally> {
    let client = client(1)?;
    let mut t = Tally::default();
    let mut n: u64 = 0;
    let mut digest = match &work {
        Work::AtlasGet { base, uri, .. } => {
            Some(DigestSession::start(&client, &format!("{}{uri}", base[conn % base.len()])).await?)
        }
        Work::AtlasCreate { base, org, .. } | Work::AtlasDelete { base, org, .. } => {
            let url = format!(
                "{}/api/atlas/v2/orgs/{org}/invites",
                base[conn % base.len()]
            );
            Some(DigestSession::start(&client, &url).await?)
        }
        _ => None,
    };
    loop {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let req = match &work {
            Work::Get { url } => client.get(&url[conn % url.len()]),
            Work::List { url } => client
                .get(&url[conn % url.len()])
                .header("authorization", target.auth()),
            Work::Create { url, prefix } => client
                .post(&url[conn % url.len()])
                .header("authorization", target.auth())
                .header("content-type", JSON_CT)
                .body(format!(
                    r#"{{"email":"{prefix}-{conn}-{n}@example.com","role":"MEMBER"}}"#
                )),
            Work::Cancel { base, ids, next } => {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                let base = &base[conn % base.len()];
                client
                    .delete(format!("{base}/users/v1/invitations/{id}"))
                    .header("authorization", target.auth())
            }
            Work::AtlasGet { base, uri, version } => {
                let d = digest.as_mut().expect("started");
                client
                    .get(format!("{}{uri}", base[conn % base.len()]))
                    .header("accept", atlas_accept(version))
                    .header("authorization", d.header(&target, "GET", uri))
            }
            Work::AtlasCreate { base, org, prefix } => {
                let d = digest.as_mut().expect("started");
                let uri = format!("/api/atlas/v2/orgs/{org}/invites");
                client
                    .post(format!("{}{uri}", base[conn % base.len()]))
                    .header("accept", atlas_accept("2023-01-01"))
                    .header("content-type", JSON_CT)
                    .header("authorization", d.header(&target, "POST", &uri))
                    .body(format!(
                        r#"{{"username":"{prefix}-{conn}-{n}@example.com","roles":["ORG_MEMBER"]}}"#
                    ))
            }
            Work::AtlasDelete {
                base,
                org,
                ids,
                next,
            } => {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(id) = ids.get(i) else { break };
                let d = digest.as_mut().expect("started");
                let uri = format!("/api/atlas/v2/orgs/{org}/invites/{id}");
                client
                    .delete(format!("{}{uri}", base[conn % base.len()]))
                    .header("accept", atlas_accept("2023-01-01"))
                    .header("authorization", d.header(&target, "DELETE", &uri))
            }
        };
        n += 1;
        let t0 = Instant::now();
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                t.record_err("transport".into(), elapsed_us(t0), e.to_string().as_bytes());
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            }
        };
        let status = resp.status();
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                t.record_err("transport".into(), elapsed_us(t0), e.to_string().as_bytes());
                continue;
            }
        };
        let us = elapsed_us(t0);
        if !status.is_success() {
            t.record_err(status.as_u16().to_string(), us, &body);
            continue;
        }
        t.record_ok(us);
        let id_field = match work {
            Work::Create { .. } => Some("invitationId"),
            Work::AtlasCreate { .. } => Some("id"),
            _ => None,
        };
        if let Some(field) = id_field {
            match serde_json::from_slice::<Value>(&body)
                .ok()
                .and_then(|v| v.get(field)?.as_str().map(str::to_owned))
            {
                Some(id) => t.ids.push(id),
                None => t.bad_bodies += 1,
            }
        }
    }
    Ok(t)
}

async fn run_phase(
    name: &str,
    connections: usize,
    work: Work,
    target: &Arc<Target>,
    duration: Option<Duration>,
) -> anyhow::Result<PhaseResult> {
    let start = Instant::now();
    let deadline = duration.map(|d| start + d);
    let mut set = JoinSet::new();
    for conn in 0..connections {
        set.spawn(worker(conn, work.clone(), target.clone(), deadline));
    }
    let mut tally = Tally::default();
    while let Some(r) = set.join_next().await {
        tally.merge(r??);
    }
    let elapsed = start.elapsed();
    tally.ok_us.sort_unstable();
    tally.err_us.sort_unstable();
    Ok(PhaseResult {
        name: name.into(),
        connections,
        elapsed,
        tally,
        note: None,
        vs_ceiling: true,
        cpu: None,
        rss_after_kb: None,
        bytes: None,
    })
}

/// Sign-ups through invitations in waves of [`SIGNUP_WAVE`] concurrent requests until the
/// deadline (a wave in flight is finished) or until the invitations run out.
async fn signup_waves(
    base: Arc<str>,
    ids: Vec<String>,
    deadline: Instant,
) -> anyhow::Result<(PhaseResult, usize, bool)> {
    let client = client(SIGNUP_WAVE)?;
    let start = Instant::now();
    let mut tally = Tally::default();
    let mut waves = 0;
    let mut ran_out = false;
    let mut it = ids.into_iter();
    while Instant::now() < deadline {
        let wave: Vec<String> = it.by_ref().take(SIGNUP_WAVE).collect();
        if wave.len() < SIGNUP_WAVE {
            ran_out = true;
            if wave.is_empty() {
                break;
            }
        }
        let mut set = JoinSet::new();
        for id in wave {
            let c = client.clone();
            let url = format!("{base}/users/v1/signup/invitations/{id}");
            set.spawn(async move {
                let t0 = Instant::now();
                let r = c
                    .post(url)
                    .header("content-type", JSON_CT)
                    .body(SIGNUP_BODY)
                    .send()
                    .await;
                let r = match r {
                    Ok(resp) => {
                        let status = resp.status();
                        resp.bytes().await.map(|b| (status, b))
                    }
                    Err(e) => Err(e),
                };
                (r, elapsed_us(t0))
            });
        }
        while let Some(j) = set.join_next().await {
            let (r, us) = j?;
            match r {
                Ok((s, _)) if s.is_success() => tally.record_ok(us),
                Ok((s, b)) => tally.record_err(s.as_u16().to_string(), us, &b),
                Err(e) => tally.record_err("transport".into(), us, e.to_string().as_bytes()),
            }
        }
        waves += 1;
    }
    let elapsed = start.elapsed();
    tally.ok_us.sort_unstable();
    tally.err_us.sort_unstable();
    Ok((
        PhaseResult {
            name: "sign-up via invitation".into(),
            connections: SIGNUP_WAVE,
            elapsed,
            tally,
            note: None,
            vs_ceiling: false,
            cpu: None,
            rss_after_kb: None,
            bytes: None,
        },
        waves,
        ran_out,
    ))
}

/// `VmRSS`, `VmHWM`, ... of a process, in kB.
fn proc_status_kb(pid: u32, field: &str) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    for line in s.lines() {
        if let Some(rest) = line.strip_prefix(field).and_then(|r| r.strip_prefix(':')) {
            let num = rest.trim().trim_end_matches("kB").trim();
            return Ok(num.parse()?);
        }
    }
    bail!("no {field} in /proc/{pid}/status")
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

/// Environment for the usher child processes: none of the caller's `USHER_*` settings (they could
/// point it at another database), plus the benchmark's own.
fn usher_command(bin: &Path) -> Command {
    let mut c = Command::new(bin);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("USHER_") {
            c.env_remove(&k);
        }
    }
    // The benchmark invites tens of thousands of addresses into one organization: no daily limit.
    c.env("USHER_AUTH_RATE_PER_MINUTE", "1000000")
        .env("USHER_INVITATION_SENDS_PER_ORG_PER_DAY", "0")
        .env("USHER_LOG_LEVEL", "warn")
        .envs(
            DEPLOYMENT_ENV
                .get()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k, v)),
        )
        .stdin(Stdio::null())
        .kill_on_drop(true);
    c
}

struct Bootstrapped {
    organization_id: String,
    api_key: String,
    api_secret: String,
}

async fn bootstrap(bin: &Path, dir: &Path, email: &str) -> anyhow::Result<Bootstrapped> {
    let out = usher_command(bin)
        .args([
            "admin",
            "bootstrap",
            "--email",
            email,
            "--json",
            "--data-dir",
        ])
        .arg(dir)
        .output()
        .await
        .context("running usher admin bootstrap")?;
    if !out.status.success() {
        bail!(
            "usher admin bootstrap failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let v: Value = serde_json::from_slice(&out.stdout).with_context(|| {
        format!(
            "usher admin bootstrap did not print JSON: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    let field = |k: &str| -> anyhow::Result<String> {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .with_context(|| format!("bootstrap JSON has no string {k}: {v}"))
    };
    Ok(Bootstrapped {
        organization_id: field("organizationId")?,
        api_key: field("apiKey")?,
        api_secret: field("apiSecret")?,
    })
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

async fn wait_healthy(child: &mut Child, base: &str, log: &Path) -> anyhow::Result<()> {
    let c = client(1)?;
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            bail!(
                "usher serve exited ({status}) before answering /healthz; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(r) = c.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            bail!("usher serve did not answer /healthz with 200 within 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates `n` invitations with `target`'s key (32 at a time), returning their ids.
async fn create_invitations(
    target: &Arc<Target>,
    prefix: &'static str,
    n: usize,
) -> anyhow::Result<Vec<String>> {
    let c = client(32)?;
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for _ in 0..32.min(n) {
        let (c, target, next) = (c.clone(), target.clone(), next.clone());
        set.spawn(async move {
            let mut ids = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let r = c
                    .post(format!("{}/users/v1/invitations", target.base))
                    .header("authorization", target.auth())
                    .header("content-type", JSON_CT)
                    .body(format!(
                        r#"{{"email":"{prefix}{i}@example.com","role":"MEMBER"}}"#
                    ))
                    .send()
                    .await?;
                let status = r.status();
                let body = r.bytes().await?;
                if !status.is_success() {
                    bail!(
                        "creating invitation {prefix}{i}: {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                let v: Value = serde_json::from_slice(&body)?;
                let id = v
                    .get("invitationId")
                    .and_then(Value::as_str)
                    .with_context(|| format!("no invitationId in {v}"))?;
                ids.push(id.to_owned());
            }
            anyhow::Ok(ids)
        });
    }
    let mut ids = Vec::with_capacity(n);
    while let Some(r) = set.join_next().await {
        ids.extend(r??);
    }
    Ok(ids)
}

/// Number of invitations the list endpoint returns right now (one signed request).
async fn list_len(target: &Target, url: &str) -> anyhow::Result<usize> {
    let r = client(1)?
        .get(url)
        .header("authorization", target.auth())
        .send()
        .await?;
    let status = r.status();
    let body = r.bytes().await?;
    if !status.is_success() {
        bail!(
            "listing invitations: {status}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    let v: Value = serde_json::from_slice(&body)?;
    v.as_array()
        .map(Vec::len)
        .with_context(|| format!("the invitation list is not a JSON array: {v}"))
}

/// The token of an invitation link in an `.eml` file (plain or quoted-printable text: a soft
/// line break may split the link, and a token never contains `=`).
fn invitation_token_in(eml: &str) -> Option<String> {
    let text = eml.replace("=\r\n", "").replace("=\n", "");
    let at = text.find("/invitations/")? + "/invitations/".len();
    let token: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (token.len() == 43).then_some(token)
}

/// A seeded invitation's token, from its e-mail in the data folder (waits for delivery).
async fn seeded_token(mail_dir: &Path) -> anyhow::Result<String> {
    for _ in 0..400 {
        if let Ok(entries) = std::fs::read_dir(mail_dir) {
            for e in entries.flatten() {
                let eml = std::fs::read_to_string(e.path()).unwrap_or_default();
                if let Some(t) = invitation_token_in(&eml) {
                    return Ok(t);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    bail!(
        "no invitation e-mail with a link arrived in {}",
        mail_dir.display()
    )
}

fn fmt_opt(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.prec$}"))
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

struct Memory {
    idle_start_kb: u64,
    idle_seeded_kb: u64,
    end_rss_kb: u64,
    peak_kb: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.seconds > 0, "--seconds must be at least 1");
    anyhow::ensure!(args.connections > 0, "--connections must be at least 1");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let bin = match &args.usher {
        Some(p) => p.clone(),
        None => {
            let exe = std::env::current_exe()?;
            let bin = exe.with_file_name("usher");
            // `cargo run --bin usher-bench` builds only this binary, so the server could be stale
            // (or missing): when cargo started us, have it bring `usher` up to date first.
            if let Some(cargo) = std::env::var_os("CARGO").filter(|_| !args.no_build) {
                let release = exe
                    .parent()
                    .and_then(Path::file_name)
                    .is_some_and(|d| d == "release");
                eprintln!(
                    "building usher ({}) ...",
                    if release { "release" } else { "debug" }
                );
                let mut c = std::process::Command::new(cargo);
                // Not the variables `cargo run` set for this binary: build scripts (ring's, for
                // one) track some of them, and a different value would make this build and the
                // next `cargo run` rebuild each other's dependencies every time.
                for (k, _) in std::env::vars_os() {
                    let k = k.to_string_lossy();
                    if CARGO_RUN_VARS.contains(&&*k)
                        || CARGO_RUN_PREFIXES.iter().any(|p| k.starts_with(p))
                    {
                        c.env_remove(&*k);
                    }
                }
                c.args(["build", "--bin", "usher", "--manifest-path"])
                    .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
                if release {
                    c.arg("--release");
                } else {
                    eprintln!("warning: not a release build; numbers will not be representative");
                }
                let status = c.status().context("running cargo build")?;
                if !status.success() {
                    bail!("cargo build --bin usher failed ({status})");
                }
            }
            bin
        }
    };
    if !bin.is_file() {
        bail!(
            "{} not found: build it first with `cargo build --release`",
            bin.display()
        );
    }
    let dir = std::env::temp_dir().join(format!(
        "usher-bench-{}-{}",
        std::process::id(),
        OffsetDateTime::now_utc().unix_timestamp()
    ));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let guard = DataDir {
        path: dir,
        keep: args.keep_data,
    };
    let database = match &args.database_url {
        Some(admin) => Some(BenchDatabase::create(admin).await?),
        None if args.instances > 1 => bail!("--instances needs --database-url (PostgreSQL)"),
        None => None,
    };
    if let Some(db) = &database {
        let key =
            usher::core::crypto::encode_master_key(&usher::core::crypto::generate_master_key());
        DEPLOYMENT_ENV
            .set(vec![
                ("USHER_DATABASE_URL".into(), db.url.clone()),
                ("USHER_MASTER_KEY".into(), key),
            ])
            .expect("set once");
        println!(
            "backend: PostgreSQL, database {} (created for this run)",
            db.name
        );
    }
    let outcome = async {
        let single = bench(&args, &bin, &guard.path).await?;
        if args.instances > 1 {
            scale_out(&args, &bin, &guard.path, &single).await?;
        }
        anyhow::Ok(())
    }
    .await;
    if let Some(db) = database {
        db.drop(args.keep_data).await;
    }
    outcome?;
    if args.drain == 0 || args.database_url.is_some() {
        return Ok(());
    }
    let drain_dir = DataDir {
        path: guard.path.with_extension("drain"),
        keep: args.keep_data,
    };
    std::fs::create_dir_all(&drain_dir.path)?;
    let result = drain(&bin, &drain_dir.path, args.drain).await?;
    println!("\noutbox drain (file transport):");
    println!(
        "  {} messages queued in {:.1} s while no server ran; one `usher serve` sent them all in {:.2} s",
        result.messages, result.queue_secs, result.drain_secs
    );
    let rate = result.messages as f64 / result.drain_secs;
    println!(
        "  drain >= {DRAIN_TARGET:.0} msg/s {:>20.0} msg/s   {}",
        rate,
        verdict(rate >= DRAIN_TARGET)
    );
    if let Some(path) = &args.json {
        let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path)?)?;
        v["drain"] = json!({
            "messages": result.messages,
            "seconds": result.drain_secs,
            "messagesPerSecond": rate,
            "target": DRAIN_TARGET,
            "met": rate >= DRAIN_TARGET,
        });
        std::fs::write(path, serde_json::to_string_pretty(&v)? + "\n")?;
    }
    Ok(())
}

const DRAIN_TARGET: f64 = 1_000.0;

/// A PostgreSQL database made for one benchmark run.
struct BenchDatabase {
    admin: String,
    name: String,
    url: String,
}

impl BenchDatabase {
    async fn create(admin: &str) -> anyhow::Result<BenchDatabase> {
        use sqlx::Connection;
        let name = format!(
            "usher_bench_{}_{}",
            OffsetDateTime::now_utc().unix_timestamp(),
            std::process::id()
        );
        let mut conn = sqlx::PgConnection::connect(admin).await.with_context(|| {
            format!("connecting to {}", usher::config::mask_url_password(admin))
        })?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        // Another database on the same server, with the same options (`?sslmode=…`).
        let (server, rest) = admin
            .rsplit_once('/')
            .context("--database-url must name a database")?;
        let options = rest.find('?').map_or("", |i| &rest[i..]);
        Ok(BenchDatabase {
            admin: admin.into(),
            url: format!("{server}/{name}{options}"),
            name,
        })
    }

    async fn drop(self, keep: bool) {
        use sqlx::Connection;
        if keep {
            eprintln!("kept database {}", self.name);
            return;
        }
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
            let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut conn)
                .await;
        }
    }
}

/// The list, create and cancel phases again against `args.instances` servers on the one
/// database (a new organization, seeded like the first), connections spread evenly; printed
/// next to the single-instance phases of the same run.
async fn scale_out(
    args: &Args,
    bin: &Path,
    dir: &Path,
    single: &[PhaseResult],
) -> anyhow::Result<()> {
    let n = args.instances;
    let owner = bootstrap(bin, dir, "bench-scale@example.com").await?;
    let mut children = Vec::new();
    let mut bases = Vec::new();
    for i in 0..n {
        let d = dir.join(format!("instance-{i}"));
        std::fs::create_dir_all(&d)?;
        let (mut child, base, log) = serve(bin, &d, &[])?;
        wait_healthy(&mut child, &base, &log).await?;
        children.push(child);
        bases.push(base);
    }
    let target = Arc::new(Target {
        base: bases[0].clone(),
        api_key: owner.api_key.clone(),
        api_secret: owner.api_secret.clone(),
    });
    create_invitations(&target, "seed", SEED_INVITATIONS).await?;
    let list_path = format!("/users/v1/accounts/{}/invitations", owner.organization_id);
    let secs = Some(Duration::from_secs(args.seconds));
    eprintln!("[{n}x b] GET invitations list on {n} instances ...");
    let list = run_phase(
        "b. GET account invitations",
        args.connections,
        Work::List {
            url: on_each(&bases, &list_path),
        },
        &target,
        secs,
    )
    .await?;
    eprintln!("[{n}x c] POST invitations on {n} instances ...");
    let mut create = create_phase(
        "c. POST invitation (create)",
        "scale",
        &bases,
        &target,
        args,
    )
    .await?;
    let ids = Arc::new(std::mem::take(&mut create.tally.ids));
    eprintln!("[{n}x d] DELETE invitations on {n} instances ...");
    let cancel = run_phase(
        "d. DELETE invitation (cancel)",
        args.connections,
        Work::Cancel {
            base: bases.clone().into(),
            ids,
            next: Arc::new(AtomicUsize::new(0)),
        },
        &target,
        secs,
    )
    .await?;
    for mut c in children {
        let _ = c.start_kill();
        let _ = c.wait().await;
    }
    println!(
        "
scale-out: {n} instances on one database vs 1 (same run, same connections)"
    );
    println!(
        "{:<32} {:>10} {:>10} {:>7} {:>10} {:>7}",
        "phase", "1: req/s", "n: req/s", "ratio", "n: p99 ms", "errors"
    );
    for p in [&list, &create, &cancel] {
        let one = single
            .iter()
            .find(|s| s.name == p.name)
            .map_or(0.0, PhaseResult::rps);
        let ratio = if one > 0.0 { p.rps() / one } else { 0.0 };
        println!(
            "{:<32} {:>10.0} {:>10.0} {:>7.2} {:>10} {:>7}",
            p.name,
            one,
            p.rps(),
            ratio,
            fmt_opt(p.pct_ms(99.0), 2),
            p.tally.error_count()
        );
    }
    println!("goal: every ratio >= 1.00 (total throughput no lower than with one instance)");
    Ok(())
}

struct Receiver {
    url: String,
    hits: Arc<AtomicUsize>,
}

/// A webhook receiver on a free port: counts the POSTs it gets and answers 204.
async fn webhook_receiver() -> anyhow::Result<Receiver> {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { axum::http::StatusCode::NO_CONTENT }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(Receiver { url, hits })
}

struct Drained {
    messages: usize,
    queue_secs: f64,
    drain_secs: f64,
}

/// Queues `n` invitation e-mails through the library while no server runs (1,000 per
/// transaction, as many requests would have), then starts `usher serve` and times until the
/// outbox has sent them all to the file transport.
async fn drain(bin: &Path, dir: &Path, n: usize) -> anyhow::Result<Drained> {
    let owner = bootstrap(bin, dir, "drain@example.com").await?;
    eprintln!("[drain] queueing {n} e-mails ...");
    let t0 = Instant::now();
    let config = usher::config::Config {
        data_dir: dir.to_path_buf(),
        log_level: "warn".into(),
        ..Default::default()
    };
    let core = usher::app::open_core(&config).await?;
    let mut queued = 0;
    while queued < n {
        let mut tx = core.db.begin().await?;
        for i in queued..(queued + 1_000).min(n) {
            let mail = usher::core::mail::Mail::Invitation {
                org_name: "Drain",
                org_language: None,
                inviter_name: Some("Bench"),
                role: "MEMBER",
                expires_at: "2030-01-01T00:00:00.000Z",
                token: "tttttttttttttttttttttttttttttttttttttttttt0",
            };
            let sealed = core
                .seal_mail(
                    &format!("drain-{i}@example.com"),
                    Some(&owner.organization_id),
                    mail,
                )
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            core.queue(&mut tx, &[sealed])
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        tx.commit().await?;
        queued = (queued + 1_000).min(n);
    }
    core.db.close().await;
    let queue_secs = t0.elapsed().as_secs_f64();

    let (mut child, base, log_path) = serve(bin, dir, &[])?;
    eprintln!("[drain] draining ...");
    let t0 = Instant::now();
    let outcome = async {
        wait_healthy(&mut child, &base, &log_path).await?;
        let db = usher::store::Db::connect(&config.db_options(config.database_url())).await?;
        loop {
            let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state = 'SENT'")
                .fetch_one(db.read())
                .await?;
            if sent as usize >= n {
                break;
            }
            if t0.elapsed() > Duration::from_secs(600) {
                bail!("only {sent} of {n} messages sent after 600 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        db.close().await;
        anyhow::Ok(t0.elapsed().as_secs_f64())
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    Ok(Drained {
        messages: n,
        queue_secs,
        drain_secs: outcome?,
    })
}

/// The temporary data folder, removed when dropped (also when a panic unwinds, e.g. on a closed
/// stdout) unless `--keep-data`.
struct DataDir {
    path: PathBuf,
    keep: bool,
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("data folder kept: {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

async fn bench(args: &Args, bin: &Path, dir: &Path) -> anyhow::Result<Vec<PhaseResult>> {
    // Creating with and without delivery, each on a server of its own that starts from the same
    // state (one owner, an empty outbox), one after the other: the outbox's cost and nothing else.
    let mut own = Vec::new();
    for delivery in [false, true] {
        let own_dir = dir.join(if delivery { "delivery" } else { "no-delivery" });
        std::fs::create_dir_all(&own_dir)?;
        own.push(create_on_own_server(args, bin, &own_dir, delivery).await?);
    }
    let owner = bootstrap(bin, dir, "bench@example.com").await?;
    // A second organization owns the invitations consumed by the sign-up phase, so that the
    // measured list (the first organization's) keeps the same 20 entries in every list phase.
    let other = bootstrap(bin, dir, "bench-signups@example.com").await?;

    let (mut child, base, log_path) = serve(bin, dir, &[])?;
    let pid = child.id().context("usher serve has no pid")?;

    let servers = Servers {
        child: &mut child,
        pid,
        base: &base,
        log_path: &log_path,
    };
    let outcome = measure(args, servers, &owner, &other, own).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let log_text = std::fs::read_to_string(&log_path).unwrap_or_default();
    let lines: Vec<&str> = log_text.lines().collect();
    if !lines.is_empty() {
        println!(
            "\nserver log (level warn): {} line(s); first {}:",
            lines.len(),
            lines.len().min(10)
        );
        for l in lines.iter().take(10) {
            println!("  {l}");
        }
    } else {
        println!("\nserver log (level warn): empty");
    }
    outcome
}

/// Starts `usher serve` on `dir` and a free port, its output in `dir/usher-serve.log`; returns
/// the process, its base URL and the log's path.
fn serve(bin: &Path, dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<(Child, String, PathBuf)> {
    let port = free_port()?;
    let log_path = dir.join("usher-serve.log");
    let log = std::fs::File::create(&log_path)?;
    let child = usher_command(bin)
        .envs(env.iter().copied())
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("starting usher serve")?;
    Ok((child, format!("http://127.0.0.1:{port}"), log_path))
}

/// The measured server.
struct Servers<'a> {
    child: &'a mut Child,
    pid: u32,
    base: &'a str,
    log_path: &'a Path,
}

/// Phase c0 or f: invitations on a server of its own. c0: its outbox worker is off
/// (`USHER_OUTBOX_WORKER=false`), what creating costs when nothing is delivered. f: its worker
/// delivers every invitation's e-mail to the file transport and, through a webhook endpoint
/// registered first, a signed POST to a receiver in this process (which answers 204).
async fn create_on_own_server(
    args: &Args,
    bin: &Path,
    dir: &Path,
    delivery: bool,
) -> anyhow::Result<PhaseResult> {
    let email = if delivery {
        "bench-delivery@example.com"
    } else {
        "bench-baseline@example.com"
    };
    let owner = bootstrap(bin, dir, email).await?;
    let env: &[(&str, &str)] = if delivery {
        &[]
    } else {
        &[("USHER_OUTBOX_WORKER", "false")]
    };
    let (mut child, base, log_path) = serve(bin, dir, env)?;
    let pid = child.id().context("usher serve has no pid")?;
    let outcome = async {
        wait_healthy(&mut child, &base, &log_path).await?;
        let target = Arc::new(Target {
            base: base.clone(),
            api_key: owner.api_key.clone(),
            api_secret: owner.api_secret.clone(),
        });
        let receiver = if delivery {
            let receiver = webhook_receiver().await?;
            let r = client(1)?
                .post(format!(
                    "{base}/usher/v1/accounts/{}/webhooks",
                    owner.organization_id
                ))
                .header("authorization", target.auth())
                .header("content-type", JSON_CT)
                .body(format!(
                    r#"{{"url":"{}","events":["invitation.created"]}}"#,
                    receiver.url
                ))
                .send()
                .await?;
            if !r.status().is_success() {
                bail!("registering the webhook: {}", r.status());
            }
            Some(receiver)
        } else {
            None
        };
        let (name, prefix) = if delivery {
            ("f. POST invitation, webhook on", "hooked")
        } else {
            ("c0. POST invitation, no delivery", "baseline")
        };
        eprintln!(
            "[{}] POST invitations ...",
            &name[..name.find('.').unwrap_or(0)]
        );
        let s0 = cpu_snap(pid);
        let mut p = create_phase(name, prefix, std::slice::from_ref(&base), &target, args).await?;
        p.tally.ids.clear();
        finish(&mut p, s0, pid);
        p.note = Some(match &receiver {
            None => "a server of its own with USHER_OUTBOX_WORKER=false".into(),
            Some(receiver) => {
                // Let the worker catch up before counting what the receiver got.
                tokio::time::sleep(Duration::from_secs(2)).await;
                format!(
                    "a server of its own, worker on; {} webhook deliveries received by the end \
                     of the phase + 2 s",
                    receiver.hits.load(Ordering::Relaxed)
                )
            }
        });
        anyhow::Ok(p)
    }
    .await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    // On PostgreSQL every phase shares one database: the mail this phase left undelivered would
    // be delivered by the next server during its measured phases. On SQLite it has its own.
    if let Some((_, url)) = DEPLOYMENT_ENV
        .get()
        .and_then(|env| env.iter().find(|(k, _)| k == "USHER_DATABASE_URL"))
    {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query("DELETE FROM outbox WHERE state = 'PENDING'")
            .execute(&mut conn)
            .await?;
    }
    outcome
}

async fn measure(
    args: &Args,
    servers: Servers<'_>,
    owner: &Bootstrapped,
    other: &Bootstrapped,
    own: Vec<PhaseResult>,
) -> anyhow::Result<Vec<PhaseResult>> {
    let Servers {
        child,
        pid,
        base,
        log_path,
    } = servers;
    wait_healthy(child, base, log_path).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_start_kb = proc_status_kb(pid, "VmRSS")?;

    let target = Arc::new(Target {
        base: base.into(),
        api_key: owner.api_key.clone(),
        api_secret: owner.api_secret.clone(),
    });
    let other_target = Arc::new(Target {
        base: base.into(),
        api_key: other.api_key.clone(),
        api_secret: other.api_secret.clone(),
    });

    // Seed: 20 pending invitations, one after another.
    let seed_client = client(1)?;
    for i in 0..SEED_INVITATIONS {
        let r = seed_client
            .post(format!("{base}/users/v1/invitations"))
            .header("authorization", target.auth())
            .header("content-type", JSON_CT)
            .body(format!(
                r#"{{"email":"seed{i}@example.com","role":"MEMBER"}}"#
            ))
            .send()
            .await?;
        let status = r.status();
        let body = r.bytes().await?;
        if !status.is_success() {
            bail!(
                "seeding invitation {i}: {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
    }
    let list_url: Arc<[String]> = on_each(
        &[base.to_owned()],
        &format!("/users/v1/accounts/{}/invitations", owner.organization_id),
    );
    let seeded = list_len(&target, &list_url[0]).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_seeded_kb = proc_status_kb(pid, "VmRSS")?;

    let secs = Duration::from_secs(args.seconds);
    let conns = args.connections;
    println!(
        "usher-bench: {} connections, {} s per phase, server pid {pid} at {base}, {} CPU(s)",
        conns,
        args.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("seeded {SEED_INVITATIONS} invitations; the list returns {seeded}");

    let mut phases: Vec<PhaseResult> = own;

    eprintln!("[a] GET /healthz ...");
    let s0 = cpu_snap(pid);
    let mut ceiling = run_phase(
        "a. GET /healthz (ceiling)",
        conns,
        Work::Get {
            url: on_each(&[base.to_owned()], "/healthz"),
        },
        &target,
        Some(secs),
    )
    .await?;
    ceiling.note = Some("unauthenticated".into());
    let ceiling_rps = ceiling.rps();
    finish(&mut ceiling, s0, pid);
    phases.push(ceiling);

    eprintln!("[b] GET invitations list ...");
    let s0 = cpu_snap(pid);
    let mut list = run_phase(
        "b. GET account invitations",
        conns,
        Work::List {
            url: list_url.clone(),
        },
        &target,
        Some(secs),
    )
    .await?;
    list.note = Some(format!("HMAC, {seeded} items"));
    finish(&mut list, s0, pid);
    phases.push(list);

    eprintln!("[p] GET invitation page ...");
    let mail_dir = log_path.parent().context("data folder")?.join("mail");
    let token = seeded_token(&mail_dir).await?;
    let page_url = on_each(&[base.to_owned()], &format!("/invitations/{token}"));
    let page_bytes = seed_client
        .get(&*page_url[0])
        .send()
        .await?
        .bytes()
        .await?
        .len();
    let s0 = cpu_snap(pid);
    let mut page = run_phase(
        "p. GET invitation page (preview)",
        conns,
        Work::Get { url: page_url },
        &target,
        Some(secs),
    )
    .await?;
    page.note = Some(format!("first visit, {page_bytes} bytes"));
    page.bytes = Some(page_bytes);
    finish(&mut page, s0, pid);
    phases.push(page);

    eprintln!("[q] GET Atlas invitations (Digest) ...");
    let org: Arc<str> = owner.organization_id.as_str().into();
    let bases: Arc<[String]> = Arc::new([base.to_owned()]);
    let s0 = cpu_snap(pid);
    let mut atlas_list = run_phase(
        "q. GET Atlas invites (Digest)",
        conns,
        Work::AtlasGet {
            base: bases.clone(),
            uri: format!("/api/atlas/v2/orgs/{org}/invites").into(),
            version: "2023-01-01",
        },
        &target,
        Some(secs),
    )
    .await?;
    atlas_list.note = Some(format!(
        "Digest MD5, {seeded} items, nc counted per connection"
    ));
    finish(&mut atlas_list, s0, pid);
    phases.push(atlas_list);

    eprintln!("[r] GET Atlas users, a page of 100 (Digest; second organization) ...");
    create_invitations(&other_target, "page", 100).await?;
    let s0 = cpu_snap(pid);
    let mut atlas_users = run_phase(
        "r. GET Atlas users, 100 (Digest)",
        conns,
        Work::AtlasGet {
            base: bases.clone(),
            uri: format!(
                "/api/atlas/v2/orgs/{}/users?itemsPerPage=100",
                other.organization_id
            )
            .into(),
            version: "2025-02-19",
        },
        &other_target,
        Some(secs),
    )
    .await?;
    atlas_users.note = Some("Digest MD5, 1 member + 100 pending, page of 100".into());
    finish(&mut atlas_users, s0, pid);
    phases.push(atlas_users);

    eprintln!("[c] POST invitations ...");
    let s0 = cpu_snap(pid);
    let mut create = create_phase(
        "c. POST invitation (create)",
        "bench",
        &[base.to_owned()],
        &target,
        args,
    )
    .await?;
    let created = std::mem::take(&mut create.tally.ids);
    create.note = Some(format!("{} ids kept", created.len()));
    if create.tally.bad_bodies > 0 {
        create.note = Some(format!(
            "{} ids kept, {} 2xx without invitationId",
            created.len(),
            create.tally.bad_bodies
        ));
    }
    finish(&mut create, s0, pid);
    phases.push(create);

    eprintln!("[d] DELETE invitations ...");
    let ids = Arc::new(created);
    let next = Arc::new(AtomicUsize::new(0));
    let s0 = cpu_snap(pid);
    let mut cancel = run_phase(
        "d. DELETE invitation (cancel)",
        conns,
        Work::Cancel {
            base: Arc::new([base.to_owned()]),
            ids: ids.clone(),
            next: next.clone(),
        },
        &target,
        Some(secs),
    )
    .await?;
    let attempted = next.load(Ordering::Relaxed).min(ids.len());
    let ran_out = attempted >= ids.len();
    cancel.note = Some(if ran_out {
        format!(
            "ran out of ids after {:.2} s: all {} attempted",
            cancel.elapsed.as_secs_f64(),
            ids.len()
        )
    } else {
        format!("{attempted} of {} ids attempted", ids.len())
    });
    finish(&mut cancel, s0, pid);
    phases.push(cancel);

    // Cancel what the timed phase left, so the list is back to the seeded invitations.
    if !ran_out {
        eprintln!(
            "    (untimed) cancelling the {} remaining ids ...",
            ids.len() - attempted
        );
        let rest = run_phase(
            "cleanup",
            conns,
            Work::Cancel {
                base: Arc::new([base.to_owned()]),
                ids: ids.clone(),
                next: next.clone(),
            },
            &target,
            None,
        )
        .await?;
        if rest.tally.error_count() > 0 {
            eprintln!(
                "    cleanup: {} errors {:?}",
                rest.tally.error_count(),
                rest.tally.errors
            );
        }
    }

    eprintln!("[s] POST Atlas invitations (Digest) ...");
    let s0 = cpu_snap(pid);
    let mut atlas_create = run_phase(
        "s. POST Atlas invite (Digest)",
        conns,
        Work::AtlasCreate {
            base: bases.clone(),
            org: org.clone(),
            prefix: "atlas",
        },
        &target,
        Some(secs),
    )
    .await?;
    let atlas_ids = Arc::new(std::mem::take(&mut atlas_create.tally.ids));
    atlas_create.note = Some(format!("{} ids kept", atlas_ids.len()));
    finish(&mut atlas_create, s0, pid);
    phases.push(atlas_create);

    eprintln!("[t] DELETE Atlas invitations (Digest) ...");
    let next = Arc::new(AtomicUsize::new(0));
    let delete_work = Work::AtlasDelete {
        base: bases.clone(),
        org: org.clone(),
        ids: atlas_ids.clone(),
        next: next.clone(),
    };
    let s0 = cpu_snap(pid);
    let mut atlas_delete = run_phase(
        "t. DELETE Atlas invite (Digest)",
        conns,
        delete_work.clone(),
        &target,
        Some(secs),
    )
    .await?;
    let attempted = next.load(Ordering::Relaxed).min(atlas_ids.len());
    atlas_delete.note = Some(format!("{attempted} of {} ids attempted", atlas_ids.len()));
    finish(&mut atlas_delete, s0, pid);
    phases.push(atlas_delete);
    if attempted < atlas_ids.len() {
        eprintln!("    (untimed) deleting the remaining Atlas invitations ...");
        run_phase("cleanup", conns, delete_work, &target, None).await?;
    }

    let n_signup = args
        .signup_invitations
        .unwrap_or(60 * args.seconds as usize)
        .max(SIGNUP_WAVE);
    eprintln!("[e] preparing {n_signup} invitations for sign-ups (second organization) ...");
    let signup_ids = create_invitations(&other_target, "signup", n_signup).await?;
    let before_e = list_len(&target, &list_url[0]).await?;

    eprintln!("[e] GET invitations list while signing up in waves of {SIGNUP_WAVE} ...");
    let s0 = cpu_snap(pid);
    let start_e = Instant::now();
    let signups = tokio::spawn(signup_waves(base.into(), signup_ids, start_e + secs));
    let mut list_e = run_phase(
        "e. GET invitations during sign-ups",
        conns,
        Work::List {
            url: list_url.clone(),
        },
        &target,
        Some(secs),
    )
    .await?;
    let (mut signup, waves, signups_ran_out) = signups.await??;
    list_e.note = Some(format!("HMAC, {before_e} items"));
    signup.note = Some(format!(
        "{} completed in {waves} waves{}",
        signup.tally.ok,
        if signups_ran_out {
            ", ran out of invitations"
        } else {
            ""
        }
    ));
    finish(&mut list_e, s0, pid);
    phases.push(list_e);
    phases.push(signup);

    let end_rss_kb = proc_status_kb(pid, "VmRSS")?;
    let peak_kb = proc_status_kb(pid, "VmHWM")?;
    let mem = Memory {
        idle_start_kb,
        idle_seeded_kb,
        end_rss_kb,
        peak_kb,
    };

    let report = render(&phases, ceiling_rps, &mem);
    print!("{report}");
    std::io::stdout().flush()?;

    if let Some(path) = &args.json {
        let v = json!({
            "date": OffsetDateTime::now_utc().format(&Rfc3339)?,
            "seconds": args.seconds,
            "connections": conns,
            "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
            "ceilingRequestsPerSecond": ceiling_rps,
            "phases": phases.iter().map(|p| p.to_json(ceiling_rps)).collect::<Vec<_>>(),
            "memoryKb": {
                "idleAfterStart": mem.idle_start_kb,
                "idleAfterSeeding": mem.idle_seeded_kb,
                "rssAtEnd": mem.end_rss_kb,
                "peak": mem.peak_kb,
            },
            "targets": targets(&phases, &mem).iter().map(|(name, value, met)| json!({
                "target": name, "measured": value, "met": met,
            })).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&v)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!("results written to {}", path.display());
    }
    Ok(phases)
}

/// A timed phase of invitations to `{prefix}-{connection}-{n}@example.com`.
async fn create_phase(
    name: &'static str,
    prefix: &'static str,
    bases: &[String],
    target: &Arc<Target>,
    args: &Args,
) -> anyhow::Result<PhaseResult> {
    let work = Work::Create {
        url: on_each(bases, "/users/v1/invitations"),
        prefix,
    };
    let secs = Duration::from_secs(args.seconds);
    run_phase(name, args.connections, work, target, Some(secs)).await
}

/// Records the CPU used since `before` and the server's RSS now.
fn finish(p: &mut PhaseResult, before: Option<CpuSnap>, pid: u32) {
    p.cpu = cpu_use(before, pid);
    p.rss_after_kb = proc_status_kb(pid, "VmRSS").ok();
}

fn phase<'a>(phases: &'a [PhaseResult], prefix: &str) -> Option<&'a PhaseResult> {
    phases.iter().find(|p| p.name.starts_with(prefix))
}

/// (target, measured, met) for each target.
fn targets(phases: &[PhaseResult], mem: &Memory) -> Vec<(String, String, bool)> {
    let mut t = Vec::new();
    let g = goals();
    if let Some(p) = phase(phases, "b.") {
        let rps = p.rps();
        t.push((
            format!("list >= {:.0} req/s", g.list_rps),
            format!("{rps:.0} req/s"),
            rps >= g.list_rps,
        ));
        let p99 = p.pct_ms(99.0);
        t.push((
            format!("list p99 <= {:.0} ms", g.list_p99_ms),
            format!("{} ms", fmt_opt(p99, 2)),
            p99.is_some_and(|v| v <= g.list_p99_ms),
        ));
    }
    if let (Some(q), Some(b)) = (phase(phases, "q."), phase(phases, "b.")) {
        let ratio = q.rps() / b.rps();
        t.push((
            "Atlas Digest list / HMAC list >= 0.85".into(),
            format!("{ratio:.2}"),
            ratio >= 0.85,
        ));
        let p99 = q.pct_ms(99.0);
        t.push((
            "Atlas Digest list p99 <= 20 ms".into(),
            format!("{} ms", fmt_opt(p99, 2)),
            p99.is_some_and(|v| v <= 20.0),
        ));
    }
    // The issue's 20 ms names the list; the other Atlas paths are held to it too, so that what
    // they miss is on record.
    for (prefix, what) in [
        ("r.", "Atlas users page"),
        ("s.", "Atlas create"),
        ("t.", "Atlas delete"),
    ] {
        if let Some(p) = phase(phases, prefix) {
            let p99 = p.pct_ms(99.0);
            t.push((
                format!("{what} p99 <= 20 ms"),
                format!("{} ms", fmt_opt(p99, 2)),
                p99.is_some_and(|v| v <= 20.0),
            ));
        }
    }
    if let Some(p) = phase(phases, "p.") {
        let rps = p.rps();
        t.push((
            format!("invitation page >= {:.0} req/s", g.page_rps),
            format!("{rps:.0} req/s"),
            rps >= g.page_rps,
        ));
        if let Some(bytes) = p.bytes {
            t.push((
                "invitation page < 50 KB".into(),
                format!("{:.1} KB", bytes as f64 / 1024.0),
                bytes < 50 * 1024,
            ));
        }
    }
    for (prefix, what, goal) in [
        ("c.", "create", g.create_rps),
        ("d.", "cancel", g.cancel_rps),
    ] {
        let Some(p) = phase(phases, prefix) else {
            continue;
        };
        let rps = p.rps();
        t.push((
            format!("{what} >= {goal:.0} req/s"),
            format!("{rps:.0} req/s"),
            rps >= goal,
        ));
        if let Some(limit) = g.write_p99_ms {
            let p99 = p.pct_ms(99.0);
            t.push((
                format!("{what} p99 <= {limit:.0} ms"),
                format!("{} ms", fmt_opt(p99, 2)),
                p99.is_some_and(|v| v <= limit),
            ));
        }
    }
    if let (Some(c0), Some(f)) = (phase(phases, "c0."), phase(phases, "f.")) {
        let ratio = f.rps() / c0.rps();
        t.push((
            "create, webhook+mail / no delivery >= 0.90".into(),
            format!("{ratio:.2}"),
            ratio >= 0.90,
        ));
    }
    t.push((
        format!("idle RSS after start <= {} MB", IDLE_RSS_TARGET_KB / 1024),
        format!("{:.1} MB", mb(mem.idle_start_kb)),
        mem.idle_start_kb <= IDLE_RSS_TARGET_KB,
    ));
    t.push((
        format!("idle RSS after seeding <= {} MB", IDLE_RSS_TARGET_KB / 1024),
        format!("{:.1} MB", mb(mem.idle_seeded_kb)),
        mem.idle_seeded_kb <= IDLE_RSS_TARGET_KB,
    ));
    if let Some(p) = phase(phases, "e.") {
        let p99 = p.pct_ms(99.0);
        t.push((
            format!("list p99 during sign-ups <= {SIGNUP_LIST_P99_TARGET_MS:.0} ms"),
            format!("{} ms", fmt_opt(p99, 2)),
            p99.is_some_and(|v| v <= SIGNUP_LIST_P99_TARGET_MS),
        ));
    }
    t
}

fn render(phases: &[PhaseResult], ceiling_rps: f64, mem: &Memory) -> String {
    let mut o = String::new();
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "{:<36} {:>5} {:>6} {:>8} {:>7} {:>7} {:>7} {:>6} {:>8} {:>17} {:>7}",
        "phase",
        "conns",
        "secs",
        "req/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors",
        "/ceiling",
        "cpu srv/bench/oth",
        "RSS MB"
    );
    let _ = writeln!(
        o,
        "{}",
        "-".repeat(36 + 5 + 6 + 8 + 7 + 7 + 7 + 6 + 8 + 17 + 7 + 10)
    );
    for p in phases {
        let ratio = if p.vs_ceiling && ceiling_rps > 0.0 {
            format!("{:.2}", p.rps() / ceiling_rps)
        } else {
            "-".into()
        };
        let cpu = p.cpu.map_or_else(
            || "-".into(),
            |c| format!("{:.2}/{:.2}/{:.2}", c.server, c.bench, c.other),
        );
        let _ = writeln!(
            o,
            "{:<36} {:>5} {:>6.2} {:>8.0} {:>7} {:>7} {:>7} {:>6} {:>8} {:>17} {:>7}",
            p.name,
            p.connections,
            p.elapsed.as_secs_f64(),
            p.rps(),
            fmt_opt(p.pct_ms(50.0), 2),
            fmt_opt(p.pct_ms(99.0), 2),
            fmt_opt(p.max_ms(), 2),
            p.tally.error_count(),
            ratio,
            cpu,
            fmt_opt(p.rss_after_kb.map(mb), 1),
        );
    }
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "req/s counts 2xx answers only; latencies are of 2xx answers, measured by the client \
         (send to last body byte)."
    );
    let _ = writeln!(
        o,
        "cpu: cores used during the phase by the server / this load generator / every other \
         process on the machine; RSS: the server's, right after the phase."
    );
    for p in phases {
        if let Some(n) = &p.note {
            let _ = writeln!(o, "  {}: {n}", p.name);
        }
        if p.tally.error_count() > 0 {
            let _ = writeln!(
                o,
                "  {}: errors by status {:?}; error latency p50 {} ms, max {} ms",
                p.name,
                p.tally.errors,
                fmt_opt(percentile_ms(&p.tally.err_us, 50.0), 2),
                fmt_opt(p.tally.err_us.last().map(|&u| u as f64 / 1000.0), 2),
            );
            for (k, body) in &p.tally.samples {
                let _ = writeln!(o, "    {k}: {body}");
            }
        }
    }
    let _ = writeln!(o);
    let _ = writeln!(o, "memory (server process):");
    let _ = writeln!(
        o,
        "  RSS idle after start    {:>8.1} MB",
        mb(mem.idle_start_kb)
    );
    let _ = writeln!(
        o,
        "  RSS idle after seeding  {:>8.1} MB",
        mb(mem.idle_seeded_kb)
    );
    let _ = writeln!(
        o,
        "  RSS at the end          {:>8.1} MB",
        mb(mem.end_rss_kb)
    );
    let _ = writeln!(o, "  peak RSS (VmHWM)        {:>8.1} MB", mb(mem.peak_kb));
    let _ = writeln!(o);
    let _ = writeln!(o, "targets:");
    for (name, value, met) in targets(phases, mem) {
        let _ = writeln!(o, "  {:<36} {:>14}   {}", name, value, verdict(met));
    }
    o
}
