//! The remembered-device cookie of one browser: a token per person who chose to be remembered
//! there, up to 20 (a shared front-desk computer), the oldest dropped first; and the people
//! who signed in there before, so a sign-in from a browser new to a person can tell them.

pub const PEOPLE_PER_BROWSER: usize = 20;
const DAY_SECONDS: i64 = 86_400;

/// The entries of a browser's remembered-device cookie, oldest first. Each pairs a keyed tag of
/// the person (so the cookie names nobody) with that person's device token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrowserDevices {
    entries: Vec<(String, String)>,
    /// The tags of the people who gave their right password in this browser, oldest first.
    seen: Vec<String>,
}

fn is_hex(s: &str, max: usize) -> bool {
    !s.is_empty() && s.len() <= max && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl BrowserDevices {
    /// Reads `tag~token.tag~token`; anything malformed is ignored.
    pub fn parse(cookie: &str) -> Self {
        let mut entries: Vec<(String, String)> = cookie
            .split('.')
            .filter_map(|e| e.split_once('~'))
            .filter(|(tag, token)| is_hex(tag, 32) && is_hex(token, 64))
            .map(|(tag, token)| (tag.to_owned(), token.to_owned()))
            .collect();
        let excess = entries.len().saturating_sub(PEOPLE_PER_BROWSER);
        entries.drain(..excess);
        BrowserDevices {
            entries,
            seen: Vec::new(),
        }
    }

    /// Adds what the browser's seen cookie (`tag.tag`) says; anything malformed is ignored.
    pub fn having_seen(mut self, cookie: &str) -> Self {
        self.seen = cookie
            .split('.')
            .filter(|tag| is_hex(tag, 32))
            .map(str::to_owned)
            .collect();
        let excess = self.seen.len().saturating_sub(PEOPLE_PER_BROWSER);
        self.seen.drain(..excess);
        self
    }

    /// Whether the person tagged `tag` signed in here before (or is remembered here).
    pub fn has_seen(&self, tag: &str) -> bool {
        self.seen.iter().any(|t| t == tag) || self.token_for(tag).is_some()
    }

    /// The seen cookie with the person tagged `tag` as the newest.
    pub fn seen_cookie_with(&self, tag: &str) -> String {
        let mut seen: Vec<&str> = self
            .seen
            .iter()
            .map(String::as_str)
            .filter(|t| *t != tag)
            .collect();
        seen.push(tag);
        let excess = seen.len().saturating_sub(PEOPLE_PER_BROWSER);
        seen[excess..].join(".")
    }

    pub fn token_for(&self, tag: &str) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|(t, _)| t == tag)
            .map(|(_, token)| token.as_str())
    }

    /// Remembers `token` for the person tagged `tag`, as the newest entry.
    pub fn with(mut self, tag: &str, token: &str) -> Self {
        self.entries.retain(|(t, _)| t != tag);
        self.entries.push((tag.to_owned(), token.to_owned()));
        let excess = self.entries.len().saturating_sub(PEOPLE_PER_BROWSER);
        self.entries.drain(..excess);
        self
    }

    pub fn without(mut self, tag: &str) -> Self {
        self.entries.retain(|(t, _)| t != tag);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn to_cookie(&self) -> String {
        self.entries
            .iter()
            .map(|(tag, token)| format!("{tag}~{token}"))
            .collect::<Vec<_>>()
            .join(".")
    }
}

/// How long a browser is remembered under the practice's limit; none when the limit is 0.
pub fn remember_seconds(remember_device_days: u32) -> Option<i64> {
    (remember_device_days > 0).then(|| i64::from(remember_device_days) * DAY_SECONDS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(n: usize) -> String {
        format!("{n:032x}")
    }

    #[test]
    fn a_browser_remembers_twenty_people_and_drops_the_oldest() {
        let mut b = BrowserDevices::default();
        for n in 0..25 {
            b = b.with(&hex(n), &format!("{n:064x}"));
        }
        assert_eq!(b.len(), 20);
        assert!(b.token_for(&hex(4)).is_none(), "the oldest went first");
        assert!(b.token_for(&hex(5)).is_some());
        assert_eq!(BrowserDevices::parse(&b.to_cookie()), b);
    }

    #[test]
    fn remembering_someone_again_replaces_their_token() {
        let b = BrowserDevices::default()
            .with(&hex(1), &"a".repeat(64))
            .with(&hex(1), &"b".repeat(64));
        assert_eq!(b.len(), 1);
        assert_eq!(b.token_for(&hex(1)), Some("b".repeat(64).as_str()));
        assert!(b.without(&hex(1)).is_empty());
    }

    #[test]
    fn malformed_entries_are_ignored() {
        let b = BrowserDevices::parse("zz~11.12~<script>.ab~cd");
        assert_eq!(b.to_cookie(), "ab~cd");
    }

    #[test]
    fn a_limit_of_zero_remembers_nothing() {
        assert_eq!(remember_seconds(0), None);
        assert_eq!(remember_seconds(365), Some(365 * 86_400));
    }

    #[test]
    fn a_browser_remembers_who_signed_in_there_for_twenty_people() {
        let tag = |n: usize| format!("{n:032x}");
        let browser =
            BrowserDevices::default().having_seen(&format!("{}.nonsense.{}", tag(1), tag(2)));
        assert!(browser.has_seen(&tag(1)) && browser.has_seen(&tag(2)));
        assert!(!browser.has_seen(&tag(3)));
        let mut cookie = String::new();
        for n in 0..25 {
            cookie = BrowserDevices::default()
                .having_seen(&cookie)
                .seen_cookie_with(&tag(n));
        }
        let browser = BrowserDevices::default().having_seen(&cookie);
        assert!(!browser.has_seen(&tag(4)), "the oldest went");
        assert!(browser.has_seen(&tag(5)) && browser.has_seen(&tag(24)));
        let remembered = BrowserDevices::default().with(&tag(7), &"ab".repeat(32));
        assert!(
            remembered.has_seen(&tag(7)),
            "a remembered browser is known"
        );
    }
}
