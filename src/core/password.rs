//! Passwords: the NIST SP 800-63B policy, and Argon2id hashing that never runs on the async
//! workers (a bounded blocking pool, so 20 sign-ups at once cannot starve the API).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use base64::Engine;
use subtle::ConstantTimeEq;
use tokio::sync::{Semaphore, oneshot};

/// Django's list of the 20,000 most common passwords (BSD-3-Clause; see NOTICE), shipped in the
/// binary so that the check works offline.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub min_chars: usize,
    pub max_chars: usize,
}

/// Why a password was refused; each variant is a message people can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("password must be at least {0} characters")]
    TooShort(usize),
    #[error("password must be at most {0} characters")]
    TooLong(usize),
    #[error("password is too common; choose another")]
    Common,
}

impl Policy {
    /// Length counts Unicode code points (NIST); no composition rules; common passwords refused.
    pub fn check(&self, password: &str) -> Result<(), PolicyError> {
        let n = password.chars().count();
        if n < self.min_chars {
            return Err(PolicyError::TooShort(self.min_chars));
        }
        if n > self.max_chars {
            return Err(PolicyError::TooLong(self.max_chars));
        }
        if COMMON.contains(password) || COMMON.contains(password.to_lowercase().as_str()) {
            return Err(PolicyError::Common);
        }
        Ok(())
    }
}

/// Argon2id with the crate defaults (m=19456 KiB, t=2, p=1: OWASP's first choice), on a small
/// pool of dedicated threads — never on the async workers. Each thread keeps and reuses one
/// 19 MiB memory buffer: allocating it per hash made glibc keep every freed buffer in per-thread
/// arenas (RSS grew to ~900 MB under 20 concurrent sign-ups; docs/benchmarks.md).
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    jobs: std::sync::mpsc::Sender<Job>,
}

enum Job {
    Hash(String, oneshot::Sender<anyhow::Result<String>>),
    Verify(String, String, oneshot::Sender<bool>),
}

/// Verified against when the user does not exist, so that "no such user" costs the same time
/// (a hash of a random password nobody knows, with the default parameters).
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$3cHGZdTCiEz8JGN4aAaRnRNYRkgbCAjbS4uHCVcCtFk";

/// One hashing thread's state: its reusable Argon2 memory.
#[derive(Default)]
struct Scratch {
    blocks: Vec<Block>,
}

impl Scratch {
    fn memory(&mut self, params: &Params) -> &mut [Block] {
        let n = params.block_count();
        if self.blocks.len() < n {
            self.blocks.resize(n, Block::default());
        }
        &mut self.blocks[..n]
    }

    fn hash(&mut self, password: &[u8]) -> anyhow::Result<String> {
        let params = Params::DEFAULT;
        let mut salt = [0u8; 16];
        rand::fill(&mut salt);
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        argon
            .hash_password_into_with_memory(password, &salt, &mut out, self.memory(&params))
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let b64 = base64::engine::general_purpose::STANDARD_NO_PAD;
        Ok(format!(
            "$argon2id$v=19$m={},t={},p={}${}${}",
            params.m_cost(),
            params.t_cost(),
            params.p_cost(),
            b64.encode(salt),
            b64.encode(out)
        ))
    }

    /// Verifies against any Argon2 PHC string (its own parameters), in constant time.
    fn verify(&mut self, password: &[u8], phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Ok(params), Ok(algorithm)) = (
            Params::try_from(&parsed),
            Algorithm::try_from(parsed.algorithm.as_str()),
        ) else {
            return false;
        };
        let version = parsed
            .version
            .and_then(|v| Version::try_from(v).ok())
            .unwrap_or_default();
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return false;
        };
        let mut out = vec![0u8; expected.len()];
        let argon = Argon2::new(algorithm, version, params.clone());
        argon
            .hash_password_into_with_memory(password, salt.as_ref(), &mut out, self.memory(&params))
            .is_ok()
            && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
    }
}

impl Hasher {
    /// Starts `threads` hashing threads (at most that many hashes run at once).
    pub fn new(threads: usize) -> Self {
        let threads = threads.max(1);
        let (jobs, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("usher-hash-{i}"))
                .spawn(move || {
                    let mut scratch = Scratch::default();
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(Job::Hash(pw, reply)) => {
                                let _ = reply.send(scratch.hash(pw.as_bytes()));
                            }
                            Ok(Job::Verify(pw, phc, reply)) => {
                                let _ = reply.send(scratch.verify(pw.as_bytes(), &phc));
                            }
                            Err(_) => return, // every Hasher is gone
                        }
                    }
                })
                .expect("spawning a hashing thread");
        }
        Hasher {
            permits: Arc::new(Semaphore::new(threads)),
            jobs,
        }
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Hash(password, tx))
            .map_err(|_| anyhow::anyhow!("hashing threads stopped"))?;
        rx.await?
    }

    /// Verifies against `phc`, or against a dummy hash when there is none (same cost either way).
    pub async fn verify(&self, password: String, phc: Option<String>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let exists = phc.is_some();
        let (tx, rx) = oneshot::channel();
        let phc = phc.unwrap_or_else(|| DUMMY_HASH.to_owned());
        self.jobs
            .send(Job::Verify(password, phc, tx))
            .map_err(|_| anyhow::anyhow!("hashing threads stopped"))?;
        Ok(rx.await? && exists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        min_chars: 8,
        max_chars: 64,
    };

    #[test]
    fn the_policy_counts_code_points_and_refuses_common_passwords() {
        assert_eq!(POLICY.check("short"), Err(PolicyError::TooShort(8)));
        assert_eq!(POLICY.check(&"x".repeat(65)), Err(PolicyError::TooLong(64)));
        assert_eq!(POLICY.check("password"), Err(PolicyError::Common));
        assert_eq!(POLICY.check("PASSWORD1"), Err(PolicyError::Common));
        assert!(
            POLICY.check("비밀번호는길어요").is_ok(),
            "8 Hangul code points"
        );
        assert!(POLICY.check("correct horse battery staple").is_ok());
    }

    #[tokio::test]
    async fn hashes_verify_and_a_missing_hash_never_verifies() {
        let h = Hasher::new(2);
        let phc = h.hash("correct horse".into()).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            h.verify("correct horse".into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(!h.verify("wrong".into(), Some(phc)).await.unwrap());
        assert!(!h.verify("usher-dummy-password".into(), None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crate_both_ways() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let h = Hasher::new(1);
        let ours = h.hash("interop passphrase".into()).await.unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"interop passphrase", ours.as_str())
                .is_ok()
        );
        let theirs = Argon2::default()
            .hash_password(b"interop passphrase")
            .unwrap()
            .to_string();
        assert!(
            h.verify("interop passphrase".into(), Some(theirs))
                .await
                .unwrap()
        );
        assert!(
            !h.verify("anything".into(), Some("not a phc string".into()))
                .await
                .unwrap()
        );
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_costs() {
        let parsed = PasswordHash::new(DUMMY_HASH).unwrap();
        assert_eq!(
            Params::try_from(&parsed).unwrap().m_cost(),
            Params::DEFAULT_M_COST
        );
        assert_eq!(
            Params::try_from(&parsed).unwrap().t_cost(),
            Params::DEFAULT_T_COST
        );
    }
}
