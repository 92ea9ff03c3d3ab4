//! A person's display name.

/// A person's or practice's display name: trimmed, 1–100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a name of 1 to 100 characters")]
pub struct InvalidName;

impl Name {
    pub fn parse(raw: &str) -> Result<Self, InvalidName> {
        let name = raw.trim();
        let length = name.chars().count();
        if length == 0 || length > 100 || name.chars().any(char::is_control) {
            return Err(InvalidName);
        }
        Ok(Name(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Dana Reed ").unwrap().as_str(), "Dana Reed");
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(101)).is_err());
        assert!(Name::parse("Dana\nReed").is_err());
        assert!(Name::parse(&"é".repeat(100)).is_ok());
    }
}
