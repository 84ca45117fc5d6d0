//! The HMAC replay guard: a (key, signature) pair accepted once is refused until its date has
//! left the acceptance window. On SQLite one process serves the database, so the guard lives in
//! its memory; on PostgreSQL several instances may serve one database, so it lives there and a
//! signature accepted by one instance is refused by all.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::store::{Backend, Db, guards};

pub enum ReplayGuard {
    Memory(ReplayCache),
    Shared(Db),
}

impl ReplayGuard {
    pub fn for_db(db: &Db) -> ReplayGuard {
        match db.backend {
            Backend::Sqlite => ReplayGuard::Memory(ReplayCache::default()),
            Backend::Postgres => ReplayGuard::Shared(db.clone()),
        }
    }

    /// Records the pair until `expires_at` (unix seconds). False if it was already there and
    /// still live: a replay.
    pub async fn first_use(
        &self,
        key_id: &str,
        signature: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<bool, sqlx::Error> {
        let digest = entry_digest(key_id, signature);
        match self {
            ReplayGuard::Memory(cache) => Ok(cache.first_use(digest, now, expires_at)),
            ReplayGuard::Shared(db) => {
                let mut conn = db.relaxed().await?;
                guards::first_use(&mut conn, &hex::encode(digest), now, expires_at).await
            }
        }
    }
}

/// 16 bytes of SHA-256 over the key and the signature (hex case folded, so `ABC` replays `abc`):
/// entries stay small and never hold the signature itself.
fn entry_digest(key_id: &str, signature: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(key_id.as_bytes());
    h.update([0]);
    h.update(signature.to_ascii_lowercase().as_bytes());
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

const SHARDS: usize = 16;

/// Sharded so that concurrent requests rarely contend; entries are 16-byte digests, not the
/// signatures themselves, so the cache stays small (≈ 40 bytes an entry).
pub struct ReplayCache {
    shards: Vec<Mutex<Shard>>,
}

#[derive(Default)]
struct Shard {
    seen: HashMap<[u8; 16], i64>,
    inserts_since_sweep: usize,
}

impl Default for ReplayCache {
    fn default() -> Self {
        ReplayCache {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

impl ReplayCache {
    /// Records the entry until `expires_at` (unix seconds). False if it was already there and
    /// still live: a replay.
    pub fn first_use(&self, k: [u8; 16], now: i64, expires_at: i64) -> bool {
        let mut shard = self.shards[k[0] as usize % SHARDS]
            .lock()
            .expect("replay shard lock");
        if let Some(&exp) = shard.seen.get(&k)
            && exp > now
        {
            return false;
        }
        shard.seen.insert(k, expires_at);
        shard.inserts_since_sweep += 1;
        if shard.inserts_since_sweep >= 4096 {
            shard.seen.retain(|_, exp| *exp > now);
            shard.inserts_since_sweep = 0;
        }
        true
    }

    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().expect("replay shard lock").seen.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_is_accepted_once_per_key_until_it_expires() {
        let c = ReplayCache::default();
        let seen = |key, sig, now, exp| c.first_use(entry_digest(key, sig), now, exp);
        assert!(seen("K", "abc", 100, 200));
        assert!(
            !seen("K", "ABC", 150, 250),
            "hex case does not make a new signature"
        );
        assert!(seen("OTHER", "abc", 150, 250), "keys are separate");
        assert!(
            seen("K", "abc", 200, 300),
            "an expired entry no longer blocks"
        );
    }
}
