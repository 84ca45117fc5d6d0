//! Configuration: defaults → optional TOML file → `USHER_*` environment variables → flags.
//! Unknown keys in the file are errors (a typo must not be silently ignored).

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting, with its default. Documented in `docs/configuration.md`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub listen: String,
    /// Folder for the SQLite database, the generated master key and the mail folder.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; default: `sqlite://<data_dir>/usher.db`.
    pub database_url: Option<String>,
    pub database_max_connections: u32,
    pub database_connect_timeout_secs: u64,
    /// PostgreSQL: the server cancels a statement running longer. SQLite: how long a statement
    /// waits for the database lock (held by another process, e.g. `usher admin`).
    pub database_statement_timeout_ms: u64,
    /// Base64 of 32 bytes. Default: generated once into `<data_dir>/master.key` (mode 0600).
    /// Instances sharing one database must share it.
    pub master_key: Option<String>,
    /// Base of links in e-mails; default `http://<listen>`.
    pub public_url: Option<String>,
    /// `file://DIR` (default `file://<data_dir>/mail`), `smtp://[user:password@]host[:port]`
    /// (STARTTLS; `?tls=opportunistic` or `?tls=none` to relax it) or `smtps://…`.
    pub mail_transport: Option<String>,
    pub mail_from: String,
    /// How long a message being delivered is reserved: after a crash mid-delivery it is sent
    /// again once this has passed. Longer than the slowest delivery (SMTP times out at 20 s).
    pub outbox_lease_secs: i64,
    /// Deliver the outbox from this process. Off: the process only answers requests and queues
    /// messages, which another process with the same database delivers.
    pub outbox_worker: bool,
    /// The worker's CPU niceness (0–19, Linux; 0 elsewhere): how much it yields to requests when
    /// both want the CPU. Requests come first; delivery takes the idle time and catches up.
    pub outbox_nice: i32,
    /// How long a webhook endpoint has to answer before the delivery counts as failed.
    pub webhook_timeout_secs: u64,
    /// Language of e-mails (`en`, `ko`) when the organization has not chosen one; a person's own
    /// e-mails (verification, password reset) are always in it.
    pub mail_language: String,
    /// Link templates of e-mails, with a `{token}` placeholder; default: usher's own pages
    /// under `public_url` (`/invitations/{token}`, `/verify-email/{token}`,
    /// `/password-reset/{token}`).
    pub invitation_link: Option<String>,
    pub verification_link: Option<String>,
    pub password_reset_link: Option<String>,
    pub log_format: LogFormat,
    /// A tracing filter, e.g. `info` or `usher=debug,info`.
    pub log_level: String,
    /// Open sign-up (SOLAPI #1, #2); off = invitation-only.
    pub signup_open: bool,
    pub invitation_ttl_secs: i64,
    /// How often `serve` records the expiry of overdue invitations (and emits their events).
    pub sweep_interval_secs: u64,
    /// Invitation e-mails (sent and resent) one address may receive per window; 0: no limit.
    pub invitation_sends_per_recipient: u32,
    pub invitation_sends_window_secs: i64,
    /// Invitation e-mails one organization may send per 24 hours; 0: no limit.
    pub invitation_sends_per_org_per_day: u32,
    pub session_ttl_secs: i64,
    /// Lifetime of password-reset and e-mail verification links.
    pub token_ttl_secs: i64,
    pub password_min_chars: usize,
    pub password_max_chars: usize,
    /// How far in the future a signed HMAC date may be (see docs/solapi.md: the PHP SDK).
    pub hmac_future_tolerance_secs: i64,
    pub max_body_bytes: usize,
    /// Per client address and minute: sign-ups, logins, reset requests (e-mail checks: a third).
    pub auth_rate_per_minute: u32,
    /// Proxies in front of usher that append to `X-Forwarded-For` (a load balancer: 1). The
    /// client address (rate limits, sessions) is then the entry the outermost one appended;
    /// 0 (default): the TCP peer, and the header is ignored.
    pub trusted_proxy_hops: usize,
    /// The algorithm the Atlas face's Digest challenge names: `MD5` (what Atlas sends and every
    /// Atlas client expects) or `SHA-256`. Responses in either are accepted.
    pub atlas_digest_algorithm: String,
    /// Password hashes running at once (each holds 19 MiB); default: the number of cores.
    pub hash_concurrency: Option<usize>,
    /// E-mail of the owner created on the first start of an empty database.
    pub first_owner_email: String,
    /// The terms (SOLAPI #3), as HTML.
    pub agreement_html: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./usher-data"),
            database_url: None,
            database_max_connections: 8,
            database_connect_timeout_secs: 5,
            database_statement_timeout_ms: 10_000,
            master_key: None,
            public_url: None,
            mail_transport: None,
            mail_from: "usher <no-reply@usher.invalid>".into(),
            outbox_lease_secs: 60,
            outbox_worker: true,
            outbox_nice: 10,
            webhook_timeout_secs: 10,
            mail_language: "en".into(),
            invitation_link: None,
            verification_link: None,
            password_reset_link: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            signup_open: false,
            invitation_ttl_secs: 30 * 24 * 3600,
            sweep_interval_secs: 60,
            invitation_sends_per_recipient: 10,
            invitation_sends_window_secs: 600,
            invitation_sends_per_org_per_day: 1000,
            session_ttl_secs: 7 * 24 * 3600,
            token_ttl_secs: 24 * 3600,
            password_min_chars: 8,
            password_max_chars: 128,
            hmac_future_tolerance_secs: 9 * 3600 + 15 * 60,
            max_body_bytes: 64 * 1024,
            auth_rate_per_minute: 30,
            trusted_proxy_hops: 0,
            atlas_digest_algorithm: "MD5".into(),
            hash_concurrency: None,
            first_owner_email: "owner@example.com".into(),
            agreement_html: None,
        }
    }
}

/// Keys read from `USHER_*` variables (others, like `USHER_TEST_DATABASE_URL`, are not config).
const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "database_max_connections",
    "database_connect_timeout_secs",
    "database_statement_timeout_ms",
    "master_key",
    "public_url",
    "mail_transport",
    "mail_from",
    "outbox_lease_secs",
    "outbox_worker",
    "outbox_nice",
    "webhook_timeout_secs",
    "mail_language",
    "invitation_link",
    "verification_link",
    "password_reset_link",
    "log_format",
    "log_level",
    "signup_open",
    "invitation_ttl_secs",
    "sweep_interval_secs",
    "invitation_sends_per_recipient",
    "invitation_sends_window_secs",
    "invitation_sends_per_org_per_day",
    "session_ttl_secs",
    "token_ttl_secs",
    "password_min_chars",
    "password_max_chars",
    "hmac_future_tolerance_secs",
    "max_body_bytes",
    "auth_rate_per_minute",
    "trusted_proxy_hops",
    "atlas_digest_algorithm",
    "hash_concurrency",
    "first_owner_email",
    "agreement_html",
];

/// Values given as command-line flags (highest precedence); unset flags change nothing.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_format: Option<LogFormat>,
}

impl Config {
    /// How to open the database at `url` with this configuration's pool settings.
    pub fn db_options(&self, url: String) -> crate::store::DbOptions {
        crate::store::DbOptions {
            url,
            max_connections: self.database_max_connections,
            connect_timeout: std::time::Duration::from_secs(self.database_connect_timeout_secs),
            statement_timeout: std::time::Duration::from_millis(self.database_statement_timeout_ms),
        }
    }

    pub fn load(file: Option<&Path>, overrides: &Overrides) -> anyhow::Result<Config> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(f) = file {
            anyhow::ensure!(
                f.exists(),
                "configuration file {} does not exist",
                f.display()
            );
            fig = fig.merge(Toml::file_exact(f));
        }
        fig = fig
            .merge(Env::prefixed("USHER_").filter(|k| {
                ENV_KEYS
                    .iter()
                    .any(|known| k.as_str().eq_ignore_ascii_case(known))
            }))
            .merge(Serialized::defaults(overrides));
        let config: Config = fig.extract()?;
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> anyhow::Result<()> {
        self.mail_transport()?;
        self.mail_language()?;
        anyhow::ensure!(
            self.outbox_lease_secs > 0,
            "outbox_lease_secs must be positive"
        );
        anyhow::ensure!(
            (0..=19).contains(&self.outbox_nice),
            "outbox_nice must be between 0 and 19"
        );
        anyhow::ensure!(
            self.webhook_timeout_secs > 0,
            "webhook_timeout_secs must be positive"
        );
        for (key, template) in [
            ("invitation_link", &self.invitation_link),
            ("verification_link", &self.verification_link),
            ("password_reset_link", &self.password_reset_link),
        ] {
            if let Some(t) = template {
                anyhow::ensure!(t.contains("{token}"), "{key} must contain {{token}}");
            }
        }
        anyhow::ensure!(
            self.password_min_chars >= 1,
            "password_min_chars must be at least 1"
        );
        anyhow::ensure!(
            self.password_max_chars >= 64,
            "password_max_chars must be at least 64 (NIST SP 800-63B)"
        );
        anyhow::ensure!(
            self.password_min_chars <= self.password_max_chars,
            "password_min_chars exceeds password_max_chars"
        );
        anyhow::ensure!(
            self.invitation_ttl_secs > 0 && self.session_ttl_secs > 0 && self.token_ttl_secs > 0,
            "lifetimes must be positive"
        );
        anyhow::ensure!(
            self.invitation_sends_window_secs > 0,
            "invitation_sends_window_secs must be positive"
        );
        anyhow::ensure!(
            self.sweep_interval_secs > 0,
            "sweep_interval_secs must be positive"
        );
        anyhow::ensure!(
            self.hmac_future_tolerance_secs >= 0,
            "hmac_future_tolerance_secs must not be negative"
        );
        if let Some(k) = &self.master_key {
            anyhow::ensure!(
                crate::core::crypto::decode_master_key(k).is_some(),
                "master_key must be base64 of 32 bytes"
            );
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("usher.db").display()))
    }

    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.listen))
    }

    pub fn digest_algorithm(&self) -> anyhow::Result<crate::auth::digest::Algorithm> {
        crate::auth::digest::Algorithm::parse(&self.atlas_digest_algorithm)
            .ok_or_else(|| anyhow::anyhow!("atlas_digest_algorithm must be MD5 or SHA-256"))
    }

    pub fn mail_language(&self) -> anyhow::Result<crate::core::mail::Language> {
        crate::core::mail::Language::parse(&self.mail_language)
            .ok_or_else(|| anyhow::anyhow!("mail_language must be en or ko"))
    }

    /// The link templates of e-mails, defaults filled in.
    pub fn mail_links(&self) -> crate::core::mail::Links {
        let defaults = crate::core::mail::Links::under(&self.public_url());
        crate::core::mail::Links {
            invitation: self.invitation_link.clone().unwrap_or(defaults.invitation),
            verification: self
                .verification_link
                .clone()
                .unwrap_or(defaults.verification),
            password_reset: (self.password_reset_link.clone()).unwrap_or(defaults.password_reset),
            api_base: defaults.api_base,
        }
    }

    /// Where e-mail goes: `mail_transport`, or `file://<data_dir>/mail`.
    pub fn mail_transport(&self) -> anyhow::Result<crate::delivery::transport::Spec> {
        match &self.mail_transport {
            None => Ok(crate::delivery::transport::Spec::File(
                self.data_dir.join("mail"),
            )),
            Some(t) => crate::delivery::transport::Spec::parse(t),
        }
    }

    /// The folder of the file transport (an error for SMTP).
    pub fn mail_dir(&self) -> anyhow::Result<PathBuf> {
        match self.mail_transport()? {
            crate::delivery::transport::Spec::File(dir) => Ok(dir),
            crate::delivery::transport::Spec::Smtp(_) => {
                anyhow::bail!("mail_transport is SMTP, not a folder")
            }
        }
    }

    /// The effective configuration as TOML, secrets masked.
    pub fn masked_toml(&self) -> anyhow::Result<String> {
        let mut c = self.clone();
        c.master_key = c.master_key.map(|_| "********".into());
        c.database_url = Some(mask_url_password(&self.database_url()));
        c.mail_transport = c.mail_transport.as_deref().map(mask_url_password);
        Ok(toml::to_string_pretty(&c)?)
    }
}

/// Hides the password of a URL like `postgres://user:secret@host/db`.
pub fn mask_url_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:********@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_masked() {
        assert_eq!(
            mask_url_password("postgres://u:s3cret@h:5432/db"),
            "postgres://u:********@h:5432/db"
        );
        assert_eq!(
            mask_url_password("sqlite://./usher-data/usher.db"),
            "sqlite://./usher-data/usher.db"
        );
    }

    #[test]
    fn the_smtp_password_is_masked_in_the_printed_configuration() {
        let c = Config {
            mail_transport: Some("smtps://mailer:hunter2@smtp.example.com".into()),
            ..Config::default()
        };
        let printed = c.masked_toml().unwrap();
        assert!(!printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("smtps://mailer:********@smtp.example.com"));
    }

    #[test]
    fn flags_beat_the_file_and_unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("usher.toml");
        std::fs::write(&f, "listen = \"127.0.0.1:9000\"\nsignup_open = true\n").unwrap();
        let c = Config::load(Some(&f), &Overrides::default()).unwrap();
        assert_eq!(c.listen, "127.0.0.1:9000");
        assert!(c.signup_open);
        let o = Overrides {
            listen: Some("127.0.0.1:9001".into()),
            ..Default::default()
        };
        assert_eq!(Config::load(Some(&f), &o).unwrap().listen, "127.0.0.1:9001");
        std::fs::write(&f, "lisen = \"typo\"\n").unwrap();
        assert!(Config::load(Some(&f), &Overrides::default()).is_err());
        std::fs::write(&f, "password_max_chars = 20\n").unwrap();
        assert!(Config::load(Some(&f), &Overrides::default()).is_err());
    }
}
