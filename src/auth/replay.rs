//! The HMAC replay cache: a (key, signature) pair accepted once is refused until its date has
//! left the acceptance window. In memory, for one process; several instances on one database
//! need it shared (the PostgreSQL issue moves it there).

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

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
    /// Records the pair until `expires_at` (unix seconds). False if it was already there and
    /// still live: a replay.
    pub fn first_use(&self, key_id: &str, signature: &str, now: i64, expires_at: i64) -> bool {
        let mut h = Sha256::new();
        h.update(key_id.as_bytes());
        h.update([0]);
        h.update(signature.to_ascii_lowercase().as_bytes());
        let d = h.finalize();
        let mut k = [0u8; 16];
        k.copy_from_slice(&d[..16]);
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
        assert!(c.first_use("K", "abc", 100, 200));
        assert!(
            !c.first_use("K", "ABC", 150, 250),
            "hex case does not make a new signature"
        );
        assert!(c.first_use("OTHER", "abc", 150, 250), "keys are separate");
        assert!(
            c.first_use("K", "abc", 200, 300),
            "an expired entry no longer blocks"
        );
    }
}
