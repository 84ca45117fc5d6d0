//! E-mails the core causes. They are rendered here and queued in the outbox inside the
//! transaction of the change, so nothing is sent for a rollback and nothing lost for a commit.
//! The payload carries a secret link, so it is stored encrypted.

use serde::{Deserialize, Serialize};

use super::outbox::Sealed;
use super::{Core, CoreResult};
use crate::store::WriteTx;

/// What to tell whom. Invitations are written in the organization's language (`None`: the
/// server's default); a person's own e-mails in the server's default.
pub enum Mail<'a> {
    Invitation {
        org_name: &'a str,
        org_language: Option<&'a str>,
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

/// The languages e-mails are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    #[default]
    En,
    Ko,
}

impl Language {
    pub const CODES: &[&str] = &["en", "ko"];

    pub fn parse(code: &str) -> Option<Language> {
        match code {
            "en" => Some(Language::En),
            "ko" => Some(Language::Ko),
            _ => None,
        }
    }
}

/// Where the links in e-mails point: templates with a `{token}` placeholder, so that a product
/// can send people to its own front end; `api_base` is where the API hints in the text point.
#[derive(Debug, Clone)]
pub struct Links {
    pub api_base: String,
    pub invitation: String,
    pub verification: String,
    pub password_reset: String,
}

impl Links {
    /// usher's own pages under `public_url`.
    pub fn under(public_url: &str) -> Links {
        let base = public_url.trim_end_matches('/');
        Links {
            api_base: base.to_owned(),
            invitation: format!("{base}/invitations/{{token}}"),
            verification: format!("{base}/verify-email/{{token}}"),
            password_reset: format!("{base}/password-reset/{{token}}"),
        }
    }
}

fn fill(template: &str, token: &str) -> String {
    template.replace("{token}", token)
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

fn html_page(paragraphs: &[String], link: &str, action: &str, lang: Language) -> String {
    let body: String = paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", esc(p)))
        .collect();
    format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"></head><body>{body}<p><a href=\"{href}\">{action}</a></p><p>{href_text}</p></body></html>",
        lang = match lang {
            Language::En => "en",
            Language::Ko => "ko",
        },
        href = esc(link),
        action = esc(action),
        href_text = esc(link)
    )
}

impl Mail<'_> {
    pub fn render(&self, to: &str, links: &Links, default: Language) -> Rendered {
        let base = &links.api_base;
        let (subject, lines, link, action) = match self {
            Mail::Invitation {
                org_name,
                org_language,
                inviter_name,
                role,
                expires_at,
                token,
            } => {
                let link = fill(&links.invitation, token);
                let signup = format!("POST {base}/users/v1/signup/invitations/{token}");
                let accept = format!("POST {base}/users/v1/invitations/{token}");
                match org_language.and_then(Language::parse).unwrap_or(default) {
                    Language::En => (
                        format!("You are invited to join {org_name}"),
                        vec![
                            format!(
                                "{} invited you to join {org_name} as {role}.",
                                inviter_name.unwrap_or("An owner")
                            ),
                            format!("The invitation expires at {expires_at} (UTC)."),
                            format!(
                                "New to usher? Sign up with {signup}. Already have an account? \
                                 Sign in and accept with {accept}."
                            ),
                        ],
                        link,
                        "Open the invitation",
                    ),
                    Language::Ko => (
                        format!("{org_name}에 초대되었습니다"),
                        vec![
                            format!(
                                "{}님이 {org_name}에 {role} 역할로 초대했습니다.",
                                inviter_name.unwrap_or("소유자")
                            ),
                            format!("초대는 {expires_at} (UTC)에 만료됩니다."),
                            format!(
                                "처음이시면 {signup} 으로 가입하세요. 이미 계정이 있으면 \
                                 로그인한 뒤 {accept} 으로 수락하세요."
                            ),
                        ],
                        link,
                        "초대 확인하기",
                    ),
                }
            }
            Mail::Verification { name, token } => {
                let link = fill(&links.verification, token);
                let api =
                    format!("POST {base}/usher/v1/email-verifications {{\"token\":\"{token}\"}}");
                match default {
                    Language::En => (
                        "Verify your e-mail address".to_owned(),
                        vec![
                            format!("Hello {name}, please confirm that this address is yours."),
                            format!("API: {api}."),
                        ],
                        link,
                        "Verify my e-mail",
                    ),
                    Language::Ko => (
                        "이메일 주소를 인증해 주세요".to_owned(),
                        vec![
                            format!("{name}님, 이 주소가 본인의 것인지 확인해 주세요."),
                            format!("API: {api}"),
                        ],
                        link,
                        "이메일 인증하기",
                    ),
                }
            }
            Mail::PasswordReset { token } => {
                let link = fill(&links.password_reset, token);
                let api = format!("PUT {base}/users/v1/member/password/reset/{token}");
                match default {
                    Language::En => (
                        "Reset your password".to_owned(),
                        vec![
                            "Somebody asked to reset the password of the account with this \
                             address. If it was not you, ignore this message."
                                .to_owned(),
                            format!("API: {api}."),
                        ],
                        link,
                        "Choose a new password",
                    ),
                    Language::Ko => (
                        "비밀번호 재설정".to_owned(),
                        vec![
                            "이 주소의 계정에 대해 비밀번호 재설정이 요청되었습니다. \
                             본인이 요청하지 않았다면 이 메일을 무시하세요."
                                .to_owned(),
                            format!("API: {api}"),
                        ],
                        link,
                        "새 비밀번호 설정하기",
                    ),
                }
            }
        };
        let text = format!("{}\n\n{action}: {link}\n", lines.join("\n\n"));
        let html = html_page(&lines, &link, action, default_or(self, default));
        Rendered {
            to: to.to_owned(),
            subject,
            text,
            html,
        }
    }
}

/// The language a message is written in (for the HTML `lang` attribute).
fn default_or(mail: &Mail<'_>, default: Language) -> Language {
    match mail {
        Mail::Invitation { org_language, .. } => {
            org_language.and_then(Language::parse).unwrap_or(default)
        }
        _ => default,
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

impl Core {
    /// Renders and encrypts an e-mail. Done before the transaction that queues it, so that the
    /// single writer is held for the statements only. `org_id`: the organization whose owners
    /// may see the message and re-queue it.
    pub fn seal_mail(&self, to: &str, org_id: Option<&str>, mail: Mail<'_>) -> CoreResult<Sealed> {
        let purpose = mail.purpose();
        let rendered = mail.render(to, &self.settings.links, self.settings.mail_language);
        let id = self.new_id();
        let payload = serde_json::to_vec(&rendered).map_err(anyhow::Error::from)?;
        let payload = self.crypto.encrypt(&id, &payload);
        Ok(Sealed {
            id,
            kind: KIND_EMAIL,
            purpose: purpose.to_owned(),
            org_id: org_id.map(str::to_owned),
            recipient: super::email::normalize(to),
            payload,
        })
    }

    /// Queues a person's own e-mail (verification, password reset) in the caller's transaction.
    pub async fn queue_mail(&self, tx: &mut WriteTx, to: &str, mail: Mail<'_>) -> CoreResult<()> {
        let sealed = self.seal_mail(to, None, mail)?;
        self.queue(tx, &[sealed]).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invitation(org_language: Option<&'static str>) -> Mail<'static> {
        Mail::Invitation {
            org_name: "<Acme>",
            org_language,
            inviter_name: Some("Kim"),
            role: "DEVELOPER",
            expires_at: "2026-12-21T00:00:00.000Z",
            token: "TOKEN",
        }
    }

    #[test]
    fn invitation_mail_carries_the_link_and_escapes_names() {
        let r = invitation(None).render("a@b.co", &Links::under("http://x/"), Language::En);
        assert!(r.text.contains("http://x/invitations/TOKEN"));
        assert!(r.html.contains("&lt;Acme&gt;") && !r.html.contains("<Acme>"));
        assert!(r.html.contains("lang=\"en\""));
        assert_eq!(r.subject, "You are invited to join <Acme>");
    }

    #[test]
    fn an_organization_in_korean_invites_in_korean_whatever_the_default() {
        let r = invitation(Some("ko")).render("a@b.co", &Links::under("http://x"), Language::En);
        assert_eq!(r.subject, "<Acme>에 초대되었습니다");
        assert!(
            r.text
                .contains("Kim님이 <Acme>에 DEVELOPER 역할로 초대했습니다.")
        );
        assert!(r.html.contains("lang=\"ko\"") && r.html.contains("초대 확인하기"));
        let en = invitation(Some("en")).render("a@b.co", &Links::under("http://x"), Language::Ko);
        assert_eq!(en.subject, "You are invited to join <Acme>");
    }

    #[test]
    fn links_follow_the_configured_templates() {
        let links = Links {
            invitation: "https://app.example.com/join?invite={token}".into(),
            ..Links::under("https://usher.example.com")
        };
        let r = invitation(None).render("a@b.co", &links, Language::En);
        assert!(
            r.text
                .contains("Open the invitation: https://app.example.com/join?invite=TOKEN")
        );
        assert!(
            r.text
                .contains("POST https://usher.example.com/users/v1/signup/invitations/TOKEN")
        );
        let reset = Mail::PasswordReset { token: "T2" }.render("a@b.co", &links, Language::Ko);
        assert_eq!(reset.subject, "비밀번호 재설정");
        assert!(
            reset
                .text
                .contains("https://usher.example.com/password-reset/T2")
        );
    }
}
