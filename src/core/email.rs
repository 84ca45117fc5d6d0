//! E-mail addresses: validated once at the edge, compared case-insensitively everywhere.

use std::fmt;

/// A syntactically valid e-mail address, as the person typed it (trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Option<Email> {
        let s = raw.trim();
        if s.len() > 254 || !email_address::EmailAddress::is_valid(s) || !s.contains('.') {
            return None;
        }
        // Quoted local parts and IP-literal domains are valid RFC 5322 but no mail system people
        // are invited through uses them; refusing them keeps normalization simple and safe.
        if s.contains('"') || s.contains('[') || s.chars().any(char::is_whitespace) {
            return None;
        }
        Some(Email(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The comparison key: trimmed and lower-cased (whole address; no provider-specific folding).
    pub fn normalized(&self) -> String {
        normalize(&self.0)
    }
}

pub fn normalize(s: &str) -> String {
    s.trim().to_lowercase()
}

impl fmt::Debug for Email {
    // E-mail addresses are personal data: keep them out of debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses_parse_and_normalize_case_insensitively() {
        let e = Email::parse("  New.Person@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "New.Person@Example.COM");
        assert_eq!(e.normalized(), "new.person@example.com");
    }

    #[test]
    fn invalid_addresses_are_refused() {
        for bad in [
            "",
            "plain",
            "a@",
            "@b.c",
            "a b@c.d",
            "a@b",
            "\"q\"@x.y",
            &format!("{}@x.y", "a".repeat(260)),
        ] {
            assert!(Email::parse(bad).is_none(), "{bad}");
        }
    }
}
