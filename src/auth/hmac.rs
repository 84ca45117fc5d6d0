//! SOLAPI's HMAC API-key `Authorization` scheme (reference §2.1–2.2).
//!
//! Kept free of I/O and of any state so that the server's auth layer can own key lookup, the
//! clock-skew window and the replay cache, while everything that must match byte-for-byte with the
//! official SDKs lives (and is tested) here.

use ::hmac::{Hmac, KeyInit, Mac};
use md5::Md5;
use sha2::Sha256;
use std::fmt;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// The hash behind the HMAC, taken from the scheme token because SOLAPI lets the client choose it
/// per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// `HMAC-SHA256`: what every official SDK sends.
    Sha256,
    /// `HMAC-MD5`: documented by SOLAPI, so hand-written clients may still use it.
    Md5,
}

/// The parameters of one HMAC `Authorization` header, borrowed from the header value so that the
/// date reaches [`verify`] with exactly the bytes the client signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HmacHeader<'a> {
    pub algorithm: Algorithm,
    pub api_key: &'a str,
    /// Exactly as sent: the signature covers these bytes, so it must never be re-formatted before
    /// [`verify`]. Use [`parse_date`] separately for the clock-skew check.
    pub date: &'a str,
    pub salt: &'a str,
    pub signature: &'a str,
}

/// Why a header could not be read as an HMAC credential; [`ParseError::NotHmac`] is kept apart so
/// that the caller can fall through to other schemes (`Bearer`, `sso`, ...) instead of failing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseError {
    /// The scheme token is not `HMAC-SHA256` / `HMAC-MD5`: not ours to judge.
    NotHmac,
    /// A required parameter is absent; carries its canonical name (`apiKey`, `date`, `salt`,
    /// `signature`).
    MissingParameter(&'static str),
    /// A parameter appears twice (names compared case-insensitively); rejected because picking one
    /// would let a proxy and this server disagree on which credential was presented.
    DuplicateParameter(&'static str),
    /// A parameter without `=`, or a required parameter with an empty value.
    Malformed,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotHmac => f.write_str("not an HMAC authorization header"),
            Self::MissingParameter(name) => write!(f, "missing parameter {name}"),
            Self::DuplicateParameter(name) => write!(f, "duplicate parameter {name}"),
            Self::Malformed => f.write_str("malformed HMAC authorization header"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Canonical parameter names, in the order the SDKs send them; the index is the slot in [`parse`].
const PARAMS: [&str; 4] = ["apiKey", "date", "salt", "signature"];

/// HTTP's optional whitespace is SP / HTAB; other ASCII whitespace is tolerated too because nothing
/// legitimate depends on it being significant.
fn is_ws(c: char) -> bool {
    c.is_ascii_whitespace()
}

/// Parses the value of an Authorization header. Scheme token `HMAC-SHA256` or `HMAC-MD5`, compared
/// ASCII-case-insensitively; then parameters separated by `,`, each trimmed and split at the FIRST
/// `=`; parameter NAMES are case-insensitive (apiKey/ApiKey/Apikey/APIKEY, date/Date, salt,
/// signature); order must not matter; unknown parameters are ignored; a value may not be empty; a
/// repeated parameter is DuplicateParameter; whitespace around the scheme tolerated.
///
/// Returns NotHmac when the scheme is something else (e.g. "Bearer x", "Digest ...") so the caller
/// can try other schemes.
///
/// Lenient on purpose, because the official SDKs disagree on spelling (Python `ApiKey=`/`Date=`,
/// Kotlin `Apikey=`) and a stricter parser would lock out real clients. Empty segments (a stray or
/// trailing `,`) are skipped for the same reason. Values are not validated beyond being non-empty:
/// the salt length and the date format are the caller's policy ([`parse_date`]).
pub fn parse(header_value: &str) -> Result<HmacHeader<'_>, ParseError> {
    let value = header_value.trim_matches(is_ws);
    let (scheme, params) = value.split_once(is_ws).unwrap_or((value, ""));
    let algorithm = if scheme.eq_ignore_ascii_case("HMAC-SHA256") {
        Algorithm::Sha256
    } else if scheme.eq_ignore_ascii_case("HMAC-MD5") {
        Algorithm::Md5
    } else {
        return Err(ParseError::NotHmac);
    };

    let mut values: [Option<&str>; 4] = [None; 4];
    for segment in params.split(',') {
        let segment = segment.trim_matches(is_ws);
        if segment.is_empty() {
            continue;
        }
        let (name, value) = segment.split_once('=').ok_or(ParseError::Malformed)?;
        let (name, value) = (name.trim_matches(is_ws), value.trim_matches(is_ws));
        let Some(slot) = PARAMS.iter().position(|p| p.eq_ignore_ascii_case(name)) else {
            continue;
        };
        if value.is_empty() {
            return Err(ParseError::Malformed);
        }
        if values[slot].is_some() {
            return Err(ParseError::DuplicateParameter(PARAMS[slot]));
        }
        values[slot] = Some(value);
    }

    let [Some(api_key), Some(date), Some(salt), Some(signature)] = values else {
        let missing = values.iter().position(Option::is_none).unwrap_or_default();
        return Err(ParseError::MissingParameter(PARAMS[missing]));
    };
    Ok(HmacHeader {
        algorithm,
        api_key,
        date,
        salt,
        signature,
    })
}

/// Reads fixed-width ASCII fields from a byte string; working on bytes (never slicing the `str`) is
/// what makes [`parse_date`] unable to panic on multibyte input.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    /// Consumes `b` if it is next; callers use this for optional parts.
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn expect(&mut self, accepted: &[u8]) -> Option<()> {
        accepted.contains(&self.next()?).then_some(())
    }

    /// Exactly `n` digits (n ≤ 9, so the value fits in a u32).
    fn digits(&mut self, n: usize) -> Option<u32> {
        let mut value = 0;
        for _ in 0..n {
            let b = self.next()?;
            if !b.is_ascii_digit() {
                return None;
            }
            value = value * 10 + u32::from(b - b'0');
        }
        Some(value)
    }

    /// 1–9 fractional digits scaled to nanoseconds; more than 9 is refused rather than truncated,
    /// as no SDK sends them and `time` cannot hold them.
    fn fraction(&mut self) -> Option<u32> {
        let start = self.pos;
        let mut nanos = 0;
        while let Some(b) = self.peek().filter(u8::is_ascii_digit) {
            if self.pos - start == 9 {
                return None;
            }
            nanos = nanos * 10 + u32::from(b - b'0');
            self.pos += 1;
        }
        let len = self.pos - start;
        if len == 0 {
            return None;
        }
        Some(nanos * 10u32.pow((9 - len) as u32))
    }

    fn done(&self) -> bool {
        self.pos == self.bytes.len()
    }
}

/// Parses every date form in §2.2: RFC 3339 with optional fraction of 1–9 digits, `Z`/`z` or ±hh:mm
/// offset; also the Kotlin edge case without seconds (`2026-11-22T06:10+09:00`,
/// `2026-11-22T06:10Z`). PHP's quirk `2026-11-22T06:10:13.32400Z` simply parses as a fraction.
/// Returns None for anything else (no panics on any input, including non-ASCII).
///
/// Hand-written instead of `time`'s `Rfc3339` description because that one rejects the seconds-less
/// Kotlin form, which that SDK emits whenever its clock lands on a whole minute. The result is
/// normalised to UTC so that callers can compare it with `OffsetDateTime::now_utc()` directly. The
/// PHP SDK's date is Seoul wall-clock time labelled `Z`, so it parses to an instant about 9 h in
/// the future: the forward skew tolerance is the caller's decision, not this parser's. Leap seconds
/// (`:60`) are refused since `time` cannot represent them.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    let mut c = Cursor {
        bytes: s.as_bytes(),
        pos: 0,
    };
    let year = c.digits(4)?;
    c.expect(b"-")?;
    let month = c.digits(2)?;
    c.expect(b"-")?;
    let day = c.digits(2)?;
    c.expect(b"Tt")?;
    let hour = c.digits(2)?;
    c.expect(b":")?;
    let minute = c.digits(2)?;
    let (second, nanos) = if c.eat(b':') {
        let second = c.digits(2)?;
        let nanos = if c.eat(b'.') { c.fraction()? } else { 0 };
        (second, nanos)
    } else {
        (0, 0)
    };
    let offset = match c.next()? {
        b'Z' | b'z' => UtcOffset::UTC,
        sign @ (b'+' | b'-') => {
            let hours = c.digits(2)?;
            c.expect(b":")?;
            let minutes = c.digits(2)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            // Both fit in i8 after the range check above.
            let (h, m) = (hours as i8, minutes as i8);
            if sign == b'+' {
                UtcOffset::from_hms(h, m, 0).ok()?
            } else {
                UtcOffset::from_hms(-h, -m, 0).ok()?
            }
        }
        _ => return None,
    };
    if !c.done() {
        return None;
    }

    // Every component below came from at most 4 digits, so the narrowing casts are lossless.
    let month = Month::try_from(month as u8).ok()?;
    let date = Date::from_calendar_date(year as i32, month, day as u8).ok()?;
    let time = Time::from_hms_nano(hour as u8, minute as u8, second as u8, nanos).ok()?;
    PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .checked_to_offset(UtcOffset::UTC)
}

/// Keyed and fed with `date + salt` without an intermediate `String`, since the concatenation has
/// no separator.
fn keyed<M: Mac + KeyInit>(secret: &[u8], date: &str, salt: &str) -> M {
    let mut mac = <M as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(date.as_bytes());
    mac.update(salt.as_bytes());
    mac
}

/// Lowercase hex of HMAC(secret, date + salt).
///
/// Lowercase because that is what every SDK emits, so headers built from this in tests look like
/// real traffic.
pub fn sign(algorithm: Algorithm, secret: &[u8], date: &str, salt: &str) -> String {
    match algorithm {
        Algorithm::Sha256 => hex::encode(
            keyed::<Hmac<Sha256>>(secret, date, salt)
                .finalize()
                .into_bytes(),
        ),
        Algorithm::Md5 => hex::encode(
            keyed::<Hmac<Md5>>(secret, date, salt)
                .finalize()
                .into_bytes(),
        ),
    }
}

/// Constant-time check of a hex signature (accept upper- or lower-case hex; wrong length or non-hex
/// => false).
///
/// The MAC comparison is constant-time so that response timing cannot be used to forge a signature
/// byte by byte; hex decoding and the length check only depend on the attacker's own input, which
/// leaks nothing secret.
pub fn verify(
    algorithm: Algorithm,
    secret: &[u8],
    date: &str,
    salt: &str,
    signature_hex: &str,
) -> bool {
    // Large enough for SHA-256, the longest supported output; decoding into it avoids an allocation
    // per request.
    let mut buf = [0u8; 32];
    let tag_len = match algorithm {
        Algorithm::Sha256 => 32,
        Algorithm::Md5 => 16,
    };
    if signature_hex.len() != 2 * tag_len {
        return false;
    }
    let tag = &mut buf[..tag_len];
    if hex::decode_to_slice(signature_hex, tag).is_err() {
        return false;
    }
    match algorithm {
        Algorithm::Sha256 => keyed::<Hmac<Sha256>>(secret, date, salt)
            .verify_slice(tag)
            .is_ok(),
        Algorithm::Md5 => keyed::<Hmac<Md5>>(secret, date, salt)
            .verify_slice(tag)
            .is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const VECTOR1_SHA256: &str = "669c9fb6acda414922dec17b603459be1dfb7dcb12f81c68e78cbd2f06ca9028";
    const VECTOR1_MD5: &str = "025e119c728a11f9c8bae09ee5646554";
    const VECTOR2_SHA256: &str = "01ed74b1a957a9670695979fd98b45116ee25697ed1ec792422ae5dc0dac1ac7";

    fn header(
        algorithm: Algorithm,
        api_key: &'static str,
        date: &'static str,
        salt: &'static str,
        signature: &'static str,
    ) -> HmacHeader<'static> {
        HmacHeader {
            algorithm,
            api_key,
            date,
            salt,
            signature,
        }
    }

    // --- sign / verify ---

    #[test]
    fn sha256_signature_matches_the_first_reference_vector() {
        let sig = sign(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
        );
        assert_eq!(sig, VECTOR1_SHA256);
    }

    #[test]
    fn sha256_signature_matches_the_second_reference_vector() {
        let sig = sign(
            Algorithm::Sha256,
            b"test-secret",
            "2026-10-08T00:00:00.000Z",
            "abc123",
        );
        assert_eq!(sig, VECTOR2_SHA256);
    }

    #[test]
    fn md5_signature_matches_the_reference_vector() {
        let sig = sign(
            Algorithm::Md5,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
        );
        assert_eq!(sig, VECTOR1_MD5);
    }

    #[test]
    fn verify_accepts_both_reference_vectors_for_both_algorithms() {
        assert!(verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            VECTOR1_SHA256
        ));
        assert!(verify(
            Algorithm::Sha256,
            b"test-secret",
            "2026-10-08T00:00:00.000Z",
            "abc123",
            VECTOR2_SHA256
        ));
        assert!(verify(
            Algorithm::Md5,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            VECTOR1_MD5
        ));
    }

    #[test]
    fn verify_accepts_upper_case_hex() {
        let upper = VECTOR1_SHA256.to_ascii_uppercase();
        assert!(verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            &upper
        ));
        let upper = VECTOR1_MD5.to_ascii_uppercase();
        assert!(verify(
            Algorithm::Md5,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            &upper
        ));
    }

    #[test]
    fn verify_rejects_a_signature_with_one_character_changed() {
        let mut changed = VECTOR1_SHA256.to_owned();
        changed.replace_range(10..11, "0"); // was 'a'
        assert_ne!(changed, VECTOR1_SHA256);
        assert!(!verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            &changed
        ));
        let mut changed = VECTOR1_SHA256.to_owned();
        changed.replace_range(63..64, "9"); // was '8'
        assert!(!verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            &changed
        ));
    }

    #[test]
    fn verify_rejects_a_signature_of_the_wrong_length() {
        let args = (b"SECRET", "2019-07-01T00:41:48Z", "jqsba2jxjnrjor");
        for sig in [
            &VECTOR1_SHA256[..62],
            &VECTOR1_SHA256[..63],
            &format!("{VECTOR1_SHA256}00"),
            "",
            VECTOR1_MD5, // an MD5-length tag for SHA-256
        ] {
            assert!(
                !verify(Algorithm::Sha256, args.0, args.1, args.2, sig),
                "{sig}"
            );
        }
        assert!(!verify(
            Algorithm::Md5,
            args.0,
            args.1,
            args.2,
            VECTOR1_SHA256
        ));
        assert!(!verify(
            Algorithm::Md5,
            args.0,
            args.1,
            args.2,
            &VECTOR1_MD5[..30]
        ));
    }

    #[test]
    fn verify_rejects_non_hex_input_without_panicking() {
        let args = (b"SECRET", "2019-07-01T00:41:48Z", "jqsba2jxjnrjor");
        let mut non_hex = VECTOR1_SHA256.to_owned();
        non_hex.replace_range(0..1, "g");
        assert!(!verify(Algorithm::Sha256, args.0, args.1, args.2, &non_hex));
        // 64 bytes but multibyte characters: must not slice inside a character.
        let multibyte = "é".repeat(32);
        assert_eq!(multibyte.len(), 64);
        assert!(!verify(
            Algorithm::Sha256,
            args.0,
            args.1,
            args.2,
            &multibyte
        ));
    }

    #[test]
    fn verify_rejects_the_wrong_secret_date_or_salt() {
        assert!(!verify(
            Algorithm::Sha256,
            b"SECRET2",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            VECTOR1_SHA256
        ));
        assert!(!verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:49Z",
            "jqsba2jxjnrjor",
            VECTOR1_SHA256
        ));
        assert!(!verify(
            Algorithm::Sha256,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjos",
            VECTOR1_SHA256
        ));
        assert!(!verify(
            Algorithm::Md5,
            b"SECRET",
            "2019-07-01T00:41:48Z",
            "jqsba2jxjnrjor",
            &VECTOR1_SHA256[..32]
        ));
    }

    #[test]
    fn sign_and_verify_round_trip_with_an_empty_and_a_long_secret() {
        for secret in [&b""[..], &[0x5a; 200][..]] {
            for alg in [Algorithm::Sha256, Algorithm::Md5] {
                let sig = sign(alg, secret, "2026-11-21T21:10:11Z", "salt");
                assert!(verify(alg, secret, "2026-11-21T21:10:11Z", "salt", &sig));
            }
        }
    }

    // --- parse: every SDK variant of §2.2 ---

    #[test]
    fn parse_accepts_the_reference_documentation_sample() {
        let h = parse(
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2019-07-01T00:41:48Z, salt=jqsba2jxjnrjor, \
             signature=1779eac71a24cbeeadfa7263cb84b7ea0af1714f5c0270aa30ffd34600e363b4",
        );
        assert_eq!(
            h,
            Ok(header(
                Algorithm::Sha256,
                "NCSAYU7YDBXYORXC",
                "2019-07-01T00:41:48Z",
                "jqsba2jxjnrjor",
                "1779eac71a24cbeeadfa7263cb84b7ea0af1714f5c0270aa30ffd34600e363b4",
            ))
        );
    }

    #[test]
    fn parse_accepts_the_node_sdk_under_utc() {
        let h = parse(
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2026-11-21T21:10:11Z, \
             salt=Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF, signature=abc123",
        );
        assert_eq!(
            h,
            Ok(header(
                Algorithm::Sha256,
                "NCSAYU7YDBXYORXC",
                "2026-11-21T21:10:11Z",
                "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF",
                "abc123",
            ))
        );
    }

    #[test]
    fn parse_accepts_the_node_sdk_under_asia_seoul() {
        let h = parse(
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2026-11-22T06:10:13+09:00, \
             salt=Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF, signature=abc123",
        )
        .unwrap();
        assert_eq!(h.date, "2026-11-22T06:10:13+09:00");
        assert_eq!(h.salt, "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF");
    }

    #[test]
    fn parse_accepts_the_python_sdk_with_capitalised_names_and_microseconds() {
        let date = "2026-11-21T21:09:55.594244+00:00";
        let salt = "e6b7c6aee5ef11f19cfb02fc00000001";
        let sig = sign(Algorithm::Sha256, b"SECRET", date, salt);
        let value = format!(
            "HMAC-SHA256 ApiKey=NCSAYU7YDBXYORXC, Date={date}, salt={salt}, signature={sig}"
        );
        let h = parse(&value).unwrap();
        assert_eq!(h.algorithm, Algorithm::Sha256);
        assert_eq!(h.api_key, "NCSAYU7YDBXYORXC");
        assert_eq!(h.date, date);
        assert_eq!(h.salt, salt);
        assert!(verify(h.algorithm, b"SECRET", h.date, h.salt, h.signature));
        assert_eq!(
            parse_date(h.date),
            Some(datetime!(2026-11-21 21:09:55.594244 UTC))
        );
    }

    #[test]
    fn parse_accepts_the_kotlin_sdk_with_apikey_spelling_and_nanoseconds() {
        let h = parse(
            "HMAC-SHA256 Apikey=NCSAYU7YDBXYORXC, Date=2026-11-22T06:10:13.123456789+09:00, \
             salt=0f8fad5bd9cb469fa16570867728950e, signature=abc123",
        )
        .unwrap();
        assert_eq!(h.api_key, "NCSAYU7YDBXYORXC");
        assert_eq!(h.date, "2026-11-22T06:10:13.123456789+09:00");
        assert_eq!(h.salt, "0f8fad5bd9cb469fa16570867728950e");
    }

    #[test]
    fn parse_accepts_the_go_sdk() {
        let h = parse(
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2026-11-21T21:10:11Z, \
             salt=aB3dE6gH9jK2mN5pQ8sT, signature=abc123",
        )
        .unwrap();
        assert_eq!(h.date, "2026-11-21T21:10:11Z");
        assert_eq!(h.salt, "aB3dE6gH9jK2mN5pQ8sT");
    }

    #[test]
    fn parse_accepts_the_php_sdk_with_its_offset_as_a_fraction() {
        let h = parse(
            "HMAC-SHA256 apiKey=NCSAYU7YDBXYORXC, date=2026-11-22T06:10:13.32400Z, \
             salt=65f1c2a3b4d5e, signature=abc123",
        )
        .unwrap();
        assert_eq!(h.date, "2026-11-22T06:10:13.32400Z");
        assert_eq!(h.salt, "65f1c2a3b4d5e");
    }

    #[test]
    fn parse_accepts_to_iso_string_with_milliseconds() {
        let date = "2026-10-08T00:00:00.000Z";
        let value =
            format!("HMAC-SHA256 apiKey=KEY, date={date}, salt=abc123, signature={VECTOR2_SHA256}");
        let h = parse(&value).unwrap();
        assert_eq!(h.date, date);
        assert!(verify(
            h.algorithm,
            b"test-secret",
            h.date,
            h.salt,
            h.signature
        ));
    }

    #[test]
    fn parse_accepts_hmac_md5() {
        let value = format!(
            "HMAC-MD5 apiKey=KEY, date=2019-07-01T00:41:48Z, salt=jqsba2jxjnrjor, \
             signature={VECTOR1_MD5}"
        );
        let h = parse(&value).unwrap();
        assert_eq!(h.algorithm, Algorithm::Md5);
        assert!(verify(h.algorithm, b"SECRET", h.date, h.salt, h.signature));
    }

    // --- parse: leniency ---

    #[test]
    fn parse_does_not_depend_on_parameter_order() {
        let h = parse("HMAC-SHA256 signature=sig, salt=s, APIKEY=k, Date=d").unwrap();
        assert_eq!(h, header(Algorithm::Sha256, "k", "d", "s", "sig"));
    }

    #[test]
    fn parse_tolerates_extra_whitespace_everywhere() {
        let h = parse("  \tHMAC-SHA256   apiKey=k ,date=d,   salt = s ,\tsignature=sig  ").unwrap();
        assert_eq!(h, header(Algorithm::Sha256, "k", "d", "s", "sig"));
    }

    #[test]
    fn parse_accepts_a_lowercase_scheme() {
        let h = parse("hmac-sha256 apiKey=k, date=d, salt=s, signature=sig").unwrap();
        assert_eq!(h.algorithm, Algorithm::Sha256);
        let h = parse("Hmac-Md5 apiKey=k, date=d, salt=s, signature=sig").unwrap();
        assert_eq!(h.algorithm, Algorithm::Md5);
    }

    #[test]
    fn parse_ignores_unknown_parameters_and_empty_segments() {
        let h = parse("HMAC-SHA256 apiKey=k, nonce=, date=d, , salt=s, signature=sig, extra=1,")
            .unwrap();
        assert_eq!(h, header(Algorithm::Sha256, "k", "d", "s", "sig"));
    }

    #[test]
    fn parse_splits_at_the_first_equals_sign_only() {
        let h = parse("HMAC-SHA256 apiKey=k, date=d, salt=a=b==, signature=sig").unwrap();
        assert_eq!(h.salt, "a=b==");
    }

    // --- parse: rejections ---

    #[test]
    fn parse_reports_a_missing_signature() {
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date=d, salt=s"),
            Err(ParseError::MissingParameter("signature"))
        );
    }

    #[test]
    fn parse_reports_each_missing_parameter_by_its_canonical_name() {
        assert_eq!(
            parse("HMAC-SHA256 date=d, salt=s, signature=x"),
            Err(ParseError::MissingParameter("apiKey"))
        );
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, salt=s, signature=x"),
            Err(ParseError::MissingParameter("date"))
        );
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date=d, signature=x"),
            Err(ParseError::MissingParameter("salt"))
        );
        assert_eq!(
            parse("HMAC-SHA256"),
            Err(ParseError::MissingParameter("apiKey"))
        );
        assert_eq!(
            parse("  HMAC-SHA256  "),
            Err(ParseError::MissingParameter("apiKey"))
        );
    }

    #[test]
    fn parse_rejects_a_duplicate_parameter_even_with_different_case() {
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date=d, salt=s, signature=x, salt=t"),
            Err(ParseError::DuplicateParameter("salt"))
        );
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, ApiKey=k, date=d, salt=s, signature=x"),
            Err(ParseError::DuplicateParameter("apiKey"))
        );
    }

    #[test]
    fn parse_rejects_an_empty_value() {
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date=d, salt=, signature=x"),
            Err(ParseError::Malformed)
        );
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date=d, salt=s, signature=  "),
            Err(ParseError::Malformed)
        );
    }

    #[test]
    fn parse_rejects_a_parameter_without_equals_sign() {
        assert_eq!(
            parse("HMAC-SHA256 apiKey=k, date, salt=s, signature=x"),
            Err(ParseError::Malformed)
        );
    }

    #[test]
    fn parse_returns_not_hmac_for_other_schemes() {
        for value in [
            "Bearer abc",
            "bearer eyJhbGciOiJIUzI1NiJ9.e30.x",
            "sso abc",
            "Digest username=\"x\"",
            "Basic dXNlcjpwYXNz",
            "HMAC-SHA1 apiKey=k, date=d, salt=s, signature=x",
            "HMAC-SHA256apiKey=k",
            "",
            "   ",
            "한글 apiKey=k",
        ] {
            assert_eq!(parse(value), Err(ParseError::NotHmac), "{value:?}");
        }
    }

    #[test]
    fn parse_errors_display_as_short_english() {
        assert_eq!(
            ParseError::NotHmac.to_string(),
            "not an HMAC authorization header"
        );
        assert_eq!(
            ParseError::MissingParameter("salt").to_string(),
            "missing parameter salt"
        );
        assert_eq!(
            ParseError::DuplicateParameter("date").to_string(),
            "duplicate parameter date"
        );
        assert_eq!(
            ParseError::Malformed.to_string(),
            "malformed HMAC authorization header"
        );
    }

    // --- parse_date ---

    #[test]
    fn parse_date_reads_utc_without_fraction() {
        assert_eq!(
            parse_date("2026-11-21T21:10:11Z"),
            Some(datetime!(2026-11-21 21:10:11 UTC))
        );
        assert_eq!(
            parse_date("2019-07-01T00:41:48Z"),
            Some(datetime!(2019-07-01 00:41:48 UTC))
        );
    }

    #[test]
    fn parse_date_applies_a_positive_offset() {
        assert_eq!(
            parse_date("2026-11-22T06:10:13+09:00"),
            Some(datetime!(2026-11-21 21:10:13 UTC))
        );
    }

    #[test]
    fn parse_date_applies_a_negative_offset() {
        assert_eq!(
            parse_date("2026-11-21T15:40:11-05:30"),
            Some(datetime!(2026-11-21 21:10:11 UTC))
        );
        assert_eq!(
            parse_date("2026-11-21T21:10:11-00:00"),
            Some(datetime!(2026-11-21 21:10:11 UTC))
        );
    }

    #[test]
    fn parse_date_reads_python_microseconds_with_a_zero_offset() {
        assert_eq!(
            parse_date("2026-11-21T21:09:55.594244+00:00"),
            Some(datetime!(2026-11-21 21:09:55.594244 UTC))
        );
    }

    #[test]
    fn parse_date_reads_kotlin_nanoseconds() {
        assert_eq!(
            parse_date("2026-11-22T06:10:13.123456789+09:00"),
            Some(datetime!(2026-11-21 21:10:13.123456789 UTC))
        );
    }

    #[test]
    fn parse_date_reads_kotlin_times_without_seconds() {
        assert_eq!(
            parse_date("2026-11-22T06:10+09:00"),
            Some(datetime!(2026-11-21 21:10:00 UTC))
        );
        assert_eq!(
            parse_date("2026-11-22T06:10Z"),
            Some(datetime!(2026-11-22 06:10:00 UTC))
        );
    }

    #[test]
    fn parse_date_reads_the_php_quirk_as_a_fraction_labelled_utc() {
        assert_eq!(
            parse_date("2026-11-22T06:10:13.32400Z"),
            Some(datetime!(2026-11-22 06:10:13.324 UTC))
        );
    }

    #[test]
    fn parse_date_reads_to_iso_string_milliseconds() {
        assert_eq!(
            parse_date("2026-11-21T21:10:11.123Z"),
            Some(datetime!(2026-11-21 21:10:11.123 UTC))
        );
        assert_eq!(
            parse_date("2026-10-08T00:00:00.000Z"),
            Some(datetime!(2026-10-08 00:00:00 UTC))
        );
    }

    #[test]
    fn parse_date_accepts_lowercase_separator_and_zulu() {
        assert_eq!(
            parse_date("2026-11-21t21:10:11z"),
            Some(datetime!(2026-11-21 21:10:11 UTC))
        );
        assert_eq!(
            parse_date("2026-11-21T21:10:11.5z"),
            Some(datetime!(2026-11-21 21:10:11.5 UTC))
        );
    }

    #[test]
    fn parse_date_returns_utc_normalised_values() {
        let parsed = parse_date("2026-11-22T06:10:13+09:00").unwrap();
        assert_eq!(parsed.offset(), UtcOffset::UTC);
        assert_eq!(parsed.hour(), 21);
    }

    #[test]
    fn parse_date_rejects_garbage() {
        for s in [
            "",
            "2026-13-01T00:00:00Z",
            "2026-11-21",
            "yesterday",
            "２０２６-11-21T21:10:11Z",
            "2026-11-21T21:10:11Zé",
            "2026-11-21T21:10:１１Z",
            "2026-11-21T21:10:11",
            "2026-11-21 21:10:11Z",
            "2026-02-30T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-11-21T24:00:00Z",
            "2026-11-21T21:60:00Z",
            "2026-11-21T21:10:60Z",
            "2026-11-21T21:10:11.Z",
            "2026-11-21T21:10:11.1234567890Z",
            "2026-11-21T21:10.5Z",
            "2026-11-21T21:10:11+0900",
            "2026-11-21T21:10:11+09",
            "2026-11-21T21:10:11+24:00",
            "2026-11-21T21:10:11+09:60",
            "2026-11-21T21:10:11Z ",
            " 2026-11-21T21:10:11Z",
            "+2026-11-21T21:10:11Z",
            "26-11-21T21:10:11Z",
            "2026-1-21T21:10:11Z",
            "2026-11-21T21:10:11ZZ",
        ] {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn parse_date_does_not_panic_at_the_edges_of_the_representable_range() {
        assert_eq!(parse_date("9999-12-31T23:59:59-23:59"), None);
        assert_eq!(
            parse_date("0000-01-01T00:00:00+23:59"),
            Some(datetime!(-0001-12-31 00:01:00 UTC))
        );
        assert_eq!(
            parse_date("9999-12-31T23:59:59.999999999Z"),
            Some(datetime!(9999-12-31 23:59:59.999999999 UTC))
        );
    }

    #[test]
    fn parse_date_does_not_panic_on_any_prefix_or_multibyte_splice() {
        let valid = "2026-11-22T06:10:13.123456789+09:00";
        for end in 0..=valid.len() {
            let _ = parse_date(&valid[..end]);
            for insert in ["é", "한", "\u{0}", "9", "+", ":"] {
                let mut spliced = valid.to_owned();
                spliced.insert_str(end, insert);
                let _ = parse_date(&spliced);
            }
        }
    }
}
