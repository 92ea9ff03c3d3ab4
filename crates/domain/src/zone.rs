//! The practice's time zone: an IANA name the tz database knows, the zones of each country, and
//! an instant as the practice's clock reads it.

use std::fmt;

use crate::country::Country;
use crate::time::Timestamp;
use crate::zone_list::ZONES;

/// A time zone the tz database knows, by its IANA name (`America/Los_Angeles`).
#[derive(Clone)]
pub struct PracticeZone {
    name: String,
    tz: jiff::tz::TimeZone,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a time zone latch knows")]
pub struct UnknownZone;

/// Countries whose first zone in the tz database's list is not where most of its people live.
const MAIN_ZONES: &[(&str, &str)] = &[
    ("AU", "Australia/Sydney"),
    ("BR", "America/Sao_Paulo"),
    ("CA", "America/Toronto"),
    ("RU", "Europe/Moscow"),
    ("UA", "Europe/Kyiv"),
    ("UZ", "Asia/Tashkent"),
];

impl PracticeZone {
    /// Reads an IANA name in any case, and keeps it as the tz database spells it.
    pub fn parse(raw: &str) -> Result<Self, UnknownZone> {
        let raw = raw.trim();
        // A name is letters, digits and `/_-+`; this also keeps paths away from the database.
        if raw.is_empty()
            || raw.len() > 64
            || !raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c))
        {
            return Err(UnknownZone);
        }
        let tz = jiff::tz::db().get(raw).map_err(|_| UnknownZone)?;
        let name = tz.iana_name().unwrap_or(raw).to_owned();
        Ok(PracticeZone { name, tz })
    }

    pub fn utc() -> Self {
        PracticeZone {
            name: "UTC".to_owned(),
            tz: jiff::tz::TimeZone::UTC,
        }
    }

    /// Where most of the country's people live: its only zone, or its main one.
    pub fn of_country(country: Country) -> Self {
        let main = MAIN_ZONES
            .iter()
            .find(|(code, _)| *code == country.code())
            .map(|(_, zone)| *zone)
            .or_else(|| zones_of(country).next().map(|z| z.name));
        main.and_then(|name| PracticeZone::parse(name).ok())
            .unwrap_or_else(PracticeZone::utc)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant as a clock in this zone reads it.
    pub fn local(&self, at: Timestamp) -> LocalTime {
        let instant =
            jiff::Timestamp::from_second(at.seconds()).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let clock = self.tz.to_datetime(instant);
        LocalTime {
            year: clock.year(),
            month: clock.month(),
            day: clock.day(),
            hour: clock.hour(),
            minute: clock.minute(),
            second: clock.second(),
            abbreviation: self.tz.to_offset_info(instant).abbreviation().to_owned(),
        }
    }
}

impl PracticeZone {
    /// When the day `YYYY-MM-DD` begins on this zone's clock (at its first instant, even on a
    /// day whose midnight a clock change skips); none for what is not a date.
    pub fn start_of_day(&self, date: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = date.trim().parse().ok()?;
        let start = date
            .to_zoned_datetime(self.tz.clone())
            .ok()?
            .start_of_day()
            .ok()?;
        Some(Timestamp(start.timestamp().as_second()))
    }

    /// When the day after `YYYY-MM-DD` begins on this zone's clock.
    pub fn start_of_next_day(&self, date: &str) -> Option<Timestamp> {
        let date: jiff::civil::Date = date.trim().parse().ok()?;
        let next = date.tomorrow().ok()?;
        self.start_of_day(&next.to_string())
    }
}

impl PartialEq for PracticeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for PracticeZone {}

impl fmt::Debug for PracticeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PracticeZone").field(&self.name).finish()
    }
}

impl fmt::Display for PracticeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// An instant on the practice's clock: the calendar day, the time and the zone's abbreviation
/// then (`PST`, `PDT`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
    pub second: i8,
    pub abbreviation: String,
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl LocalTime {
    /// "Nov 30": the day, as pages and emails show it.
    pub fn day(&self) -> String {
        let month = MONTHS[usize::try_from(self.month - 1).unwrap_or(0) % 12];
        format!("{month} {}", self.day)
    }

    /// "7:08 PM".
    pub fn time_of_day(&self) -> String {
        let (hour, half) = match self.hour {
            0 => (12, "AM"),
            1..=11 => (self.hour, "AM"),
            12 => (12, "PM"),
            _ => (self.hour - 12, "PM"),
        };
        format!("{hour}:{:02} {half}", self.minute)
    }

    /// "Nov 30, 2026, 10:31 PM PST": nothing left out, for a title, an export or an email.
    pub fn written(&self) -> String {
        format!(
            "{}, {}, {} {}",
            self.day(),
            self.year,
            self.time_of_day(),
            self.abbreviation
        )
    }
}

/// One zone of a country, with the tz database's words for where it applies (`Pacific`,
/// `Central (most areas)`; empty where the country has one zone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountryZone {
    pub name: &'static str,
    pub area: &'static str,
}

impl CountryZone {
    /// The zone's main city, as people write it (`Los Angeles`).
    pub fn city(self) -> String {
        self.name
            .rsplit('/')
            .next()
            .unwrap_or(self.name)
            .replace('_', " ")
    }
}

/// The country's zones, in the tz database's order.
pub fn zones_of(country: Country) -> impl Iterator<Item = CountryZone> {
    ZONES
        .iter()
        .filter(move |(code, _, _)| *code == country.code())
        .map(|(_, name, area)| CountryZone { name, area })
}

/// Whether every zone of the country keeps the same clock, winter and summer (Germany's
/// Büsingen keeps Berlin's; Spain's Canary Islands do not), so that the country alone says the
/// practice's time.
pub fn has_one_clock(country: Country) -> bool {
    // Mid-January and mid-July of 2026: one in each half of any summer-time rule.
    let instants = [1_768_478_400, 1_784_116_800]
        .map(|s| jiff::Timestamp::from_second(s).unwrap_or(jiff::Timestamp::UNIX_EPOCH));
    let clock = |zone: CountryZone| {
        let tz = jiff::tz::db().get(zone.name).ok()?;
        Some(instants.map(|at| tz.to_offset(at)))
    };
    let mut clocks = zones_of(country).map(clock);
    match clocks.next() {
        None => true,
        Some(first) => clocks.all(|other| other == first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn country(code: &str) -> Country {
        Country::parse(code).unwrap()
    }

    #[test]
    fn every_listed_zone_is_known() {
        for country in Country::all() {
            for zone in zones_of(country) {
                assert!(PracticeZone::parse(zone.name).is_ok(), "{}", zone.name);
            }
        }
    }

    #[test]
    fn a_name_is_read_in_any_case_and_kept_as_spelled() {
        assert_eq!(
            PracticeZone::parse(" america/los_angeles ").unwrap().name(),
            "America/Los_Angeles"
        );
        assert_eq!(PracticeZone::parse("UTC").unwrap().name(), "UTC");
    }

    #[test]
    fn what_is_not_a_zone_is_refused() {
        for raw in [
            "",
            "Mars/Olympus_Mons",
            "Pacific",
            "../../etc/passwd",
            "America/Los Angeles",
        ] {
            assert_eq!(PracticeZone::parse(raw).unwrap_err(), UnknownZone, "{raw}");
        }
    }

    #[test]
    fn a_country_gives_where_most_of_its_people_live() {
        assert_eq!(
            PracticeZone::of_country(country("DE")).name(),
            "Europe/Berlin"
        );
        assert_eq!(
            PracticeZone::of_country(country("US")).name(),
            "America/New_York"
        );
        assert_eq!(
            PracticeZone::of_country(country("CA")).name(),
            "America/Toronto"
        );
        assert_eq!(
            PracticeZone::of_country(country("AU")).name(),
            "Australia/Sydney"
        );
        // Bouvet Island has nobody and no zone of its own.
        assert_eq!(PracticeZone::of_country(country("BV")).name(), "UTC");
    }

    #[test]
    fn an_evening_in_california_is_still_the_day_before_in_utc() {
        let zone = PracticeZone::parse("America/Los_Angeles").unwrap();
        // 2026-12-01T06:31:44Z
        let local = zone.local(Timestamp(1_796_106_704));
        assert_eq!(
            (local.year, local.month, local.day, local.hour, local.minute),
            (2026, 11, 30, 22, 31)
        );
        assert_eq!(local.abbreviation, "PST");
        // Summer time: 2026-07-01T19:00:00Z is noon, PDT.
        let summer = zone.local(Timestamp(1_782_932_400));
        assert_eq!((summer.hour, summer.abbreviation.as_str()), (12, "PDT"));
    }

    #[test]
    fn a_day_begins_at_the_practices_midnight() {
        let zone = PracticeZone::parse("America/Los_Angeles").unwrap();
        // 2026-11-30T08:00:00Z is midnight in California (PST, UTC−8).
        assert_eq!(
            zone.start_of_day("2026-11-30"),
            Some(Timestamp(1_796_025_600))
        );
        assert_eq!(
            zone.start_of_next_day("2026-11-30"),
            Some(Timestamp(1_796_025_600 + 86_400))
        );
        // The day summer time begins has 23 hours.
        let (start, next) = (
            zone.start_of_day("2026-03-08").unwrap(),
            zone.start_of_next_day("2026-03-08").unwrap(),
        );
        assert_eq!(next.seconds() - start.seconds(), 23 * 3_600);
        assert_eq!(zone.start_of_day("2026-02-30"), None);
        assert_eq!(zone.start_of_day("yesterday"), None);
    }

    #[test]
    fn a_countrys_zones_say_where_they_apply() {
        let us: Vec<CountryZone> = zones_of(country("US")).collect();
        assert!(us.len() > 20);
        let la = us.iter().find(|z| z.name == "America/Los_Angeles").unwrap();
        assert_eq!((la.area, la.city().as_str()), ("Pacific", "Los Angeles"));
        assert_eq!(zones_of(country("DE")).count(), 2);
    }

    #[test]
    fn a_country_has_one_clock_when_its_zones_keep_the_same_time() {
        for code in ["DE", "GB", "FR", "BV", "JP"] {
            assert!(has_one_clock(country(code)), "{code}");
        }
        for code in ["US", "CA", "ES", "AU", "BR", "PT"] {
            assert!(!has_one_clock(country(code)), "{code}");
        }
    }
}
