//! People: open sign-up, profile, e-mail verification, password reset, sessions.

use serde_json::json;
use sqlx::AnyConnection;

use super::accounts::{OrgDetail, check_name, default_org_name};
use super::crypto::random_token;
use super::email::Email;
use super::error::unique_as;
use super::mail::Mail;
use super::{Actor, Conflict, Core, CoreError, CoreResult, user_status};
use crate::store::{self, WriteTx, rows::UserRow};

pub const PURPOSE_RESET: &str = "PASSWORD_RESET";
pub const PURPOSE_VERIFY: &str = "EMAIL_VERIFICATION";

/// A new session's secret; shown once.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub token: String,
    pub expires_at: String,
    pub user: UserRow,
}

/// Answer to a reset request: the same shape whether or not the address has an account.
#[derive(Debug, Clone)]
pub struct ResetRequested {
    pub id: String,
    pub email: String,
    pub created_at: String,
}

/// Profile changes (SOLAPI #6–#9); `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct ProfileChange {
    pub name: Option<String>,
    pub email: Option<String>,
    pub selected_org_id: Option<String>,
    pub phone_number: Option<String>,
    pub extra_phone_number: Option<String>,
}

/// Korean-style phone numbers as SOLAPI takes them: digits only, 8 to 15 of them.
fn check_phone(raw: &str) -> CoreResult<String> {
    let s: String = raw.chars().filter(|c| *c != '-').collect();
    if (8..=15).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s)
    } else {
        Err(CoreError::invalid("phoneNumber", "must be 8 to 15 digits"))
    }
}

impl Core {
    pub fn check_new_password(&self, password: &str, confirmation: &str) -> CoreResult<()> {
        self.settings.password_policy.check(password)?;
        if password != confirmation {
            return Err(CoreError::invalid(
                "passwordConfirmation",
                "does not match password",
            ));
        }
        Ok(())
    }

    /// Queues a verification e-mail for `email` in the caller's transaction.
    pub(crate) async fn issue_verification(
        &self,
        tx: &mut WriteTx,
        user_id: &str,
        email: &str,
        name: &str,
    ) -> CoreResult<()> {
        let token = self
            .insert_user_token(tx, user_id, PURPOSE_VERIFY, email)
            .await?;
        self.queue_mail(
            tx,
            email,
            Mail::Verification {
                name,
                token: &token,
            },
        )
        .await
    }

    async fn insert_user_token(
        &self,
        conn: &mut AnyConnection,
        user_id: &str,
        purpose: &str,
        email: &str,
    ) -> CoreResult<String> {
        let token = random_token();
        let t = store::users::NewUserToken {
            token_digest: &self.crypto.token_digest(&token),
            id: &self.new_id(),
            user_id,
            purpose,
            email,
            now: &self.now_ts(),
            expires_at: &self.ts_in(self.settings.token_ttl),
        };
        store::users::insert_token(&mut *conn, &t).await?;
        Ok(token)
    }

    /// SOLAPI #1: open sign-up (off unless configured). The person starts UNVERIFIED with an
    /// organization of their own, and gets a verification e-mail.
    pub async fn signup(
        &self,
        email: &str,
        password: &str,
        confirmation: &str,
        name: Option<&str>,
    ) -> CoreResult<(OrgDetail, UserRow)> {
        if !self.settings.signup_open {
            return Err(CoreError::SignupClosed);
        }
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        let name = match name {
            Some(n) => check_name("name", n)?,
            None => email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("member")
                .to_owned(),
        };
        self.check_new_password(password, confirmation)?;
        let hash = self.hasher.hash(password.to_owned()).await?;
        let user_id = self.new_id();
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        let new_user = store::users::NewUser {
            id: &user_id,
            email: email.as_str(),
            email_normalized: &email.normalized(),
            name: &name,
            password_hash: Some(&hash),
            status: user_status::UNVERIFIED,
            selected_org_id: None,
            now: &now,
        };
        unique_as(
            store::users::insert(&mut *tx, &new_user).await,
            Conflict::EmailTaken,
        )?;
        let actor = format!("user:{user_id}");
        self.audit(
            &mut tx,
            Some(&actor),
            None,
            "user.created",
            ("user", &user_id),
            json!({"via": "signup"}),
        )
        .await?;
        let org_id = self
            .insert_org_with_owner(&mut tx, &user_id, &name, &default_org_name(&name), &actor)
            .await?;
        let select = store::users::ProfileUpdate {
            selected_org_id: Some(&org_id),
            ..Default::default()
        };
        store::users::update(&mut *tx, &user_id, &select, &now).await?;
        self.issue_verification(&mut tx, &user_id, email.as_str(), &name)
            .await?;
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        let user = store::users::by_id(self.db.read(), &user_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        Ok((self.org_detail(&org_id).await?, user))
    }

    /// SOLAPI #2: whether an e-mail is taken. Only while sign-up is open (then the sign-up form
    /// would tell anyway); the face rate-limits it.
    pub async fn email_exists(&self, email: &str) -> CoreResult<bool> {
        if !self.settings.signup_open {
            return Err(CoreError::SignupClosed);
        }
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        Ok(store::users::by_email(self.db.read(), &email.normalized())
            .await?
            .is_some())
    }

    /// The caller's own record, fresh from the database.
    pub async fn me(&self, actor: &Actor) -> CoreResult<UserRow> {
        actor.require_status(user_status::MAY_READ)?;
        let user = actor.person()?;
        store::users::by_id(self.db.read(), &user.id)
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// SOLAPI #6–#9. A new e-mail must be verified again: the member becomes UNVERIFIED and a
    /// verification e-mail goes to the new address.
    pub async fn update_profile(
        &self,
        actor: &Actor,
        change: &ProfileChange,
    ) -> CoreResult<UserRow> {
        // An unverified member may still correct their e-mail (a typo would otherwise lock them
        // out); everything else needs an ACTIVE member, as SOLAPI's table says.
        let email_only = change.name.is_none()
            && change.selected_org_id.is_none()
            && change.phone_number.is_none()
            && change.extra_phone_number.is_none();
        if email_only && change.email.is_some() {
            actor.require_status(user_status::MAY_READ)?;
        } else {
            actor.require_status(&[user_status::ACTIVE])?;
        }
        let user = actor.person()?;
        let name = change
            .name
            .as_deref()
            .map(|n| check_name("name", n))
            .transpose()?;
        let email = change
            .email
            .as_deref()
            .map(|e| {
                Email::parse(e)
                    .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))
            })
            .transpose()?
            .filter(|e| e.normalized() != super::email::normalize(&user.email));
        let phone = change
            .phone_number
            .as_deref()
            .map(check_phone)
            .transpose()?;
        let extra = match change.extra_phone_number.as_deref() {
            Some(p) => {
                let p = check_phone(p)?;
                let mut list: Vec<String> =
                    serde_json::from_str(&user.extra_phone_numbers).unwrap_or_default();
                if !list.contains(&p) {
                    if list.len() >= 10 {
                        return Err(CoreError::invalid(
                            "phoneNumber",
                            "at most 10 extra phone numbers",
                        ));
                    }
                    list.push(p);
                }
                Some(serde_json::to_string(&list).map_err(anyhow::Error::from)?)
            }
            None => None,
        };
        if let Some(org) = &change.selected_org_id {
            self.access(actor, org).await?;
        }
        let normalized = email.as_ref().map(Email::normalized);
        let update = store::users::ProfileUpdate {
            name: name.as_deref(),
            email: email
                .as_ref()
                .zip(normalized.as_deref())
                .map(|(e, n)| (e.as_str(), n)),
            status: email.as_ref().map(|_| user_status::UNVERIFIED),
            phone_number: phone.as_deref(),
            extra_phone_numbers: extra.as_deref(),
            selected_org_id: change.selected_org_id.as_deref(),
            password_hash: None,
        };
        let mut tx = self.db.begin().await?;
        unique_as(
            store::users::update(&mut *tx, &user.id, &update, &self.now_ts()).await,
            Conflict::EmailTaken,
        )?;
        let fields: Vec<&str> = [
            name.as_ref().map(|_| "name"),
            email.as_ref().map(|_| "email"),
            phone.as_ref().map(|_| "phoneNumber"),
            extra.as_ref().map(|_| "extraPhoneNumbers"),
            change.selected_org_id.as_ref().map(|_| "selectedAccountId"),
        ]
        .into_iter()
        .flatten()
        .collect();
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            None,
            "user.updated",
            ("user", &user.id),
            json!({"fields": fields}),
        )
        .await?;
        if let Some(e) = &email {
            let display = name.as_deref().unwrap_or(&user.name);
            self.issue_verification(&mut tx, &user.id, e.as_str(), display)
                .await?;
        }
        let updated = store::users::by_id(&mut *tx, &user.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        if email.is_some() {
            self.outbox_wakeup.notify_one();
        }
        Ok(updated)
    }

    /// SOLAPI #10: a dormant (INACTIVE) member reactivates.
    pub async fn activate_member(&self, actor: &Actor) -> CoreResult<UserRow> {
        let user = actor.person()?;
        if user.status != user_status::INACTIVE {
            return Err(CoreError::Conflict(Conflict::WrongState));
        }
        self.set_status(actor, &user.id, user_status::ACTIVE, "user.activated")
            .await
    }

    async fn set_status(
        &self,
        actor: &Actor,
        user_id: &str,
        status: &str,
        action: &str,
    ) -> CoreResult<UserRow> {
        let mut tx = self.db.begin().await?;
        let update = store::users::ProfileUpdate {
            status: Some(status),
            ..Default::default()
        };
        store::users::update(&mut *tx, user_id, &update, &self.now_ts()).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            None,
            action,
            ("user", user_id),
            json!({}),
        )
        .await?;
        let row = store::users::by_id(&mut *tx, user_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Confirms an e-mail address with the token from the verification e-mail.
    pub async fn verify_email(&self, token: &str) -> CoreResult<UserRow> {
        let mut tx = self.db.begin().await?;
        let digest = self.crypto.token_digest(token);
        let claimed = store::users::claim_token(&mut *tx, &digest, PURPOSE_VERIFY, &self.now_ts())
            .await?
            .ok_or(CoreError::NotFound)?;
        let user = store::users::by_id(&mut *tx, &claimed.user_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        // A token for an address the user has since changed away from proves nothing.
        if super::email::normalize(&user.email) != super::email::normalize(&claimed.email) {
            return Err(CoreError::NotFound);
        }
        if user.status == user_status::UNVERIFIED {
            let update = store::users::ProfileUpdate {
                status: Some(user_status::ACTIVE),
                ..Default::default()
            };
            store::users::update(&mut *tx, &user.id, &update, &self.now_ts()).await?;
        }
        let label = format!("user:{}", user.id);
        self.audit(
            &mut tx,
            Some(&label),
            None,
            "user.verified",
            ("user", &user.id),
            json!({}),
        )
        .await?;
        let row = store::users::by_id(&mut *tx, &user.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// SOLAPI #11: sends a reset link if the address has an account. The answer is the same
    /// either way, so it cannot be used to find out who has an account.
    pub async fn request_password_reset(&self, email: &str) -> CoreResult<ResetRequested> {
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        let answer = ResetRequested {
            id: self.new_id(),
            email: email.as_str().to_owned(),
            created_at: self.now_ts(),
        };
        let Some(user) = store::users::by_email(self.db.read(), &email.normalized()).await? else {
            return Ok(answer);
        };
        let mut tx = self.db.begin().await?;
        let token = self
            .insert_user_token(&mut tx, &user.id, PURPOSE_RESET, &user.email)
            .await?;
        self.queue_mail(&mut tx, &user.email, Mail::PasswordReset { token: &token })
            .await?;
        self.audit(
            &mut tx,
            None,
            None,
            "user.password_reset_requested",
            ("user", &user.id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        self.outbox_wakeup.notify_one();
        Ok(answer)
    }

    /// SOLAPI #12: sets a new password with the e-mailed token; every session ends.
    pub async fn reset_password(
        &self,
        token: &str,
        password: &str,
        confirmation: &str,
    ) -> CoreResult<UserRow> {
        self.check_new_password(password, confirmation)?;
        let hash = self.hasher.hash(password.to_owned()).await?;
        let mut tx = self.db.begin().await?;
        let digest = self.crypto.token_digest(token);
        let claimed = store::users::claim_token(&mut *tx, &digest, PURPOSE_RESET, &self.now_ts())
            .await?
            .ok_or(CoreError::NotFound)?;
        let update = store::users::ProfileUpdate {
            password_hash: Some(&hash),
            ..Default::default()
        };
        store::users::update(&mut *tx, &claimed.user_id, &update, &self.now_ts()).await?;
        store::users::delete_sessions_of(&mut *tx, &claimed.user_id).await?;
        let label = format!("user:{}", claimed.user_id);
        self.audit(
            &mut tx,
            Some(&label),
            None,
            "user.password_reset",
            ("user", &claimed.user_id),
            json!({}),
        )
        .await?;
        let row = store::users::by_id(&mut *tx, &claimed.user_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok(row)
    }

    /// Signs a person in. Unknown e-mail and wrong password cost the same and answer the same.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        ip: &str,
        device: &str,
    ) -> CoreResult<NewSession> {
        let normalized = super::email::normalize(email);
        let user = store::users::by_email(self.db.read(), &normalized).await?;
        let phc = user.as_ref().and_then(|u| u.password_hash.clone());
        if !self.hasher.verify(password.to_owned(), phc).await? {
            return Err(CoreError::BadCredentials);
        }
        let user = user.ok_or(CoreError::BadCredentials)?;
        self.open_session(user, ip, device).await
    }

    /// Starts a session for a person whose identity the caller has just established (a verified
    /// password, or a sign-up through an invitation's token).
    pub(crate) async fn open_session(
        &self,
        user: UserRow,
        ip: &str,
        device: &str,
    ) -> CoreResult<NewSession> {
        let token = random_token();
        let expires_at = self.ts_in(self.settings.session_ttl);
        let mut tx = self.db.begin().await?;
        let device: String = device.chars().take(200).collect();
        let session = store::users::NewSession {
            token_digest: &self.crypto.token_digest(&token),
            user_id: &user.id,
            ip_address: ip,
            device: &device,
            now: &self.now_ts(),
            expires_at: &expires_at,
        };
        store::users::insert_session(&mut *tx, &session).await?;
        let label = format!("user:{}", user.id);
        self.audit(
            &mut tx,
            Some(&label),
            None,
            "session.created",
            ("user", &user.id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(NewSession {
            token,
            expires_at,
            user,
        })
    }

    /// Ends the session holding `token`.
    pub async fn logout(&self, token: &str) -> CoreResult<()> {
        let mut tx = self.db.begin().await?;
        if let Some(user_id) =
            store::users::delete_session(&mut *tx, &self.crypto.token_digest(token)).await?
        {
            let label = format!("user:{user_id}");
            self.audit(
                &mut tx,
                Some(&label),
                None,
                "session.ended",
                ("user", &user_id),
                json!({}),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
