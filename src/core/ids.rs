//! Identifiers. Every entity id is 24 lowercase hex characters: 4 bytes of big-endian seconds,
//! then 8 random bytes. That satisfies Atlas' `^[a-f0-9]{24}$`, sorts roughly by creation, and
//! SOLAPI clients treat ids as opaque strings.

use time::OffsetDateTime;

pub fn new_id(now: OffsetDateTime) -> String {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&(now.unix_timestamp() as u32).to_be_bytes());
    rand::fill(&mut bytes[4..]);
    hex::encode(bytes)
}

pub fn is_id(s: &str) -> bool {
    s.len() == 24
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn random_upper_alnum(len: usize) -> String {
    (0..len)
        .map(|_| UPPER_ALNUM[rand::random_range(0..UPPER_ALNUM.len())] as char)
        .collect()
}

/// A public API-key id in SOLAPI's shape: `NCS` + 13 characters of `[A-Z0-9]`.
pub fn new_api_key_id() -> String {
    format!("NCS{}", random_upper_alnum(13))
}

/// An API secret as SOLAPI issues them: 32 characters of `[A-Z0-9]` (≈165 bits).
pub fn new_api_secret() -> String {
    random_upper_alnum(32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_24_lowercase_hex_and_start_with_the_time() {
        let now = time::macros::datetime!(2026-11-21 00:00 UTC);
        let id = new_id(now);
        assert!(is_id(&id), "{id}");
        assert_eq!(&id[..8], &format!("{:08x}", now.unix_timestamp()));
        assert_ne!(new_id(now), id);
    }

    #[test]
    fn api_keys_look_like_solapi_keys() {
        let k = new_api_key_id();
        assert_eq!(k.len(), 16);
        assert!(k.starts_with("NCS"));
        assert_eq!(new_api_secret().len(), 32);
        assert!(!is_id("NCSAYU7YDBXYORXC") && !is_id("ABCDEF0123456789abcdef01"));
    }
}
