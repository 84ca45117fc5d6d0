//! Service accounts: OAuth2 clients of one organization, acting with roles of their own (Atlas'
//! recommended credential). A client secret is shown once, when minted, and kept only as a
//! keyed digest; so are the one-hour access tokens the token endpoint issues for it.

use serde_json::json;
use time::Duration;

use super::crypto::random_token;
use super::roles::{Permission, Roles};
use super::{Actor, Core, CoreError, CoreResult, KeyScope, ids, user_status};
use crate::store::{
    self,
    service_accounts::{SecretRow, ServiceAccountRow},
};

/// How long an access token lives (Atlas: one hour).
pub const TOKEN_TTL: Duration = Duration::hours(1);
/// The secret lifetimes an organization may choose (Atlas' organization setting bounds).
pub const SECRET_HOURS: std::ops::RangeInclusive<i64> = 8..=8760;

/// An account with its secrets (never their values).
#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub account: ServiceAccountRow,
    pub secrets: Vec<SecretRow>,
}

/// A secret just minted: the only time its value exists outside the client.
#[derive(Debug, Clone)]
pub struct NewSecret {
    pub row: SecretRow,
    pub value: String,
}

/// What may change on an account; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct AccountChange {
    pub name: Option<String>,
    pub description: Option<String>,
    pub roles: Option<Roles>,
}

fn check_text(field: &'static str, value: &str, max: usize) -> CoreResult<String> {
    let v = value.trim();
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            field,
            format!("at most {max} characters, no control characters"),
        ));
    }
    Ok(v.to_owned())
}

impl Core {
    async fn owner_of(&self, actor: &Actor, org_id: &str) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        access.require_active_org()
    }

    fn mint_secret(&self, client_id: &str, hours: i64) -> CoreResult<(NewSecret, String)> {
        if !SECRET_HOURS.contains(&hours) {
            return Err(CoreError::invalid(
                "secretExpiresAfterHours",
                format!(
                    "between {} and {} hours",
                    SECRET_HOURS.start(),
                    SECRET_HOURS.end()
                ),
            ));
        }
        let value = format!("mdb_sa_sk_{}", random_token());
        let masked = format!("mdb_sa_sk_{}{}", "*".repeat(39), &value[value.len() - 4..]);
        let row = SecretRow {
            id: self.new_id(),
            client_id: client_id.to_owned(),
            masked,
            created_at: self.now_ts(),
            expires_at: self.ts_in(Duration::hours(hours)),
            last_used_at: None,
        };
        let digest = self.crypto.token_digest(&value);
        Ok((NewSecret { row, value }, digest))
    }

    /// An owner creates an account and its first secret.
    pub async fn create_service_account(
        &self,
        actor: &Actor,
        org_id: &str,
        name: &str,
        description: &str,
        roles: Roles,
        secret_hours: i64,
    ) -> CoreResult<(ServiceAccount, NewSecret)> {
        self.owner_of(actor, org_id).await?;
        if roles.is_empty() {
            return Err(CoreError::invalid("roles", "at least one role is required"));
        }
        let now = self.now_ts();
        let account = ServiceAccountRow {
            client_id: format!("mdb_sa_id_{}", self.new_id()),
            org_id: org_id.to_owned(),
            name: check_text("name", name, 64)?,
            description: check_text("description", description, 250)?,
            roles: roles.to_stored(),
            created_at: now.clone(),
            updated_at: now,
        };
        let (secret, digest) = self.mint_secret(&account.client_id, secret_hours)?;
        let mut tx = self.db.begin().await?;
        store::service_accounts::insert(&mut *tx, &account).await?;
        store::service_accounts::insert_secret(&mut *tx, &secret.row, &digest).await?;
        let label = actor.audit_label();
        let details = json!({"roles": account.roles});
        self.audit(
            &mut tx,
            Some(&label),
            Some(org_id),
            "service_account.created",
            ("service_account", &account.client_id),
            details,
        )
        .await?;
        tx.commit().await?;
        let created = ServiceAccount {
            account,
            secrets: vec![secret.row.clone()],
        };
        Ok((created, secret))
    }

    /// The accounts of an organization, for its members.
    pub async fn service_accounts(
        &self,
        actor: &Actor,
        org_id: &str,
    ) -> CoreResult<Vec<ServiceAccount>> {
        actor.require_status(user_status::MAY_READ)?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        let accounts = store::service_accounts::of_org(self.db.read(), org_id).await?;
        let mut secrets = store::service_accounts::secrets_of_org(self.db.read(), org_id).await?;
        Ok(accounts
            .into_iter()
            .map(|account| {
                let mine = secrets
                    .extract_if(.., |s| s.client_id == account.client_id)
                    .collect();
                ServiceAccount {
                    account,
                    secrets: mine,
                }
            })
            .collect())
    }

    pub async fn service_account(
        &self,
        actor: &Actor,
        org_id: &str,
        client_id: &str,
    ) -> CoreResult<ServiceAccount> {
        self.service_accounts(actor, org_id)
            .await?
            .into_iter()
            .find(|a| a.account.client_id == client_id)
            .ok_or(CoreError::NotFound)
    }

    pub async fn update_service_account(
        &self,
        actor: &Actor,
        org_id: &str,
        client_id: &str,
        change: AccountChange,
    ) -> CoreResult<ServiceAccount> {
        self.owner_of(actor, org_id).await?;
        let mut current = self
            .service_account(actor, org_id, client_id)
            .await?
            .account;
        if let Some(n) = &change.name {
            current.name = check_text("name", n, 64)?;
        }
        if let Some(d) = &change.description {
            current.description = check_text("description", d, 250)?;
        }
        if let Some(r) = &change.roles {
            if r.is_empty() {
                return Err(CoreError::invalid("roles", "at least one role is required"));
            }
            current.roles = r.to_stored();
        }
        current.updated_at = self.now_ts();
        let mut tx = self.db.begin().await?;
        store::service_accounts::update(&mut *tx, &current).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "service_account.updated",
            ("service_account", client_id),
            json!({"roles": current.roles}),
        )
        .await?;
        tx.commit().await?;
        self.service_account(actor, org_id, client_id).await
    }

    /// Deletes an account; its secrets and tokens go with it, at once.
    pub async fn delete_service_account(
        &self,
        actor: &Actor,
        org_id: &str,
        client_id: &str,
    ) -> CoreResult<()> {
        self.owner_of(actor, org_id).await?;
        self.service_account(actor, org_id, client_id).await?;
        let mut tx = self.db.begin().await?;
        store::service_accounts::delete(&mut *tx, client_id).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "service_account.deleted",
            ("service_account", client_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn create_service_account_secret(
        &self,
        actor: &Actor,
        org_id: &str,
        client_id: &str,
        hours: i64,
    ) -> CoreResult<NewSecret> {
        self.owner_of(actor, org_id).await?;
        self.service_account(actor, org_id, client_id).await?;
        let (secret, digest) = self.mint_secret(client_id, hours)?;
        let mut tx = self.db.begin().await?;
        store::service_accounts::insert_secret(&mut *tx, &secret.row, &digest).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "service_account.secret_created",
            ("service_account", client_id),
            json!({"secret": secret.row.id}),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    pub async fn delete_service_account_secret(
        &self,
        actor: &Actor,
        org_id: &str,
        client_id: &str,
        secret_id: &str,
    ) -> CoreResult<()> {
        self.owner_of(actor, org_id).await?;
        self.service_account(actor, org_id, client_id).await?;
        if !ids::is_id(secret_id) {
            return Err(CoreError::NotFound);
        }
        let mut tx = self.db.begin().await?;
        if !store::service_accounts::delete_secret(&mut *tx, client_id, secret_id).await? {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "service_account.secret_deleted",
            ("service_account", client_id),
            json!({"secret": secret_id}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The client-credentials grant: a live secret of `client_id` buys a one-hour access token.
    /// Wrong ids and secrets answer `BadCredentials`, alike.
    pub async fn issue_access_token(
        &self,
        client_id: &str,
        secret: &str,
    ) -> CoreResult<(String, Duration)> {
        let now = self.now_ts();
        let digest = self.crypto.token_digest(secret);
        let mut tx = self.db.begin().await?;
        if !store::service_accounts::use_secret(&mut *tx, client_id, &digest, &now).await? {
            return Err(CoreError::BadCredentials);
        }
        let token = random_token();
        let expires_at = self.ts_in(TOKEN_TTL);
        store::service_accounts::insert_token(
            &mut *tx,
            &self.crypto.token_digest(&token),
            client_id,
            &now,
            &expires_at,
        )
        .await?;
        tx.commit().await?;
        Ok((token, TOKEN_TTL))
    }

    /// Revokes `token` if `client_id` holds it (RFC 7009: unknown tokens are not an error).
    pub async fn revoke_access_token(
        &self,
        client_id: &str,
        secret: &str,
        token: &str,
    ) -> CoreResult<()> {
        let now = self.now_ts();
        let mut tx = self.db.begin().await?;
        let digest = self.crypto.token_digest(secret);
        if !store::service_accounts::use_secret(&mut *tx, client_id, &digest, &now).await? {
            return Err(CoreError::BadCredentials);
        }
        let token_digest = self.crypto.token_digest(token);
        store::service_accounts::delete_token(&mut *tx, &token_digest, client_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account an access token stands for, acting like an organization's own key.
    pub async fn actor_for_access_token(&self, token: &str) -> CoreResult<Option<Actor>> {
        let digest = self.crypto.token_digest(token);
        let account =
            store::service_accounts::token_account(self.db.read(), &digest, &self.now_ts()).await?;
        Ok(account.map(|a| Actor {
            user: None,
            key: Some(KeyScope {
                key_id: a.client_id,
                org_id: a.org_id,
                roles: Roles::from_stored(&a.roles),
                access_list: Vec::new(),
            }),
            resolved: None,
        }))
    }
}
