//! HTTP Digest (RFC 7616) on the server side, as Atlas API keys use it: username = the key's
//! public id, password = its secret; `qop=auth`; MD5 (what Atlas challenges with) or SHA-256.
//!
//! Nonces are stateless, so any instance can check one: 4 bytes of issue time, 8 random bytes and
//! a 12-byte MAC of both under the server key, base64 (32 characters, as Atlas' are). A nonce
//! with a valid MAC that is older than [`NONCE_TTL_SECS`] answers `stale=true`, so clients retry
//! with a fresh one without asking for the password again. Each (nonce, nc, cnonce) is accepted
//! once (the replay guard): a captured request cannot be sent again.
//!
//! The challenge keeps to what the Go digest client of the Atlas SDK, CLI and Terraform accepts:
//! parameters separated by exactly `", "`, no commas inside values, and only the keys `realm`,
//! `domain`, `nonce`, `algorithm`, `qop` and `stale`.

use base64::{Engine, engine::general_purpose::STANDARD};
use md5::Md5;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::core::crypto::Crypto;

pub const REALM: &str = "MMS Public API";
pub const NONCE_TTL_SECS: i64 = 300;
const NONCE_PURPOSE: &str = "usher/digest-nonce";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    pub fn parse(s: &str) -> Option<Algorithm> {
        if s.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if s.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    fn hash(self, data: &str) -> String {
        match self {
            Algorithm::Md5 => hex::encode(Md5::digest(data.as_bytes())),
            Algorithm::Sha256 => hex::encode(Sha256::digest(data.as_bytes())),
        }
    }
}

/// A fresh nonce issued at `now` (unix seconds).
pub fn new_nonce(crypto: &Crypto, now: i64) -> String {
    let mut raw = [0u8; 24];
    raw[..4].copy_from_slice(&(now as u32).to_be_bytes());
    rand::fill(&mut raw[4..12]);
    let tag = crypto.tag(NONCE_PURPOSE, &raw[..12]);
    raw[12..].copy_from_slice(&tag[..12]);
    STANDARD.encode(raw)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceCheck {
    /// Ours and fresh; the value is when it expires (unix seconds).
    Fresh(i64),
    /// Ours, but too old: the client should retry with a new one (`stale=true`).
    Stale,
    /// Not a nonce this server issued.
    Forged,
}

pub fn check_nonce(crypto: &Crypto, nonce: &str, now: i64) -> NonceCheck {
    let Ok(raw) = STANDARD.decode(nonce) else {
        return NonceCheck::Forged;
    };
    if raw.len() != 24 {
        return NonceCheck::Forged;
    }
    let tag = crypto.tag(NONCE_PURPOSE, &raw[..12]);
    if !bool::from(tag[..12].ct_eq(&raw[12..])) {
        return NonceCheck::Forged;
    }
    let issued = i64::from(u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]));
    // A nonce from the future is not ours to honour (clocks of several instances differ by
    // less than this).
    if issued > now + 60 {
        return NonceCheck::Forged;
    }
    if now - issued > NONCE_TTL_SECS {
        NonceCheck::Stale
    } else {
        NonceCheck::Fresh(issued + NONCE_TTL_SECS)
    }
}

/// The `WWW-Authenticate` value, in exactly the form Atlas sends.
pub fn challenge(nonce: &str, algorithm: Algorithm, stale: bool) -> String {
    format!(
        "Digest realm=\"{REALM}\", domain=\"\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\", stale={stale}",
        algorithm.name()
    )
}

/// The parameters of an `Authorization: Digest …` header.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a str,
    pub uri: &'a str,
    pub response: &'a str,
    pub algorithm: Option<&'a str>,
    pub qop: Option<&'a str>,
    pub nc: Option<&'a str>,
    pub cnonce: Option<&'a str>,
    pub userhash: Option<&'a str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a Digest header")]
    NotDigest,
    #[error("malformed Digest parameters")]
    Malformed,
    #[error("a required Digest parameter is missing")]
    Missing,
}

/// Parses `Digest k=v, k="v", …`. Quoted values may hold commas (a `uri` with a query) and
/// backslash escapes; the values returned are borrowed and keep no escapes (a value that needs
/// unescaping is refused, since no parameter usher checks can contain a quote).
pub fn parse(header: &str) -> Result<Credentials<'_>, ParseError> {
    let rest = header
        .strip_prefix("Digest ")
        .or_else(|| header.strip_prefix("digest "))
        .ok_or(ParseError::NotDigest)?;
    let mut c = Credentials::default();
    let (mut username, mut realm, mut nonce, mut uri, mut response) =
        (None, None, None, None, None);
    let mut s = rest.trim_start();
    while !s.is_empty() {
        let eq = s.find('=').ok_or(ParseError::Malformed)?;
        let key = s[..eq].trim();
        s = s[eq + 1..].trim_start();
        let value;
        if let Some(q) = s.strip_prefix('"') {
            let end = q.find('"').ok_or(ParseError::Malformed)?;
            value = &q[..end];
            if value.contains('\\') {
                return Err(ParseError::Malformed);
            }
            s = &q[end + 1..];
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s[..end].trim();
            s = &s[end..];
        }
        s = s.trim_start();
        if let Some(next) = s.strip_prefix(',') {
            s = next.trim_start();
        } else if !s.is_empty() {
            return Err(ParseError::Malformed);
        }
        let slot = match key.to_ascii_lowercase().as_str() {
            "username" => &mut username,
            "realm" => &mut realm,
            "nonce" => &mut nonce,
            "uri" => &mut uri,
            "response" => &mut response,
            "algorithm" => &mut c.algorithm,
            "qop" => &mut c.qop,
            "nc" => &mut c.nc,
            "cnonce" => &mut c.cnonce,
            "userhash" => &mut c.userhash,
            _ => continue, // opaque, and parameters of later revisions, are not used
        };
        if slot.replace(value).is_some() {
            return Err(ParseError::Malformed);
        }
    }
    c.username = username.ok_or(ParseError::Missing)?;
    c.realm = realm.ok_or(ParseError::Missing)?;
    c.nonce = nonce.ok_or(ParseError::Missing)?;
    c.uri = uri.ok_or(ParseError::Missing)?;
    c.response = response.ok_or(ParseError::Missing)?;
    Ok(c)
}

/// Why a well-formed Digest header does not authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Wrong realm, URI, algorithm or qop, or a wrong response: the password is wrong or the
    /// request was tampered with.
    Mismatch,
}

/// Checks `response` for `method` on `request_uri` with the key's `secret`. Requires `qop=auth`
/// (with `nc` and `cnonce`), the realm, and the URI the request was actually sent to.
pub fn verify(
    c: &Credentials<'_>,
    method: &str,
    request_uri: &str,
    secret: &[u8],
) -> Result<(), Refusal> {
    let algorithm = match c.algorithm {
        None => Algorithm::Md5,
        Some(a) => Algorithm::parse(a).ok_or(Refusal::Mismatch)?,
    };
    let (Some(qop), Some(nc), Some(cnonce)) = (c.qop, c.nc, c.cnonce) else {
        return Err(Refusal::Mismatch);
    };
    if c.realm != REALM
        || qop != "auth"
        || c.uri != request_uri
        || c.userhash.is_some_and(|u| u.eq_ignore_ascii_case("true"))
    {
        return Err(Refusal::Mismatch);
    }
    let secret = std::str::from_utf8(secret).map_err(|_| Refusal::Mismatch)?;
    let expected = response(
        algorithm, c.username, secret, method, c.uri, c.nonce, nc, cnonce,
    );
    if bool::from(
        expected
            .as_bytes()
            .ct_eq(c.response.to_ascii_lowercase().as_bytes()),
    ) {
        Ok(())
    } else {
        Err(Refusal::Mismatch)
    }
}

/// The `response` a client computes (RFC 7616 §3.4.1, `qop=auth`).
#[allow(clippy::too_many_arguments)] // the RFC's own inputs, each named once
pub fn response(
    algorithm: Algorithm,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    nonce: &str,
    nc: &str,
    cnonce: &str,
) -> String {
    let ha1 = algorithm.hash(&format!("{username}:{REALM}:{password}"));
    let ha2 = algorithm.hash(&format!("{method}:{uri}"));
    algorithm.hash(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crypto() -> Crypto {
        Crypto::new(&[7u8; 32])
    }

    #[test]
    fn the_rfc_7616_examples_compute_as_published() {
        // RFC 7616 §3.9.1, with its realm ("http-auth@example.org") in place of ours.
        let h = |a: Algorithm, s: &str| a.hash(s);
        for (alg, expected) in [
            (Algorithm::Md5, "8ca523f5e9506fed4657c9700eebdbec"),
            (
                Algorithm::Sha256,
                "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
            ),
        ] {
            let ha1 = h(alg, "Mufasa:http-auth@example.org:Circle of Life");
            let ha2 = h(alg, "GET:/dir/index.html");
            let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
            let r = h(
                alg,
                &format!(
                    "{ha1}:{nonce}:00000001:f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ:auth:{ha2}"
                ),
            );
            assert_eq!(r, expected, "{alg:?}");
        }
    }

    #[test]
    fn a_nonce_is_32_base64_characters_and_goes_stale_after_its_lifetime() {
        let c = crypto();
        let n = new_nonce(&c, 1_000_000);
        assert_eq!(n.len(), 32);
        assert_eq!(
            check_nonce(&c, &n, 1_000_010),
            NonceCheck::Fresh(1_000_000 + NONCE_TTL_SECS)
        );
        assert_eq!(
            check_nonce(&c, &n, 1_000_000 + NONCE_TTL_SECS + 1),
            NonceCheck::Stale
        );
        let other = Crypto::new(&[8u8; 32]);
        assert_eq!(check_nonce(&other, &n, 1_000_010), NonceCheck::Forged);
        assert_eq!(check_nonce(&c, "not base64!", 1), NonceCheck::Forged);
        let mut tampered = STANDARD.decode(&n).unwrap();
        tampered[0] ^= 1;
        assert_eq!(
            check_nonce(&c, &STANDARD.encode(tampered), 1_000_010),
            NonceCheck::Forged
        );
    }

    #[test]
    fn the_challenge_has_atlas_form_and_only_keys_the_go_client_accepts() {
        let ch = challenge("SlgYP7Tv3FS/BuCj/x4WQRIV1bNKdpJg", Algorithm::Md5, false);
        assert_eq!(
            ch,
            r#"Digest realm="MMS Public API", domain="", nonce="SlgYP7Tv3FS/BuCj/x4WQRIV1bNKdpJg", algorithm=MD5, qop="auth", stale=false"#
        );
        for part in ch["Digest ".len()..].split(", ") {
            let key = part.split('=').next().unwrap();
            assert!(
                [
                    "realm",
                    "domain",
                    "nonce",
                    "opaque",
                    "stale",
                    "algorithm",
                    "qop"
                ]
                .contains(&key),
                "{key}"
            );
        }
    }

    #[test]
    fn a_response_verifies_only_for_its_method_uri_and_secret() {
        let uri = "/api/atlas/v2/orgs/0123456789abcdef01234567/invites?username=a%40b.c";
        for alg in [Algorithm::Md5, Algorithm::Sha256] {
            let r = response(alg, "pub", "secret", "GET", uri, "n0nce", "00000001", "c");
            let header = format!(
                r#"Digest username="pub", realm="MMS Public API", nonce="n0nce", uri="{uri}", response="{r}", algorithm="{}", qop=auth, nc=00000001, cnonce="c""#,
                alg.name()
            );
            let c = parse(&header).unwrap();
            assert_eq!(c.uri, uri, "a quoted value keeps its commas and query");
            assert_eq!(verify(&c, "GET", uri, b"secret"), Ok(()));
            assert!(verify(&c, "DELETE", uri, b"secret").is_err());
            assert!(verify(&c, "GET", "/other", b"secret").is_err());
            assert!(verify(&c, "GET", uri, b"wrong").is_err());
        }
    }

    #[test]
    fn malformed_headers_are_refused() {
        assert_eq!(parse("Basic abc"), Err(ParseError::NotDigest));
        assert_eq!(parse(r#"Digest username="a"#), Err(ParseError::Malformed));
        assert_eq!(parse(r#"Digest username="a""#), Err(ParseError::Missing));
        assert_eq!(
            parse(
                r#"Digest username="a", username="b", realm="r", nonce="n", uri="/", response="x""#
            ),
            Err(ParseError::Malformed),
            "a repeated parameter"
        );
        let no_qop = parse(
            r#"Digest username="a", realm="MMS Public API", nonce="n", uri="/", response="x""#,
        )
        .unwrap();
        assert!(
            verify(&no_qop, "GET", "/", b"s").is_err(),
            "qop=auth is required"
        );
    }
}
