//! E-mails the core causes. They are rendered here and queued in the outbox inside the
//! transaction of the change, so nothing is sent for a rollback and nothing lost for a commit.
//! The payload carries a secret link, so it is stored encrypted.

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use super::{Core, CoreResult};
use crate::store;

/// What to tell whom.
pub enum Mail<'a> {
    Invitation {
        org_name: &'a str,
        inviter_name: Option<&'a str>,
        role: &'a str,
        expires_at: &'a str,
        token: &'a str,
    },
    Verification {
        name: &'a str,
        token: &'a str,
    },
    PasswordReset {
        token: &'a str,
    },
}

/// A rendered message, as stored (encrypted) in the outbox and handed to a transport.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rendered {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub const KIND_EMAIL: &str = "email";

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_page(paragraphs: &[String], link: &str, action: &str) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect();
    format!(
        "<!doctype html><html><body>{body}<p><a href=\"{href}\">{action}</a></p><p>{href_text}</p></body></html>",
        href = esc(link),
        action = esc(action),
        href_text = esc(link)
    )
}

impl Mail<'_> {
    pub fn render(&self, to: &str, public_url: &str) -> Rendered {
        let base = public_url.trim_end_matches('/');
        let (subject, lines, link, action) = match self {
            Mail::Invitation {
                org_name,
                inviter_name,
                role,
                expires_at,
                token,
            } => {
                let who = inviter_name.unwrap_or("An owner");
                (
                    format!("You are invited to join {org_name}"),
                    vec![
                        format!("{who} invited you to join {org_name} as {role}."),
                        format!("The invitation expires at {expires_at}."),
                        format!(
                            "New to usher? Sign up with POST {base}/users/v1/signup/invitations/{token}. \
                             Already have an account? Sign in and accept with POST {base}/users/v1/invitations/{token}."
                        ),
                    ],
                    format!("{base}/invitations/{token}"),
                    "Open the invitation",
                )
            }
            Mail::Verification { name, token } => (
                "Verify your e-mail address".to_owned(),
                vec![
                    format!("Hello {name}, please confirm that this address is yours."),
                    format!(
                        "API: POST {base}/usher/v1/email-verifications with {{\"token\":\"{token}\"}}."
                    ),
                ],
                format!("{base}/verify-email/{token}"),
                "Verify my e-mail",
            ),
            Mail::PasswordReset { token } => (
                "Reset your password".to_owned(),
                vec![
                    "Somebody asked to reset the password of the account with this address. \
                     If it was not you, ignore this message."
                        .to_owned(),
                    format!("API: PUT {base}/users/v1/member/password/reset/{token}."),
                ],
                format!("{base}/password-reset/{token}"),
                "Choose a new password",
            ),
        };
        let text = format!("{}\n\n{action}: {link}\n", lines.join("\n\n"));
        let html = html_page(&lines, &link, action);
        Rendered {
            to: to.to_owned(),
            subject,
            text,
            html,
        }
    }
}

impl Mail<'_> {
    /// What the message is for, as the outbox records it (send limits count `invitation`).
    pub fn purpose(&self) -> &'static str {
        match self {
            Mail::Invitation { .. } => PURPOSE_INVITATION,
            Mail::Verification { .. } => "verification",
            Mail::PasswordReset { .. } => "password_reset",
        }
    }
}

pub const PURPOSE_INVITATION: &str = "invitation";

/// A rendered e-mail, encrypted for the outbox, ready to be written in a transaction.
pub struct SealedMail {
    id: String,
    purpose: &'static str,
    org_id: Option<String>,
    recipient: String,
    payload: String,
}

impl Core {
    /// Renders and encrypts an e-mail. Done before the transaction that queues it, so that the
    /// single writer is held for the statements only. `org_id`: the organization whose owners
    /// may see the message and re-queue it.
    pub fn seal_mail(
        &self,
        to: &str,
        org_id: Option<&str>,
        mail: Mail<'_>,
    ) -> CoreResult<SealedMail> {
        let purpose = mail.purpose();
        let rendered = mail.render(to, &self.settings.public_url);
        let id = self.new_id();
        let payload = serde_json::to_vec(&rendered).map_err(anyhow::Error::from)?;
        let payload = self.crypto.encrypt(&id, &payload);
        Ok(SealedMail {
            id,
            purpose,
            org_id: org_id.map(str::to_owned),
            recipient: super::email::normalize(to),
            payload,
        })
    }

    /// Queues a sealed e-mail in the caller's transaction.
    pub async fn queue_sealed(&self, conn: &mut AnyConnection, mail: SealedMail) -> CoreResult<()> {
        let message = store::outbox::NewMessage {
            id: &mail.id,
            kind: KIND_EMAIL,
            purpose: mail.purpose,
            org_id: mail.org_id.as_deref(),
            recipient: &mail.recipient,
            payload_encrypted: &mail.payload,
            now: &self.now_ts(),
        };
        store::outbox::insert(conn, &message).await?;
        Ok(())
    }

    /// Queues a person's own e-mail (verification, password reset) in the caller's transaction.
    pub async fn queue_mail(
        &self,
        conn: &mut AnyConnection,
        to: &str,
        mail: Mail<'_>,
    ) -> CoreResult<()> {
        let sealed = self.seal_mail(to, None, mail)?;
        self.queue_sealed(conn, sealed).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitation_mail_carries_the_link_and_escapes_names() {
        let r = Mail::Invitation {
            org_name: "<Acme>",
            inviter_name: Some("Kim"),
            role: "DEVELOPER",
            expires_at: "2026-12-21T00:00:00.000Z",
            token: "TOKEN",
        }
        .render("a@b.co", "http://x/");
        assert!(r.text.contains("http://x/invitations/TOKEN"));
        assert!(r.html.contains("&lt;Acme&gt;") && !r.html.contains("<Acme>"));
        assert_eq!(r.subject, "You are invited to join <Acme>");
    }
}
