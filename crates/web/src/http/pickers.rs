//! The lists the pages offer to choose from: countries by name, and time zones by country.

use latch_domain::country::Country;
use latch_domain::zone::zones_of;

/// One choice of a `<select>`: the value sent and what a person reads.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// A country's zones, under its name.
pub struct ZoneGroup {
    pub country: &'static str,
    pub zones: Vec<Choice>,
}

/// Every country latch knows, by English name.
pub fn countries() -> Vec<(&'static str, &'static str)> {
    Country::all().map(|c| (c.code(), c.name())).collect()
}

/// The given countries (the practice's allowed ones), by English name.
pub fn countries_among(allowed: &[Country]) -> Vec<(&'static str, &'static str)> {
    Country::all()
        .filter(|c| allowed.contains(c))
        .map(|c| (c.code(), c.name()))
        .collect()
}

/// Every country's zones (`Pacific — Los Angeles`), the countries by name, and UTC last. A
/// zone the practice holds that is in no country's list (set through the API) comes first, so
/// the form keeps it.
pub fn time_zones(current: &str) -> Vec<ZoneGroup> {
    let mut groups: Vec<ZoneGroup> = Country::all()
        .filter_map(|country| {
            let zones: Vec<Choice> = zones_of(country)
                .map(|zone| Choice {
                    value: zone.name.to_owned(),
                    label: match zone.area {
                        "" => zone.city(),
                        area => format!("{area} — {}", zone.city()),
                    },
                })
                .collect();
            (!zones.is_empty()).then_some(ZoneGroup {
                country: country.name(),
                zones,
            })
        })
        .collect();
    groups.push(ZoneGroup {
        country: "Other",
        zones: vec![Choice {
            value: "UTC".into(),
            label: "Coordinated Universal Time (UTC)".into(),
        }],
    });
    let listed = groups
        .iter()
        .any(|g| g.zones.iter().any(|z| z.value == current));
    if !listed && !current.is_empty() {
        groups.insert(
            0,
            ZoneGroup {
                country: "Chosen before",
                zones: vec![Choice {
                    value: current.to_owned(),
                    label: current.to_owned(),
                }],
            },
        );
    }
    groups
}
