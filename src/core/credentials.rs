//! Credentials: API keys (public id + secret, the secret encrypted at rest because HMAC and
//! Digest need it), session lookup, and the administrator's set-up operations.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration as StdDuration, Instant};

use serde_json::json;

use super::email::Email;
use super::error::unique_as;
use super::roles::{Permission, Role, Roles};
use super::{Actor, Core, CoreError, CoreResult, KeyScope, ids, user_status};
use crate::store::{self, rows::ApiKeyRow, rows::UserRow};

/// A key as authentication needs it, secret decrypted. Cached briefly: key lookups are on every
/// signed request, and decrypting is cheap but a database round trip is not.
#[derive(Clone)]
pub struct ActiveKey {
    pub id: String,
    pub org_id: String,
    pub user_id: Option<String>,
    pub roles: Roles,
    pub secret: Vec<u8>,
}

impl std::fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActiveKey")
            .field("id", &self.id)
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

/// A small in-process cache of what authentication looks up on every request, keyed by key id.
///
/// An entry is used while it is younger than `ttl` and, where the caller passes one, while the
/// database's write generation ([`crate::store::Db::generation`]) has not moved since the entry
/// was read: any write transaction committed by this process invalidates it at once. Writes by
/// other processes (several instances on one database) are seen within `ttl`.
pub struct BriefCache<V> {
    ttl: StdDuration,
    entries: RwLock<HashMap<String, Entry<V>>>,
}

struct Entry<V> {
    value: V,
    at: Instant,
    generation: u64,
}

impl<V: Clone> BriefCache<V> {
    pub fn new(ttl: StdDuration) -> Self {
        BriefCache {
            ttl,
            entries: RwLock::default(),
        }
    }

    pub(crate) fn get(&self, id: &str, generation: u64) -> Option<V> {
        let map = self.entries.read().expect("cache lock");
        map.get(id)
            .filter(|e| e.generation == generation && e.at.elapsed() < self.ttl)
            .map(|e| e.value.clone())
    }

    pub(crate) fn put(&self, id: &str, value: V, generation: u64) {
        let mut map = self.entries.write().expect("cache lock");
        if map.len() > 100_000 {
            map.retain(|_, e| e.at.elapsed() < self.ttl);
        }
        let at = Instant::now();
        map.insert(
            id.to_owned(),
            Entry {
                value,
                at,
                generation,
            },
        );
    }

    pub fn forget(&self, id: &str) {
        self.entries.write().expect("cache lock").remove(id);
    }

    fn forget_where(&self, pred: impl Fn(&V) -> bool) {
        self.entries
            .write()
            .expect("cache lock")
            .retain(|_, e| !pred(&e.value));
    }
}

/// Keys by public id (`None`: no such key). Revocation through this process drops the entry at
/// once; keys do not follow the write generation, since nothing but revocation changes them.
pub type KeyCache = BriefCache<Option<ActiveKey>>;

/// How long other instances may go on trusting a revoked key.
pub const KEY_CACHE_TTL: StdDuration = StdDuration::from_secs(5);

impl KeyCache {
    /// Drops the cached keys a member held in an organization (they are deleted when they leave).
    pub fn forget_member(&self, org_id: &str, user_id: &str) {
        self.forget_where(|k| {
            k.as_ref()
                .is_some_and(|k| k.org_id == org_id && k.user_id.as_deref() == Some(user_id))
        });
    }
}

/// The actor a key stands for (its user and the user's access to the key's organization), by key
/// id. Bound to the write generation, so a role change, a removal or a suspension made through
/// this process applies to the very next request; made through another instance, within a second.
pub type ActorCache = BriefCache<Option<Actor>>;

pub const ACTOR_CACHE_TTL: StdDuration = StdDuration::from_secs(1);

/// How a new key's public and private parts look: SOLAPI's, or Atlas'.
#[derive(Debug, Clone, Copy)]
enum KeyShape {
    Solapi,
    Atlas,
}

fn check_key_description(description: &str) -> CoreResult<String> {
    let d = description.trim();
    if d.is_empty() || d.chars().count() > 250 || d.chars().any(char::is_control) {
        return Err(CoreError::invalid(
            "desc",
            "1 to 250 characters without control characters",
        ));
    }
    Ok(d.to_owned())
}

/// A freshly created key: the only time its secret is shown.
#[derive(Debug, Clone)]
pub struct CreatedKey {
    pub row: ApiKeyRow,
    pub secret: String,
}

/// What `usher admin bootstrap` made.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    pub user_id: String,
    pub email: String,
    pub password: String,
    pub org_id: String,
    pub api_key: String,
    pub api_secret: String,
}

/// A readable random password for first-run and CLI-made accounts (~119 bits).
fn generate_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let chunk = || {
        (0..5)
            .map(|_| ALPHABET[rand::random_range(0..ALPHABET.len())] as char)
            .collect::<String>()
    };
    [chunk(), chunk(), chunk(), chunk()].join("-")
}

impl Core {
    /// The key with this public id, if it exists (cached; see [`KeyCache`]).
    pub async fn active_key(&self, cache: &KeyCache, id: &str) -> CoreResult<Option<ActiveKey>> {
        if id.is_empty() || id.len() > 64 {
            return Ok(None);
        }
        if let Some(hit) = cache.get(id, 0) {
            return Ok(hit);
        }
        let key = match store::credentials::by_id(self.db.read(), id).await? {
            Some(row) => {
                let secret = self.crypto.decrypt(&row.id, &row.secret_encrypted)?;
                Some(ActiveKey {
                    id: row.id,
                    org_id: row.org_id,
                    user_id: row.user_id,
                    roles: Roles::from_stored(&row.roles),
                    secret,
                })
            }
            None => None,
        };
        cache.put(id, key.clone(), 0);
        Ok(key)
    }

    /// The actor an authenticated key stands for. A key that acts as its user stops working when
    /// the user does (deleted) — and, through [`Core::access`], when the user leaves the organization.
    pub async fn actor_for_key(
        &self,
        cache: &ActorCache,
        key: &ActiveKey,
    ) -> CoreResult<Option<Actor>> {
        // Read the generation before the database: a write committed after this point makes the
        // entry stale even if the read below already saw the state before it.
        let generation = self.db.generation();
        if let Some(hit) = cache.get(&key.id, generation) {
            return Ok(hit);
        }
        let actor = self.load_actor_for_key(key).await?;
        cache.put(&key.id, actor.clone(), generation);
        Ok(actor)
    }

    async fn load_actor_for_key(&self, key: &ActiveKey) -> CoreResult<Option<Actor>> {
        let scope = KeyScope {
            key_id: key.id.clone(),
            org_id: key.org_id.clone(),
            roles: key.roles.clone(),
            access_list: self.access_networks(&key.id).await?,
        };
        let Some(uid) = &key.user_id else {
            return Ok(Some(Actor {
                user: None,
                key: Some(scope),
                resolved: None,
            }));
        };
        let Some(row) = store::orgs::user_with_access(self.db.read(), uid, &key.org_id).await?
        else {
            return Ok(None);
        };
        if row.user.status == "DELETED" {
            return Ok(None);
        }
        let resolved = match (row.roles, row.org_status, row.org_name) {
            (Some(roles), Some(org_status), Some(org_name)) => Some(super::Access {
                org_id: key.org_id.clone(),
                roles: Roles::from_stored(&roles),
                org_status,
                org_name,
                org_language: row.org_language,
            }),
            _ => None,
        };
        Ok(Some(Actor {
            user: Some(row.user),
            key: Some(scope),
            resolved,
        }))
    }

    /// The person behind a live session token.
    pub async fn actor_for_session(&self, token: &str) -> CoreResult<Option<Actor>> {
        let digest = self.crypto.token_digest(token);
        let Some(session) =
            store::users::live_session(self.db.read(), &digest, &self.now_ts()).await?
        else {
            return Ok(None);
        };
        let user = store::users::by_id(self.db.read(), &session.user_id).await?;
        Ok(user.filter(|u| u.status != "DELETED").map(|u| Actor {
            user: Some(u),
            key: None,
            resolved: None,
        }))
    }

    /// Login sessions of the caller (SOLAPI `loginSessions`).
    pub async fn sessions_of(&self, user_id: &str) -> CoreResult<Vec<store::rows::SessionRow>> {
        Ok(store::users::sessions_of(self.db.read(), user_id, &self.now_ts()).await?)
    }

    /// An owner or developer creates a key that acts as themselves in `org_id`.
    pub async fn create_api_key(
        &self,
        actor: &Actor,
        org_id: &str,
        description: &str,
    ) -> CoreResult<CreatedKey> {
        actor.require_status(&[user_status::ACTIVE])?;
        let user = actor.person()?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageCredentials)?;
        let description = description.trim();
        if description.chars().count() > 250 || description.chars().any(char::is_control) {
            return Err(CoreError::invalid(
                "description",
                "at most 250 characters without control characters",
            ));
        }
        self.insert_api_key(
            org_id,
            Some(&user.id),
            &Roles::default(),
            description,
            &actor.audit_label(),
            KeyShape::Solapi,
        )
        .await
    }

    /// An owner creates a programmatic key of the organization with roles of its own (Atlas):
    /// an 8-letter public key, a UUID private key shown once, and a 24-hex id.
    pub async fn create_org_api_key(
        &self,
        actor: &Actor,
        org_id: &str,
        description: &str,
        roles: Roles,
    ) -> CoreResult<CreatedKey> {
        actor.require_status(&[user_status::ACTIVE])?;
        let access = self.access(actor, org_id).await?;
        access.require(Permission::ManageOrganization)?;
        if roles.is_empty() {
            return Err(CoreError::invalid("roles", "at least one role is required"));
        }
        let description = check_key_description(description)?;
        self.insert_api_key(
            org_id,
            None,
            &roles,
            &description,
            &actor.audit_label(),
            KeyShape::Atlas,
        )
        .await
    }

    /// The organization's programmatic keys (those made through Atlas), for its members.
    pub async fn org_api_keys(&self, actor: &Actor, org_id: &str) -> CoreResult<Vec<ApiKeyRow>> {
        actor.require_status(user_status::MAY_READ)?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ReadOrganization)?;
        let mut keys = store::credentials::of_org(self.db.read(), org_id).await?;
        keys.retain(|k| k.atlas_id.is_some());
        Ok(keys)
    }

    pub async fn org_api_key(
        &self,
        actor: &Actor,
        org_id: &str,
        atlas_id: &str,
    ) -> CoreResult<ApiKeyRow> {
        self.org_api_keys(actor, org_id)
            .await?
            .into_iter()
            .find(|k| k.atlas_id.as_deref() == Some(atlas_id))
            .ok_or(CoreError::NotFound)
    }

    /// An owner changes a programmatic key's description or roles; `cache` forgets the key at
    /// once here (other instances within [`KEY_CACHE_TTL`]).
    pub async fn update_org_api_key(
        &self,
        actor: &Actor,
        cache: &KeyCache,
        org_id: &str,
        atlas_id: &str,
        description: Option<&str>,
        roles: Option<Roles>,
    ) -> CoreResult<ApiKeyRow> {
        let current = self.org_api_key(actor, org_id, atlas_id).await?;
        actor.require_status(&[user_status::ACTIVE])?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ManageOrganization)?;
        let description = match description {
            Some(d) => check_key_description(d)?,
            None => current.description.clone(),
        };
        let roles = match roles {
            Some(r) if r.is_empty() => {
                return Err(CoreError::invalid("roles", "at least one role is required"));
            }
            Some(r) => r.to_stored(),
            None => current.roles.clone(),
        };
        let mut tx = self.db.begin().await?;
        store::credentials::update_atlas_key(&mut *tx, &current.id, &description, &roles).await?;
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "api_key.updated",
            ("api_key", &current.id),
            json!({"roles": roles}),
        )
        .await?;
        tx.commit().await?;
        cache.forget(&current.id);
        self.org_api_key(actor, org_id, atlas_id).await
    }

    /// An owner deletes a programmatic key.
    pub async fn delete_org_api_key(
        &self,
        actor: &Actor,
        cache: &KeyCache,
        org_id: &str,
        atlas_id: &str,
    ) -> CoreResult<()> {
        let key = self.org_api_key(actor, org_id, atlas_id).await?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ManageOrganization)?;
        self.revoke_api_key(actor, cache, org_id, &key.id).await
    }

    async fn insert_api_key(
        &self,
        org_id: &str,
        user_id: Option<&str>,
        roles: &Roles,
        description: &str,
        actor: &str,
        shape: KeyShape,
    ) -> CoreResult<CreatedKey> {
        let (id, secret, atlas_id) = match shape {
            KeyShape::Solapi => (ids::new_api_key_id(), ids::new_api_secret(), None),
            KeyShape::Atlas => (
                ids::new_atlas_public_key(),
                ids::new_atlas_private_key(),
                Some(self.new_id()),
            ),
        };
        let sealed = self.crypto.encrypt(&id, secret.as_bytes());
        let roles_stored = roles.to_stored();
        let mut tx = self.db.begin().await?;
        let new = store::credentials::NewApiKey {
            id: &id,
            org_id,
            user_id,
            roles: &roles_stored,
            description,
            secret_encrypted: &sealed,
            created_by: Some(actor),
            now: &self.now_ts(),
            atlas_id: atlas_id.as_deref(),
        };
        store::credentials::insert(&mut *tx, &new).await?;
        self.audit(
            &mut tx,
            Some(actor),
            Some(org_id),
            "api_key.created",
            ("api_key", &id),
            json!({"user": user_id}),
        )
        .await?;
        let row = store::credentials::by_id(&mut *tx, &id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok(CreatedKey { row, secret })
    }

    pub async fn list_api_keys(&self, actor: &Actor, org_id: &str) -> CoreResult<Vec<ApiKeyRow>> {
        self.access(actor, org_id)
            .await?
            .require(Permission::ManageCredentials)?;
        Ok(store::credentials::of_org(self.db.read(), org_id).await?)
    }

    pub async fn revoke_api_key(
        &self,
        actor: &Actor,
        cache: &KeyCache,
        org_id: &str,
        key_id: &str,
    ) -> CoreResult<()> {
        actor.require_status(&[user_status::ACTIVE])?;
        self.access(actor, org_id)
            .await?
            .require(Permission::ManageCredentials)?;
        let mut tx = self.db.begin().await?;
        if store::credentials::delete(&mut *tx, org_id, key_id).await? == 0 {
            return Err(CoreError::NotFound);
        }
        self.audit(
            &mut tx,
            Some(&actor.audit_label()),
            Some(org_id),
            "api_key.revoked",
            ("api_key", key_id),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        cache.forget(key_id);
        Ok(())
    }

    // ---- administrator operations (CLI, first run): no actor, full trust ----

    /// Creates an ACTIVE user (the administrator vouches for the address).
    pub async fn admin_create_user(
        &self,
        email: &str,
        name: Option<&str>,
        password: Option<&str>,
    ) -> CoreResult<(UserRow, String)> {
        let email = Email::parse(email)
            .ok_or_else(|| CoreError::invalid("email", "must be a valid e-mail address"))?;
        let password = match password {
            Some(p) => {
                self.settings.password_policy.check(p)?;
                p.to_owned()
            }
            None => generate_password(),
        };
        let name = match name {
            Some(n) => super::accounts::check_name("name", n)?,
            None => email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("owner")
                .to_owned(),
        };
        let hash = self.hasher.hash(password.clone()).await?;
        let id = self.new_id();
        let mut tx = self.db.begin().await?;
        let new_user = store::users::NewUser {
            id: &id,
            email: email.as_str(),
            email_normalized: &email.normalized(),
            name: &name,
            password_hash: Some(&hash),
            status: user_status::ACTIVE,
            selected_org_id: None,
            now: &self.now_ts(),
        };
        unique_as(
            store::users::insert(&mut *tx, &new_user).await,
            super::Conflict::EmailTaken,
        )?;
        self.audit(
            &mut tx,
            Some("admin"),
            None,
            "user.created",
            ("user", &id),
            json!({"via": "admin"}),
        )
        .await?;
        let row = store::users::by_id(&mut *tx, &id)
            .await?
            .ok_or(CoreError::NotFound)?;
        tx.commit().await?;
        Ok((row, password))
    }

    /// Creates an organization owned by an existing user, and selects it for them if they had none.
    pub async fn admin_create_org(&self, name: &str, owner_email: &str) -> CoreResult<String> {
        let name = super::accounts::check_name("name", name)?;
        let owner = self.admin_user(owner_email).await?;
        let mut tx = self.db.begin().await?;
        let org_id = self
            .insert_org_with_owner(&mut tx, &owner.id, &owner.name, &name, "admin")
            .await?;
        if owner.selected_org_id.is_none() {
            let select = store::users::ProfileUpdate {
                selected_org_id: Some(&org_id),
                ..Default::default()
            };
            store::users::update(&mut *tx, &owner.id, &select, &self.now_ts()).await?;
        }
        tx.commit().await?;
        Ok(org_id)
    }

    pub async fn admin_add_member(&self, org_id: &str, email: &str, role: Role) -> CoreResult<()> {
        let user = self.admin_user(email).await?;
        store::orgs::by_id(self.db.read(), org_id)
            .await?
            .ok_or(CoreError::NotFound)?;
        let mut tx = self.db.begin().await?;
        unique_as(
            store::orgs::insert_membership(
                &mut *tx,
                org_id,
                &user.id,
                &user.name,
                role.as_str(),
                &self.now_ts(),
            )
            .await,
            super::Conflict::AlreadyMember,
        )?;
        self.audit(
            &mut tx,
            Some("admin"),
            Some(org_id),
            "membership.added",
            ("user", &user.id),
            json!({"roles": [role.as_str()]}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates a key acting as the member `email` of `org_id`.
    pub async fn admin_create_api_key(
        &self,
        org_id: &str,
        email: &str,
        description: &str,
    ) -> CoreResult<CreatedKey> {
        let user = self.admin_user(email).await?;
        store::orgs::access(self.db.read(), org_id, &user.id)
            .await?
            .ok_or(CoreError::NotFound)?;
        self.insert_api_key(
            org_id,
            Some(&user.id),
            &Roles::default(),
            description,
            "admin",
            KeyShape::Solapi,
        )
        .await
    }

    async fn admin_user(&self, email: &str) -> CoreResult<UserRow> {
        store::users::by_email(self.db.read(), &super::email::normalize(email))
            .await?
            .ok_or(CoreError::NotFound)
    }

    /// An owner, an organization and a key in one step (first run, scripts, tests).
    pub async fn bootstrap(
        &self,
        email: &str,
        password: Option<&str>,
        org_name: Option<&str>,
    ) -> CoreResult<Bootstrapped> {
        let (user, password) = self.admin_create_user(email, None, password).await?;
        let org_name = org_name
            .map(str::to_owned)
            .unwrap_or_else(|| super::accounts::default_org_name(&user.name));
        let org_id = self.admin_create_org(&org_name, &user.email).await?;
        let key = self
            .admin_create_api_key(&org_id, &user.email, "bootstrap")
            .await?;
        Ok(Bootstrapped {
            user_id: user.id,
            email: user.email,
            password,
            org_id,
            api_key: key.row.id,
            api_secret: key.secret,
        })
    }

    pub async fn user_count(&self) -> CoreResult<i64> {
        Ok(store::users::count(self.db.read()).await?)
    }
}
