//! Countries as ISO 3166-1 alpha-2 codes: the practice's country and, later, allowed countries.

use crate::country_list::COUNTRIES;

/// A known ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country(&'static str);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a country latch knows")]
pub struct UnknownCountry;

impl Country {
    pub fn parse(raw: &str) -> Result<Self, UnknownCountry> {
        let wanted = raw.trim().to_ascii_uppercase();
        COUNTRIES
            .iter()
            .find(|(code, _)| *code == wanted)
            .map(|(code, _)| Country(code))
            .ok_or(UnknownCountry)
    }

    pub fn code(self) -> &'static str {
        self.0
    }

    pub fn name(self) -> &'static str {
        COUNTRIES
            .iter()
            .find(|(code, _)| *code == self.0)
            .map_or(self.0, |(_, name)| name)
    }

    /// Every country, sorted by English name, for a picker.
    pub fn all() -> impl Iterator<Item = Country> {
        COUNTRIES.iter().map(|(code, _)| Country(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_country_code_is_read_in_any_case() {
        assert_eq!(Country::parse(" us ").unwrap().code(), "US");
        assert_eq!(Country::parse("gb").unwrap().name(), "United Kingdom");
    }

    #[test]
    fn an_unknown_code_is_refused() {
        assert!(Country::parse("XX").is_err());
        assert!(Country::parse("").is_err());
        assert!(Country::parse("USA").is_err());
    }

    #[test]
    fn the_list_is_sorted_as_people_sort_it() {
        let fold = |name: &str| -> String {
            name.chars()
                .map(|c| match c {
                    'Å' => 'a',
                    'ç' => 'c',
                    'ô' => 'o',
                    'é' => 'e',
                    'ü' => 'u',
                    other => other.to_ascii_lowercase(),
                })
                .collect()
        };
        let names: Vec<String> = Country::all().map(|c| fold(c.name())).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        let first: Vec<&str> = Country::all().take(3).map(Country::name).collect();
        assert_eq!(first, ["Afghanistan", "Åland Islands", "Albania"]);
    }

    #[test]
    fn the_list_is_complete() {
        assert!(Country::all().count() >= 240);
    }
}
