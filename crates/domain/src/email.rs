//! Email addresses: parsed once at the edge, compared case-insensitively everywhere.

use std::fmt;

/// An email address as the person typed it (trimmed), with its case-folded form for comparison.
#[derive(Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an email address")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let display = raw.trim();
        if display.is_empty() || display.len() > 254 {
            return Err(InvalidEmail);
        }
        let (local, domain) = display.rsplit_once('@').ok_or(InvalidEmail)?;
        let domain_ok = !domain.is_empty()
            && domain.len() <= 253
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.chars().any(|c| c.is_whitespace() || c.is_control());
        if !(domain_ok && local_ok) {
            return Err(InvalidEmail);
        }
        Ok(Email {
            display: display.to_owned(),
            normalized: display.to_lowercase(),
        })
    }

    /// Reads an address latch stored itself, which was parsed on its way in.
    pub fn from_stored(display: &str) -> Self {
        Email {
            display: display.to_owned(),
            normalized: display.to_lowercase(),
        }
    }

    /// The address as the person wrote it.
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-folded address that uniqueness, sign-in and limits compare.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.display)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_is_trimmed_and_compared_without_case() {
        let email = Email::parse("  Dana.Reed@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "Dana.Reed@Example.COM");
        assert_eq!(email.normalized(), "dana.reed@example.com");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for raw in [
            "",
            "dana",
            "dana@",
            "@example.com",
            "dana@example",
            "dana@@example.com",
            "da na@example.com",
            "dana@exa mple.com",
            "dana@.example.com",
            "dana@example..com",
        ] {
            assert_eq!(Email::parse(raw), Err(InvalidEmail), "{raw:?}");
        }
    }

    #[test]
    fn an_overlong_address_is_refused() {
        let raw = format!("{}@example.com", "a".repeat(250));
        assert!(Email::parse(&raw).is_err());
    }
}
