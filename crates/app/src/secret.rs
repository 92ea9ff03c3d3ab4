//! Secrets that must never be printed: passwords and tokens on their way through latch.

use std::fmt;
use zeroize::Zeroize;

/// A secret string whose `Debug` and `Display` say nothing about it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself, for the one place that needs it (a hash, a cookie value).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // SECURITY: wipe the bytes so a freed password does not linger in memory.
        self.0.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_itself() {
        let s = Secret::new("hunter2-correct-horse");
        assert!(!format!("{s:?}").contains("hunter2"));
    }
}
