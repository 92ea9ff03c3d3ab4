//! The practice's security settings: who must use two-factor, how long browsers are
//! remembered, idle sign-out, allowed countries, the daily send budget and the time zone.

use std::sync::Arc;

use latch_domain::Permission;
use latch_domain::audit::AuditKind;
use latch_domain::country::Country;
use latch_domain::method::MethodKind;
use latch_domain::practice::{InvalidSetting, RequireTwoFactor, SecuritySettings, Setting};
use latch_domain::zone::PracticeZone;

use crate::audit::{Event, record, remembered_browsers};
use crate::error::{AppError, Field, Reason, Refusal, Refusals};
use crate::latch::Core;
use crate::password_check::check_password_again;
use crate::records::{Account, ClientInfo};
use crate::secret::Secret;
use crate::session::grant_reauthentication;
use crate::sign_in::Authenticated;

/// A change to some settings; fields left out stay as they are.
#[derive(Debug, Clone, Default)]
pub struct SecurityUpdate {
    pub require_two_factor: Option<String>,
    pub remember_device_days: Option<i64>,
    pub sign_out_after_idle_minutes: Option<i64>,
    pub allowed_countries: Option<Vec<String>>,
    pub daily_send_budget: Option<i64>,
    /// An IANA name (`America/Los_Angeles`).
    pub time_zone: Option<String>,
    /// Method kinds (`passkey`, `totp`, `sms`, `voice`), at least one.
    pub methods_allowed: Option<Vec<String>>,
}

#[derive(Clone)]
pub struct PracticeService {
    core: Arc<Core>,
}

fn refusal(setting: Setting, reason: Reason) -> Refusal {
    let field = match setting {
        Setting::RequireTwoFactor => Field::RequireTwoFactor,
        Setting::RememberDeviceDays => Field::RememberDeviceDays,
        Setting::IdleMinutes => Field::IdleMinutes,
        Setting::AllowedCountries => Field::AllowedCountries,
        Setting::DailySendBudget => Field::DailySendBudget,
        Setting::TimeZone => Field::TimeZone,
        Setting::MethodsAllowed => Field::MethodsAllowed,
    };
    Refusal::of(field, reason)
}

impl SecurityUpdate {
    /// The settings after this change, within every bound; refused with every value that is
    /// not, so the form can show each beside its field at once.
    pub fn apply(&self, current: &SecuritySettings) -> Result<SecuritySettings, AppError> {
        let mut next = current.clone();
        let mut refused = Vec::new();
        let mut refuse = |setting, reason| refused.push(refusal(setting, reason));
        if let Some(raw) = &self.require_two_factor {
            match RequireTwoFactor::parse(raw) {
                Some(rule) => next.require_two_factor = rule,
                None => refuse(
                    Setting::RequireTwoFactor,
                    Reason::Setting(Setting::RequireTwoFactor),
                ),
            }
        }
        if let Some(days) = self.remember_device_days {
            match u32::try_from(days) {
                Ok(days) => next.remember_device_days = days,
                Err(_) => refuse(
                    Setting::RememberDeviceDays,
                    Reason::Setting(Setting::RememberDeviceDays),
                ),
            }
        }
        if let Some(minutes) = self.sign_out_after_idle_minutes {
            match u32::try_from(minutes) {
                Ok(minutes) => next.sign_out_after_idle_minutes = minutes,
                Err(_) => refuse(Setting::IdleMinutes, Reason::Setting(Setting::IdleMinutes)),
            }
        }
        if let Some(codes) = &self.allowed_countries {
            match codes
                .iter()
                .map(|c| Country::parse(c))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(parsed) => {
                    let mut countries = Vec::new();
                    for country in parsed {
                        if !countries.contains(&country) {
                            countries.push(country);
                        }
                    }
                    next.allowed_countries = countries;
                }
                Err(_) => refuse(Setting::AllowedCountries, Reason::AllowedCountries),
            }
        }
        if let Some(budget) = self.daily_send_budget {
            match u32::try_from(budget) {
                Ok(budget) => next.daily_send_budget = budget,
                Err(_) => refuse(
                    Setting::DailySendBudget,
                    Reason::Setting(Setting::DailySendBudget),
                ),
            }
        }
        if let Some(raw) = &self.time_zone {
            match PracticeZone::parse(raw) {
                Ok(zone) => next.time_zone = zone,
                Err(_) => refuse(Setting::TimeZone, Reason::Setting(Setting::TimeZone)),
            }
        }
        if let Some(kinds) = &self.methods_allowed {
            match kinds
                .iter()
                .map(|k| MethodKind::parse(k).ok_or(()))
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(kinds) => next.methods_allowed = MethodKind::in_order(&kinds),
                Err(()) => refuse(
                    Setting::MethodsAllowed,
                    Reason::Setting(Setting::MethodsAllowed),
                ),
            }
        }
        if let Err(broken) = next.clone().validate() {
            for InvalidSetting(setting) in broken {
                refuse(setting, Reason::Setting(setting));
            }
        }
        // In the order the form shows its fields.
        refused.sort_by_key(|r| Field::ALL.iter().position(|f| Some(*f) == r.field));
        match Refusals::of(refused) {
            Some(refusals) => Err(AppError::InvalidSetting(refusals)),
            None => Ok(next),
        }
    }
}

/// "field: old → new" for each setting that changed, for the audit trail.
fn describe_changes(old: &SecuritySettings, new: &SecuritySettings) -> Vec<String> {
    let mut changes = Vec::new();
    let mut note = |field: &str, a: String, b: String| {
        if a != b {
            changes.push(format!("{field}: {a} → {b}"));
        }
    };
    note(
        "require_two_factor",
        old.require_two_factor.as_str().into(),
        new.require_two_factor.as_str().into(),
    );
    note(
        "remember_device_days",
        old.remember_device_days.to_string(),
        new.remember_device_days.to_string(),
    );
    note(
        "sign_out_after_idle_minutes",
        old.sign_out_after_idle_minutes.to_string(),
        new.sign_out_after_idle_minutes.to_string(),
    );
    note(
        "allowed_countries",
        old.allowed_countries_text(),
        new.allowed_countries_text(),
    );
    note(
        "daily_send_budget",
        old.daily_send_budget.to_string(),
        new.daily_send_budget.to_string(),
    );
    note(
        "time_zone",
        old.time_zone.name().to_owned(),
        new.time_zone.name().to_owned(),
    );
    note(
        "methods_allowed",
        old.methods_allowed_text(),
        new.methods_allowed_text(),
    );
    changes
}

impl PracticeService {
    pub(crate) fn new(core: Arc<Core>) -> Self {
        PracticeService { core }
    }

    pub fn security(&self, actor: &Account) -> Result<SecuritySettings, AppError> {
        if !actor.person.role.allows(Permission::ManageSecurity) {
            return Err(AppError::Forbidden);
        }
        Ok(actor.practice.security.clone())
    }

    /// Changes the settings (owners and managers, password re-entered). Lowering how long
    /// browsers are remembered ends the devices remembered before the new limit.
    pub async fn update_security(
        &self,
        who: &Authenticated,
        update: &SecurityUpdate,
        client: &ClientInfo,
    ) -> Result<SecuritySettings, AppError> {
        self.core
            .in_one_transaction(move |core| async move {
                update_security(&core, who, update, client).await
            })
            .await
    }

    /// Changes settings with the password re-entered in the same form (the Security Settings
    /// page): the permission first, then the password, which re-authenticates this session,
    /// then the change. Answers the session's new token beside the change's outcome: a value
    /// refused after a right password still leaves the session re-authenticated.
    pub async fn update_security_with_password(
        &self,
        who: &Authenticated,
        update: &SecurityUpdate,
        password: &Secret,
        client: &ClientInfo,
    ) -> Result<(Secret, Result<SecuritySettings, AppError>), AppError> {
        if !who.account.person.role.allows(Permission::ManageSecurity) {
            return Err(AppError::Forbidden);
        }
        let check = &check_password_again(&self.core, who, password, client).await?;
        self.core
            .in_one_transaction(move |core| async move {
                let core = &*core;
                let (token, until) = grant_reauthentication(core, who, check, client).await?;
                let mut reauthenticated = who.clone();
                reauthenticated.session.reauthenticated_until = Some(until);
                let outcome = update_security(core, &reauthenticated, update, client).await;
                match outcome {
                    Err(e) if e.is_failure() => Err(e),
                    outcome => Ok((token, outcome)),
                }
            })
            .await
    }
}

/// Changes the settings, in the use case's unit of work.
async fn update_security(
    core: &Core,
    who: &Authenticated,
    update: &SecurityUpdate,
    client: &ClientInfo,
) -> Result<SecuritySettings, AppError> {
    let actor = &who.account;
    if !actor.person.role.allows(Permission::ManageSecurity) {
        return Err(AppError::Forbidden);
    }
    let now = core.clock.now();
    if !who.is_reauthenticated(now) {
        return Err(AppError::ReauthenticationRequired);
    }
    let old = &actor.practice.security;
    let new = update.apply(old)?;
    let changes = describe_changes(old, &new);
    if changes.is_empty() {
        return Ok(new);
    }
    core.store.update_security(&actor.practice.id, &new).await?;
    record(
        core,
        Event {
            practice_id: &actor.practice.id,
            kind: AuditKind::SecurityChanged,
            actor_id: Some(&actor.person.id),
            subject_id: None,
            client: Some(client),
            detail: changes.join("; "),
        },
    )
    .await?;
    if new.remember_device_days < old.remember_device_days {
        let limit = i64::from(new.remember_device_days) * 86_400;
        let ended = core
            .store
            .apply_remember_limit(&actor.practice.id, limit, now)
            .await?;
        if ended > 0 {
            record(
                core,
                Event {
                    practice_id: &actor.practice.id,
                    kind: AuditKind::DeviceEnded,
                    actor_id: Some(&actor.person.id),
                    subject_id: None,
                    client: Some(client),
                    detail: format!(
                        "{} older than the new limit ended",
                        remembered_browsers(ended)
                    ),
                },
            )
            .await?;
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> SecuritySettings {
        SecuritySettings::new_practice(Country::parse("US").unwrap())
    }

    #[test]
    fn fields_left_out_stay_as_they_are() {
        let next = SecurityUpdate {
            require_two_factor: Some("staff".into()),
            ..SecurityUpdate::default()
        }
        .apply(&current())
        .unwrap();
        assert_eq!(next.require_two_factor, RequireTwoFactor::Staff);
        assert_eq!(next.remember_device_days, 365);
    }

    #[test]
    fn values_out_of_bounds_are_refused() {
        for update in [
            SecurityUpdate {
                require_two_factor: Some("everyone".into()),
                ..Default::default()
            },
            SecurityUpdate {
                remember_device_days: Some(-1),
                ..Default::default()
            },
            SecurityUpdate {
                remember_device_days: Some(366),
                ..Default::default()
            },
            SecurityUpdate {
                sign_out_after_idle_minutes: Some(4),
                ..Default::default()
            },
            SecurityUpdate {
                allowed_countries: Some(vec![]),
                ..Default::default()
            },
            SecurityUpdate {
                allowed_countries: Some(vec!["XX".into()]),
                ..Default::default()
            },
            SecurityUpdate {
                daily_send_budget: Some(0),
                ..Default::default()
            },
        ] {
            assert!(
                matches!(update.apply(&current()), Err(AppError::InvalidSetting(_))),
                "{update:?}"
            );
        }
    }

    #[test]
    fn changes_are_described_with_old_and_new_values() {
        let next = SecurityUpdate {
            remember_device_days: Some(30),
            ..Default::default()
        }
        .apply(&current())
        .unwrap();
        assert_eq!(
            describe_changes(&current(), &next),
            ["remember_device_days: 365 → 30"]
        );
    }
}
