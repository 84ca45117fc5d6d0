//! Identifiers. Every entity id is 24 lowercase hex characters laid out like a MongoDB ObjectId:
//! 4 bytes of big-endian seconds, 5 random bytes fixed for the process, and a 3-byte counter
//! that starts at random. That satisfies Atlas' `^[a-f0-9]{24}$`, and within one process ids
//! sort in the order they were made, also within a second: the outbox relies on that to deliver
//! the events of one invitation in order (docs/webhooks.md). SOLAPI clients treat ids as opaque.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU32, Ordering};

use time::OffsetDateTime;

static PROCESS: LazyLock<[u8; 5]> = LazyLock::new(|| {
    let mut b = [0u8; 5];
    rand::fill(&mut b);
    b
});

static COUNTER: LazyLock<AtomicU32> =
    LazyLock::new(|| AtomicU32::new(rand::random_range(0..1 << 23)));

pub fn new_id(now: OffsetDateTime) -> String {
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&(now.unix_timestamp() as u32).to_be_bytes());
    bytes[4..9].copy_from_slice(&*PROCESS);
    // 24 bits, starting in the lower half: it wraps after 8 to 16 million ids, and only a wrap
    // inside one second puts two ids of that second out of order.
    let n = COUNTER.fetch_add(1, Ordering::Relaxed) & 0x00ff_ffff;
    bytes[9..].copy_from_slice(&n.to_be_bytes()[1..]);
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

/// An Atlas programmatic key's public part: 8 lower-case letters, as Atlas issues them.
pub fn new_atlas_public_key() -> String {
    let mut b = [0u8; 8];
    rand::fill(&mut b);
    b.iter().map(|x| char::from(b'a' + x % 26)).collect()
}

/// An Atlas programmatic key's private part: a random (version 4) UUID, as Atlas issues them.
pub fn new_atlas_private_key() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
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
    fn ids_of_one_process_sort_in_the_order_they_were_made() {
        let now = time::macros::datetime!(2026-11-21 00:00 UTC);
        let ids: Vec<String> = (0..1000).map(|_| new_id(now)).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
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
