//! Secrets at rest. One 32-byte master key (from configuration, or generated once into the data
//! directory) yields two sub-keys: one encrypts what must be recoverable (API-key secrets, because
//! HMAC and Digest need them; outbox payloads, because they carry links with tokens), the other
//! keys the digests of what must never be recoverable (session, invitation, reset tokens).

use base64::{Engine, engine::general_purpose::STANDARD, engine::general_purpose::URL_SAFE_NO_PAD};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const MASTER_KEY_LEN: usize = 32;

#[derive(Clone)]
pub struct Crypto {
    aead: XChaCha20Poly1305,
    digest_key: [u8; 32],
}

impl std::fmt::Debug for Crypto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Crypto(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt a stored secret: wrong master key or corrupted data")]
pub struct DecryptError;

fn derive(master: &[u8; MASTER_KEY_LEN], label: &str) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(master).expect("any key length");
    mac.update(label.as_bytes());
    mac.finalize().into_bytes().into()
}

impl Crypto {
    pub fn new(master: &[u8; MASTER_KEY_LEN]) -> Self {
        let enc = derive(master, "usher/v1/encryption");
        Crypto {
            aead: XChaCha20Poly1305::new((&enc).into()),
            digest_key: derive(master, "usher/v1/token-digest"),
        }
    }

    /// Encrypts `plain`, bound to `context` (e.g. the API key id) so a ciphertext cannot be
    /// moved to another row. Output: base64(nonce ‖ ciphertext).
    pub fn encrypt(&self, context: &str, plain: &[u8]) -> String {
        let mut nonce = [0u8; 24];
        rand::fill(&mut nonce);
        let ct = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .expect("encryption cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        STANDARD.encode(out)
    }

    pub fn decrypt(&self, context: &str, stored: &str) -> Result<Vec<u8>, DecryptError> {
        let raw = STANDARD.decode(stored).map_err(|_| DecryptError)?;
        if raw.len() < 24 {
            return Err(DecryptError);
        }
        let (nonce, ct) = raw.split_at(24);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| DecryptError)
    }

    /// A MAC over `data` for `purpose` (e.g. stateless Digest nonces), under the digest sub-key.
    pub fn tag(&self, purpose: &str, data: &[u8]) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.digest_key)
            .expect("any key length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// Keyed digest under which a bearer secret is stored and looked up. Keyed (not a bare
    /// SHA-256) so that a leaked database does not allow offline guessing.
    pub fn token_digest(&self, token: &str) -> String {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.digest_key)
            .expect("any key length");
        mac.update(token.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// A fresh bearer secret: 256 random bits, base64url without padding (43 characters).
pub fn random_token() -> String {
    let mut b = [0u8; 32];
    rand::fill(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// True for strings shaped like [`random_token`] output; lets a path segment be told apart from
/// a 24-hex id without a database round trip.
pub fn looks_like_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

pub fn generate_master_key() -> [u8; MASTER_KEY_LEN] {
    let mut k = [0u8; MASTER_KEY_LEN];
    rand::fill(&mut k);
    k
}

pub fn encode_master_key(k: &[u8; MASTER_KEY_LEN]) -> String {
    STANDARD.encode(k)
}

pub fn decode_master_key(s: &str) -> Option<[u8; MASTER_KEY_LEN]> {
    STANDARD.decode(s.trim()).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encrypted_secrets_round_trip_only_in_their_own_context() {
        let c = Crypto::new(&[7; 32]);
        let stored = c.encrypt("NCSKEY", b"SECRET");
        assert!(!stored.contains("SECRET"));
        assert_eq!(c.decrypt("NCSKEY", &stored).unwrap(), b"SECRET");
        assert!(c.decrypt("NCSOTHER", &stored).is_err());
        assert!(Crypto::new(&[8; 32]).decrypt("NCSKEY", &stored).is_err());
    }

    #[test]
    fn token_digests_are_keyed_and_stable() {
        let a = Crypto::new(&[1; 32]);
        assert_eq!(a.token_digest("t"), a.token_digest("t"));
        assert_ne!(a.token_digest("t"), Crypto::new(&[2; 32]).token_digest("t"));
        let t = random_token();
        assert!(looks_like_token(&t), "{t}");
        assert!(!looks_like_token("0123456789abcdef01234567"));
    }
}
