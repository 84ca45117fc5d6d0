//! E-mail transports: `file://DIR` (one `.eml` per message, the default) and SMTP through lettre
//! (`smtp://` with STARTTLS, `smtps://` with TLS from the first byte, both with optional
//! `user:password@`).

use std::path::PathBuf;
use std::time::Duration;

use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where e-mail goes, as configured (`mail_transport`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spec {
    File(PathBuf),
    /// A URL in lettre's form (see [`Spec::parse`]).
    Smtp(String),
}

impl Spec {
    /// `file://DIR`; `smtp://[user:password@]host[:port]` — STARTTLS required unless the URL says
    /// `?tls=opportunistic` or `?tls=none` (plain text, for a relay on the same host or network);
    /// `smtps://[user:password@]host[:port]` — TLS from the start. Ports default to 587 and 465.
    pub fn parse(s: &str) -> anyhow::Result<Spec> {
        if let Some(dir) = s.strip_prefix("file://") {
            anyhow::ensure!(!dir.is_empty(), "mail_transport file:// needs a folder");
            return Ok(Spec::File(PathBuf::from(dir)));
        }
        let mut url =
            url::Url::parse(s).map_err(|e| anyhow::anyhow!("mail_transport: not a URL ({e})"))?;
        anyhow::ensure!(
            url.host_str().is_some(),
            "mail_transport: the SMTP host is missing"
        );
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let others = url.query_pairs().filter(|(k, _)| k != "tls").count();
        anyhow::ensure!(
            others == 0,
            "mail_transport: the only query parameter is tls"
        );
        match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => {
                url.set_query(Some("tls=required"));
                if url.port().is_none() {
                    let _ = url.set_port(Some(587));
                }
            }
            ("smtp", Some("required" | "opportunistic")) => {}
            // lettre's plain-text form is the URL without `tls`; its default port would be 25.
            ("smtp", Some("none")) => {
                url.set_query(None);
                if url.port().is_none() {
                    let _ = url.set_port(Some(587));
                }
            }
            ("smtps", None) => {}
            (scheme @ ("smtp" | "smtps"), Some(other)) => anyhow::bail!(
                "mail_transport: tls={other} is not valid for {scheme}:// (required, opportunistic or none for smtp://)"
            ),
            (scheme, _) => anyhow::bail!(
                "mail_transport: unsupported scheme {scheme}:// (use file://, smtp:// or smtps://)"
            ),
        }
        Ok(Spec::Smtp(url.into()))
    }
}

/// Why a message was not delivered. Permanent failures (an SMTP 5xx: unknown mailbox, rejected
/// content) are parked at once; everything else is retried with backoff.
#[derive(Debug)]
pub struct Failure {
    pub permanent: bool,
    pub error: anyhow::Error,
}

impl From<anyhow::Error> for Failure {
    fn from(error: anyhow::Error) -> Self {
        Failure {
            permanent: false,
            error,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::from(anyhow::Error::from(e))
    }
}

impl From<SmtpError> for Failure {
    fn from(e: SmtpError) -> Self {
        Failure {
            permanent: e.is_permanent(),
            error: anyhow::Error::from(e),
        }
    }
}

pub enum Transport {
    File(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

/// How long one SMTP conversation may take before it counts as a (retried) failure.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

impl Transport {
    pub fn open(spec: &Spec) -> anyhow::Result<Transport> {
        Ok(match spec {
            Spec::File(dir) => {
                std::fs::create_dir_all(dir)?;
                Transport::File(dir.clone())
            }
            Spec::Smtp(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        })
    }

    /// Delivers one message; `id` names its file on the file transport.
    pub async fn send(&self, id: &str, message: Message) -> Result<(), Failure> {
        match self {
            Transport::File(dir) => {
                // Write-then-rename: a reader never sees half a message; a retry overwrites the
                // same file. Both in one blocking task: each `tokio::fs` call is a hand-off to
                // the blocking pool and back, and under load every hand-off waits for a worker.
                let path = dir.join(format!("{id}.eml"));
                let tmp = dir.join(format!(".{id}.eml.tmp"));
                let formatted = message.formatted();
                tokio::task::spawn_blocking(move || {
                    std::fs::write(&tmp, formatted)?;
                    std::fs::rename(&tmp, &path)
                })
                .await
                .map_err(anyhow::Error::from)??;
                Ok(())
            }
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smtp(s: &str) -> String {
        match Spec::parse(s).unwrap() {
            Spec::Smtp(u) => u,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn smtp_urls_require_starttls_unless_they_say_otherwise() {
        assert_eq!(
            smtp("smtp://mail.example.com"),
            "smtp://mail.example.com:587?tls=required"
        );
        assert_eq!(
            smtp("smtp://u:p%40ss@mail.example.com:2525"),
            "smtp://u:p%40ss@mail.example.com:2525?tls=required"
        );
        assert_eq!(
            smtp("smtp://mail.example.com?tls=opportunistic"),
            "smtp://mail.example.com?tls=opportunistic"
        );
        assert_eq!(
            smtp("smtp://127.0.0.1:2525?tls=none"),
            "smtp://127.0.0.1:2525"
        );
        assert_eq!(
            smtp("smtps://u:p@mail.example.com"),
            "smtps://u:p@mail.example.com"
        );
        assert_eq!(
            Spec::parse("file:///var/mail/usher").unwrap(),
            Spec::File(PathBuf::from("/var/mail/usher"))
        );
    }

    #[test]
    fn unknown_transports_and_parameters_are_refused() {
        for bad in [
            "http://mail.example.com",
            "smtp://mail.example.com?tls=maybe",
            "smtps://mail.example.com?tls=none",
            "smtp://mail.example.com?tls=none&debug=1",
            "smtp://",
            "file://",
            "mail.example.com",
        ] {
            assert!(Spec::parse(bad).is_err(), "{bad}");
        }
    }
}
