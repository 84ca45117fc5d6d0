//! Passwords: the NIST SP 800-63B policy, and Argon2id hashing that never runs on the async
//! workers (a bounded blocking pool, so 20 sign-ups at once cannot starve the API).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

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

/// Argon2id with the crate defaults (m=19456 KiB, t=2, p=1: OWASP's first choice), on at most
/// `permits` blocking threads at once.
#[derive(Clone)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    /// Verified against when the user does not exist, so that "no such user" costs the same time.
    dummy_hash: Arc<String>,
}

impl Hasher {
    pub fn new(permits: usize) -> Self {
        let dummy = Argon2::default()
            .hash_password(b"usher-dummy-password")
            .expect("hashing a constant cannot fail")
            .to_string();
        Hasher {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            dummy_hash: Arc::new(dummy),
        }
    }

    pub async fn hash(&self, password: String) -> anyhow::Result<String> {
        let _permit = self.permits.acquire().await?;
        let phc = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|h| h.to_string())
        })
        .await?
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        Ok(phc)
    }

    /// Verifies against `phc`, or against a dummy hash when there is none (same cost either way).
    pub async fn verify(&self, password: String, phc: Option<String>) -> anyhow::Result<bool> {
        let _permit = self.permits.acquire().await?;
        let exists = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.as_str().to_owned());
        let ok = tokio::task::spawn_blocking(move || {
            Argon2::default()
                .verify_password(password.as_bytes(), phc.as_str())
                .is_ok()
        })
        .await?;
        Ok(ok && exists)
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
}
