//! Times as the practice's people read them: on the practice's clock, in words ("Nov 30,
//! 10:31 PM", "2 hours ago"). The API and storage stay UTC.

use latch_domain::Timestamp;
use latch_domain::zone::PracticeZone;

/// A time for a page: what to show, the full time on hover, and the machine's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// RFC 3339 UTC, for `<time datetime>`.
    pub iso: String,
    pub text: String,
    /// The day, the year, the time and the zone's abbreviation.
    pub title: String,
}

impl When {
    /// The day and time ("Nov 30, 10:31 PM"; with the year when it is not this year's).
    pub fn at(t: Timestamp, zone: &PracticeZone, now: Timestamp) -> When {
        When {
            iso: t.to_rfc3339(),
            text: day_and_time(t, zone, now),
            title: full(t, zone),
        }
    }

    /// How long ago ("2 hours ago") while that reads better than a day and time, else the day
    /// and time.
    pub fn ago(t: Timestamp, zone: &PracticeZone, now: Timestamp) -> When {
        When {
            iso: t.to_rfc3339(),
            text: ago(t, now).unwrap_or_else(|| day_and_time(t, zone, now)),
            title: full(t, zone),
        }
    }
}

/// "7:08 PM".
pub fn clock(t: Timestamp, zone: &PracticeZone) -> String {
    zone.local(t).time_of_day()
}

/// "Nov 30, 10:31 PM", or "Nov 30, 2025, 10:31 PM" outside this year.
pub fn day_and_time(t: Timestamp, zone: &PracticeZone, now: Timestamp) -> String {
    let local = zone.local(t);
    if local.year == zone.local(now).year {
        format!("{}, {}", local.day(), local.time_of_day())
    } else {
        format!("{}, {}, {}", local.day(), local.year, local.time_of_day())
    }
}

/// "Nov 30, 2026, 10:31 PM PST": nothing left out, for a title and an export.
pub fn full(t: Timestamp, zone: &PracticeZone) -> String {
    zone.local(t).written()
}

/// "2026-11-30 22:31:44 PST": a spreadsheet reads the time, a person the zone.
pub fn export(t: Timestamp, zone: &PracticeZone) -> String {
    let l = zone.local(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} {}",
        l.year, l.month, l.day, l.hour, l.minute, l.second, l.abbreviation
    )
}

/// "just now", "5 minutes ago", "2 hours ago", "3 days ago"; none past a week or ahead of now.
pub fn ago(t: Timestamp, now: Timestamp) -> Option<String> {
    let seconds = now.seconds() - t.seconds();
    let counted = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit} ago")
        } else {
            format!("{n} {unit}s ago")
        }
    };
    match seconds {
        ..0 => None,
        0..60 => Some("just now".to_owned()),
        60..3_600 => Some(counted(seconds / 60, "minute")),
        3_600..86_400 => Some(counted(seconds / 3_600, "hour")),
        86_400..604_800 => Some(counted(seconds / 86_400, "day")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn los_angeles() -> PracticeZone {
        PracticeZone::parse("America/Los_Angeles").unwrap()
    }

    /// 2026-12-01T06:31:44Z: evening of Nov 30 in California.
    const EVENING: Timestamp = Timestamp(1_796_106_704);

    #[test]
    fn a_california_evening_reads_as_that_evening() {
        let zone = los_angeles();
        assert_eq!(day_and_time(EVENING, &zone, EVENING), "Nov 30, 10:31 PM");
        assert_eq!(full(EVENING, &zone), "Nov 30, 2026, 10:31 PM PST");
        assert_eq!(export(EVENING, &zone), "2026-11-30 22:31:44 PST");
        assert_eq!(clock(EVENING.plus(1_800), &zone), "11:01 PM");
        let utc = PracticeZone::utc();
        assert_eq!(day_and_time(EVENING, &utc, EVENING), "Dec 1, 6:31 AM");
    }

    #[test]
    fn midnight_and_noon_read_as_twelve() {
        let utc = PracticeZone::utc();
        // 2026-12-01T00:05:00Z and 12:05.
        assert_eq!(clock(Timestamp(1_796_083_500), &utc), "12:05 AM");
        assert_eq!(clock(Timestamp(1_796_126_700), &utc), "12:05 PM");
    }

    #[test]
    fn another_year_is_named() {
        let zone = los_angeles();
        let a_year_later = EVENING.plus(365 * 86_400);
        assert_eq!(
            day_and_time(EVENING, &zone, a_year_later),
            "Nov 30, 2026, 10:31 PM"
        );
    }

    #[test]
    fn recent_times_read_as_how_long_ago() {
        let now = EVENING;
        assert_eq!(ago(now, now).as_deref(), Some("just now"));
        assert_eq!(ago(now.minus(60), now).as_deref(), Some("1 minute ago"));
        assert_eq!(ago(now.minus(7_200), now).as_deref(), Some("2 hours ago"));
        assert_eq!(
            ago(now.minus(3 * 86_400), now).as_deref(),
            Some("3 days ago")
        );
        assert_eq!(ago(now.minus(8 * 86_400), now), None);
        assert_eq!(ago(now.plus(60), now), None);
        let zone = los_angeles();
        let week_ago = When::ago(now.minus(8 * 86_400), &zone, now);
        assert_eq!(week_ago.text, "Nov 22, 10:31 PM");
        assert_eq!(week_ago.iso, "2026-11-23T06:31:44Z");
    }
}
