//! Authentication: Authorization headers → [`Actor`]. Schemes: SOLAPI HMAC API keys, HTTP
//! Digest API keys (the Atlas face), and bearer session tokens. Nothing here decides what an
//! actor may do; that is the core's table.

pub mod digest;
pub mod hmac;
pub mod replay;

use std::sync::Arc;

use time::Duration;

use crate::core::credentials::{ACTOR_CACHE_TTL, ActiveKey, ActorCache, KEY_CACHE_TTL, KeyCache};
use crate::core::{Actor, Core, CoreError};

/// Why a request is not authenticated; the faces name these in their dialects.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("authorization header is missing")]
    Missing,
    #[error("authorization header is malformed: {0}")]
    Malformed(&'static str),
    #[error("unknown API key")]
    InvalidApiKey,
    #[error("signature does not match")]
    SignatureDoesNotMatch,
    #[error("request date is outside the accepted window")]
    RequestTimeTooSkewed,
    #[error("signature was already used")]
    DuplicatedSignature,
    #[error("session token is unknown or expired")]
    InvalidToken,
    /// A Digest nonce this server issued, past its lifetime: retry with a fresh one.
    #[error("digest nonce is stale")]
    StaleNonce,
    #[error(transparent)]
    Internal(anyhow::Error),
}

impl From<CoreError> for AuthError {
    fn from(e: CoreError) -> Self {
        AuthError::Internal(anyhow::anyhow!(e))
    }
}

/// Signature-window policy of the HMAC scheme.
#[derive(Debug, Clone, Copy)]
pub struct HmacWindow {
    /// How old a signed date may be (SOLAPI: 15 minutes).
    pub past: Duration,
    /// How far in the future a signed date may be. SOLAPI documents 15 minutes, but its official
    /// PHP SDK sends Seoul wall-clock time labelled `Z` (≈ 9 h ahead), so the default is wider.
    pub future: Duration,
}

pub struct Authenticator {
    core: Arc<Core>,
    pub keys: KeyCache,
    actors: ActorCache,
    replay: replay::ReplayGuard,
    window: HmacWindow,
}

fn scheme_is(value: &str, scheme: &str) -> bool {
    value.len() > scheme.len()
        && value.as_bytes()[scheme.len()] == b' '
        && value[..scheme.len()].eq_ignore_ascii_case(scheme)
}

impl Authenticator {
    pub fn new(core: Arc<Core>, window: HmacWindow) -> Self {
        let replay = replay::ReplayGuard::for_db(&core.db);
        Authenticator {
            core,
            keys: KeyCache::new(KEY_CACHE_TTL),
            actors: ActorCache::new(ACTOR_CACHE_TTL),
            replay,
            window,
        }
    }

    /// Authenticates one request from its Authorization header.
    pub async fn authenticate(&self, header: Option<&[u8]>) -> Result<Actor, AuthError> {
        let raw = header.ok_or(AuthError::Missing)?;
        let value = std::str::from_utf8(raw)
            .map_err(|_| AuthError::Malformed("not UTF-8"))?
            .trim();
        if scheme_is(value, "bearer") {
            // A person's session, or a service account's access token.
            let token = value[7..].trim();
            if let Some(actor) = self.core.actor_for_session(token).await? {
                return Ok(actor);
            }
            return self
                .core
                .actor_for_access_token(token)
                .await?
                .ok_or(AuthError::InvalidToken);
        }
        match hmac::parse(value) {
            Ok(h) => self.authenticate_hmac(&h).await,
            Err(hmac::ParseError::NotHmac) => Err(AuthError::Malformed(
                "unsupported scheme; use HMAC-SHA256 or Bearer",
            )),
            Err(hmac::ParseError::MissingParameter(_)) => {
                Err(AuthError::Malformed("missing HMAC parameter"))
            }
            Err(hmac::ParseError::DuplicateParameter(_)) => {
                Err(AuthError::Malformed("repeated HMAC parameter"))
            }
            Err(hmac::ParseError::Malformed) => {
                Err(AuthError::Malformed("malformed HMAC parameters"))
            }
        }
    }

    /// The Atlas face's schemes: `Digest` (API key id and secret) and `Bearer`. `uri` is the
    /// request target as sent (path and query), which a Digest response covers.
    pub async fn authenticate_atlas(
        &self,
        method: &str,
        uri: &str,
        header: Option<&[u8]>,
    ) -> Result<Actor, AuthError> {
        let raw = header.ok_or(AuthError::Missing)?;
        let value = std::str::from_utf8(raw)
            .map_err(|_| AuthError::Malformed("not UTF-8"))?
            .trim();
        if scheme_is(value, "bearer") {
            return self.authenticate(Some(raw)).await;
        }
        let c = digest::parse(value).map_err(|e| match e {
            digest::ParseError::NotDigest => {
                AuthError::Malformed("unsupported scheme; use Digest or Bearer")
            }
            _ => AuthError::Malformed("malformed Digest parameters"),
        })?;
        let now = self.core.clock.now().unix_timestamp();
        let expires = match digest::check_nonce(&self.core.crypto, c.nonce, now) {
            digest::NonceCheck::Fresh(expires) => expires,
            digest::NonceCheck::Stale => return Err(AuthError::StaleNonce),
            digest::NonceCheck::Forged => return Err(AuthError::SignatureDoesNotMatch),
        };
        let key = self
            .core
            .active_key(&self.keys, c.username)
            .await?
            .ok_or(AuthError::InvalidApiKey)?;
        digest::verify(&c, method, uri, &key.secret)
            .map_err(|_| AuthError::SignatureDoesNotMatch)?;
        let once = format!(
            "digest:{}:{}:{}",
            c.nonce,
            c.nc.unwrap_or(""),
            c.cnonce.unwrap_or("")
        );
        self.first_use_then_actor(&key, &once, now, expires).await
    }

    /// Records `entry` (a signature, a Digest answer) as used until `expires`, refusing a
    /// replay, then resolves who the key acts as.
    async fn first_use_then_actor(
        &self,
        key: &ActiveKey,
        entry: &str,
        now: i64,
        expires: i64,
    ) -> Result<Actor, AuthError> {
        if !self
            .replay
            .first_use(&key.id, entry, now, expires)
            .await
            .map_err(|e| AuthError::Internal(e.into()))?
        {
            return Err(AuthError::DuplicatedSignature);
        }
        self.core
            .actor_for_key(&self.actors, key)
            .await?
            .ok_or(AuthError::InvalidApiKey)
    }

    /// Check order: key → date window → signature → replay (the entry is recorded only after
    /// the signature verified, so garbage cannot fill the cache).
    async fn authenticate_hmac(&self, h: &hmac::HmacHeader<'_>) -> Result<Actor, AuthError> {
        let key = self
            .core
            .active_key(&self.keys, h.api_key)
            .await?
            .ok_or(AuthError::InvalidApiKey)?;
        let date = hmac::parse_date(h.date)
            .ok_or(AuthError::Malformed("date is not an ISO 8601 date-time"))?;
        let now = self.core.clock.now();
        if date < now - self.window.past || date > now + self.window.future {
            return Err(AuthError::RequestTimeTooSkewed);
        }
        if !hmac::verify(h.algorithm, &key.secret, h.date, h.salt, h.signature) {
            return Err(AuthError::SignatureDoesNotMatch);
        }
        let expires = (date + self.window.past).unix_timestamp();
        self.first_use_then_actor(&key, h.signature, now.unix_timestamp(), expires)
            .await
    }
}
