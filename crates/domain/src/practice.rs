//! A practice's security settings and their bounds.

use crate::country::Country;
use crate::method::MethodKind;
use crate::role::Role;
use crate::zone::PracticeZone;

/// Who the practice requires to use two-factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequireTwoFactor {
    Off,
    /// Owners, managers and staff: everyone but clients.
    Staff,
    StaffAndClients,
}

impl RequireTwoFactor {
    pub const ALL: [RequireTwoFactor; 3] = [
        RequireTwoFactor::Off,
        RequireTwoFactor::Staff,
        RequireTwoFactor::StaffAndClients,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "off" => Some(RequireTwoFactor::Off),
            "staff" => Some(RequireTwoFactor::Staff),
            "staff_and_clients" => Some(RequireTwoFactor::StaffAndClients),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RequireTwoFactor::Off => "off",
            RequireTwoFactor::Staff => "staff",
            RequireTwoFactor::StaffAndClients => "staff_and_clients",
        }
    }

    pub fn covers(self, role: Role) -> bool {
        match self {
            RequireTwoFactor::Off => false,
            RequireTwoFactor::Staff => role.is_staff(),
            RequireTwoFactor::StaffAndClients => true,
        }
    }
}

pub const REMEMBER_DEVICE_DAYS_MAX: u32 = 365;
pub const IDLE_MINUTES_MIN: u32 = 5;
pub const IDLE_MINUTES_MAX: u32 = 120;
pub const DAILY_SEND_BUDGET_MAX: u32 = 100_000;

/// The practice's security settings, always within their bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecuritySettings {
    pub require_two_factor: RequireTwoFactor,
    pub remember_device_days: u32,
    pub sign_out_after_idle_minutes: u32,
    pub allowed_countries: Vec<Country>,
    pub daily_send_budget: u32,
    /// How pages, emails and the CSV show times to the practice; storage and the API stay UTC.
    pub time_zone: PracticeZone,
    /// The two-factor methods people of the practice may add (at least one); a method already
    /// in use stays until its owner changes it.
    pub methods_allowed: Vec<MethodKind>,
}

/// A setting outside its bounds (for allowed countries: none allowed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is outside its bounds")]
pub struct InvalidSetting(pub Setting);

/// A security setting, to say which one a refusal is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    RequireTwoFactor,
    RememberDeviceDays,
    IdleMinutes,
    AllowedCountries,
    DailySendBudget,
    TimeZone,
    MethodsAllowed,
}

impl SecuritySettings {
    /// What a new practice starts with.
    pub fn new_practice(country: Country) -> Self {
        SecuritySettings {
            require_two_factor: RequireTwoFactor::Off,
            remember_device_days: REMEMBER_DEVICE_DAYS_MAX,
            sign_out_after_idle_minutes: 15,
            allowed_countries: vec![country],
            daily_send_budget: 500,
            time_zone: PracticeZone::of_country(country),
            methods_allowed: MethodKind::ALL.to_vec(),
        }
    }

    /// Checks every bound, and refuses with each one broken, in the order the form shows them;
    /// the settings are only built through this or `new_practice`.
    pub fn validate(self) -> Result<Self, Vec<InvalidSetting>> {
        let broken = [
            (
                self.remember_device_days > REMEMBER_DEVICE_DAYS_MAX,
                InvalidSetting(Setting::RememberDeviceDays),
            ),
            (
                !(IDLE_MINUTES_MIN..=IDLE_MINUTES_MAX).contains(&self.sign_out_after_idle_minutes),
                InvalidSetting(Setting::IdleMinutes),
            ),
            (
                self.allowed_countries.is_empty(),
                InvalidSetting(Setting::AllowedCountries),
            ),
            (
                !(1..=DAILY_SEND_BUDGET_MAX).contains(&self.daily_send_budget),
                InvalidSetting(Setting::DailySendBudget),
            ),
            (
                self.methods_allowed.is_empty(),
                InvalidSetting(Setting::MethodsAllowed),
            ),
        ];
        let broken: Vec<InvalidSetting> = broken
            .into_iter()
            .filter_map(|(is_broken, refusal)| is_broken.then_some(refusal))
            .collect();
        if broken.is_empty() {
            Ok(self)
        } else {
            Err(broken)
        }
    }

    /// Allowed countries as stored: `US,CA`.
    pub fn allowed_countries_text(&self) -> String {
        self.allowed_countries
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse_allowed_countries(text: &str) -> Vec<Country> {
        text.split(',')
            .filter_map(|code| Country::parse(code).ok())
            .collect()
    }

    /// The methods people may add, as stored: `passkey,totp,sms,voice`, in `MethodKind::ALL`'s
    /// order whatever order they were given in.
    pub fn methods_allowed_text(&self) -> String {
        MethodKind::in_order(&self.methods_allowed)
            .into_iter()
            .map(MethodKind::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse_methods_allowed(text: &str) -> Vec<MethodKind> {
        let named: Vec<MethodKind> = text.split(',').filter_map(MethodKind::parse).collect();
        MethodKind::in_order(&named)
    }

    /// Whether people of the practice may add this method now.
    pub fn allows(&self, kind: MethodKind) -> bool {
        self.methods_allowed.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SecuritySettings {
        SecuritySettings::new_practice(Country::parse("US").unwrap())
    }

    #[test]
    fn a_new_practice_starts_with_the_documented_defaults() {
        let s = settings();
        assert_eq!(s.require_two_factor, RequireTwoFactor::Off);
        assert_eq!(s.remember_device_days, 365);
        assert_eq!(s.sign_out_after_idle_minutes, 15);
        assert_eq!(s.allowed_countries_text(), "US");
        assert_eq!(s.daily_send_budget, 500);
        assert_eq!(s.time_zone.name(), "America/New_York");
        assert_eq!(s.methods_allowed_text(), "passkey,totp,sms,voice");
    }

    #[test]
    fn methods_allowed_keep_one_order_and_at_least_one() {
        let s = SecuritySettings {
            methods_allowed: SecuritySettings::parse_methods_allowed("totp,fax,passkey,totp"),
            ..settings()
        };
        assert_eq!(s.methods_allowed_text(), "passkey,totp");
        assert!(s.allows(MethodKind::Totp) && !s.allows(MethodKind::Sms));
        let none = SecuritySettings {
            methods_allowed: Vec::new(),
            ..settings()
        };
        assert_eq!(
            none.validate().err(),
            Some(vec![InvalidSetting(Setting::MethodsAllowed)])
        );
    }

    #[test]
    fn every_setting_is_bounded() {
        assert!(
            SecuritySettings {
                remember_device_days: 366,
                ..settings()
            }
            .validate()
            .is_err()
        );
        assert!(
            SecuritySettings {
                remember_device_days: 0,
                ..settings()
            }
            .validate()
            .is_ok()
        );
        assert!(
            SecuritySettings {
                sign_out_after_idle_minutes: 4,
                ..settings()
            }
            .validate()
            .is_err()
        );
        assert!(
            SecuritySettings {
                sign_out_after_idle_minutes: 121,
                ..settings()
            }
            .validate()
            .is_err()
        );
        assert!(
            SecuritySettings {
                sign_out_after_idle_minutes: 120,
                ..settings()
            }
            .validate()
            .is_ok()
        );
        assert!(
            SecuritySettings {
                daily_send_budget: 0,
                ..settings()
            }
            .validate()
            .is_err()
        );
        assert!(
            SecuritySettings {
                daily_send_budget: 100_001,
                ..settings()
            }
            .validate()
            .is_err()
        );
        assert!(
            SecuritySettings {
                allowed_countries: vec![],
                ..settings()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn every_bound_broken_is_refused_at_once() {
        let broken = SecuritySettings {
            sign_out_after_idle_minutes: 4,
            daily_send_budget: 0,
            ..settings()
        }
        .validate()
        .unwrap_err();
        let settings: Vec<Setting> = broken.iter().map(|InvalidSetting(s)| *s).collect();
        assert_eq!(settings, [Setting::IdleMinutes, Setting::DailySendBudget]);
    }

    #[test]
    fn the_rule_covers_the_roles_it_names() {
        assert!(!RequireTwoFactor::Off.covers(Role::Owner));
        assert!(RequireTwoFactor::Staff.covers(Role::Owner));
        assert!(RequireTwoFactor::Staff.covers(Role::Staff));
        assert!(!RequireTwoFactor::Staff.covers(Role::Client));
        assert!(RequireTwoFactor::StaffAndClients.covers(Role::Client));
    }
}
