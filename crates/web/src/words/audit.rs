//! The audit trail in words: what each event was ("Signed in with a code", "Wrong code entered
//! (3rd in a row)") and its detail as a person reads it ("Require two-factor: No → All staff").
//! The API and the CSV's `detail` keep the stored text.

use latch_domain::audit::AuditKind;
use latch_domain::country::Country;
use latch_domain::practice::RequireTwoFactor;

/// What the practice's rule reads as, on the settings page and in the trail.
pub fn rule(rule: RequireTwoFactor) -> &'static str {
    match rule {
        RequireTwoFactor::Off => "No",
        RequireTwoFactor::Staff => "All staff",
        RequireTwoFactor::StaffAndClients => "All staff and clients",
    }
}

/// The name a filter offers for a kind of event.
pub fn kind(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::SignInSucceeded => "Signed in",
        AuditKind::SignInFailed => "Sign-in refused",
        AuditKind::PasswordReentryFailed => "Password re-entry refused",
        AuditKind::SignedOut => "Signed out",
        AuditKind::SessionEnded => "Session ended",
        AuditKind::PasswordChanged => "Password changed",
        AuditKind::PersonAdded => "Person added",
        AuditKind::PracticeCreated => "Practice created",
        AuditKind::CodeSent => "Code sent",
        AuditKind::CodeDeliveryFailed => "Code not delivered",
        AuditKind::CodeVerified => "Code accepted",
        AuditKind::CodeWrong => "Wrong code entered",
        AuditKind::TwoFactorLocked => "Two-factor locked",
        AuditKind::TwoFactorEnabled => "Two-factor turned on",
        AuditKind::TwoFactorChanged => "Two-factor phone or method changed",
        AuditKind::TwoFactorDisabled => "Two-factor turned off",
        AuditKind::MethodAdded => "Two-factor method added",
        AuditKind::MethodRemoved => "Two-factor method removed",
        AuditKind::RecoveryCodesCreated => "Recovery codes made",
        AuditKind::RecoveryCodeUsed => "Recovery code used",
        AuditKind::DeviceRemembered => "Browser remembered",
        AuditKind::DeviceForgotten => "Remembered browser forgotten",
        AuditKind::DeviceEnded => "Remembered browsers ended",
        AuditKind::SecurityChanged => "Security settings changed",
        AuditKind::TwoFactorReset => "Two-factor reset",
        AuditKind::TwoFactorUnlocked => "Two-factor unlocked",
        AuditKind::SendBudgetReached => "Daily limit of texts and calls reached",
        AuditKind::DeliveryStatus => "Delivery report",
        AuditKind::AppSignedIn => "Signed in to an application",
        AuditKind::AppCodeReused => "An application's sign-in code was used twice",
        AuditKind::AppRefreshReused => "An application's old token was used again",
        AuditKind::AppSignedOut => "Signed out of an application",
        AuditKind::InvitationSent => "Invitation sent",
        AuditKind::InvitationAccepted => "Invitation accepted",
        AuditKind::InvitationRevoked => "Invitation revoked",
        AuditKind::PasswordResetRequested => "Password reset link sent",
        AuditKind::PasswordReset => "Password reset with an emailed link",
        AuditKind::EmailChanged => "Email changed",
        AuditKind::PersonChanged => "Name or role changed",
        AuditKind::PersonDeactivated => "Person deactivated",
        AuditKind::PersonReactivated => "Person reactivated",
    }
}

/// What happened and its detail, in words, from an event's stored kind and detail.
pub fn event(stored_kind: &str, detail: &str) -> (String, String) {
    let Some(k) = AuditKind::parse(stored_kind) else {
        return (stored_kind.to_owned(), sentence(detail));
    };
    match k {
        AuditKind::SignInSucceeded => {
            let how = match detail {
                "password" => "Signed in with a password",
                "password and code" => "Signed in with a code",
                "password and remembered device" => "Signed in on a remembered browser",
                "password and the practice's required two-factor setup" => {
                    "Signed in after setting up two-factor"
                }
                _ => return (kind(k).to_owned(), sentence(detail)),
            };
            (how.to_owned(), String::new())
        }
        AuditKind::CodeWrong => match detail
            .strip_suffix(" in a row")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(n) => (
                format!("Wrong code entered ({} in a row)", ordinal(n)),
                String::new(),
            ),
            None => (kind(k).to_owned(), sentence(detail)),
        },
        AuditKind::CodeSent | AuditKind::CodeDeliveryFailed => {
            (kind(k).to_owned(), code_sent(detail))
        }
        AuditKind::CodeVerified => (
            kind(k).to_owned(),
            sentence(purpose(detail).unwrap_or(detail)),
        ),
        AuditKind::TwoFactorEnabled | AuditKind::TwoFactorChanged => {
            (kind(k).to_owned(), channel_to(detail))
        }
        AuditKind::PersonAdded => (
            kind(k).to_owned(),
            detail
                .strip_prefix("role ")
                .and_then(|r| latch_domain::Role::parse(r).ok())
                .map_or_else(|| sentence(detail), |r| format!("As {}", r.label())),
        ),
        AuditKind::SecurityChanged => (kind(k).to_owned(), settings_changed(detail)),
        _ => (kind(k).to_owned(), sentence(detail)),
    }
}

/// "1st", "2nd", "3rd", "11th", "22nd".
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The detail with its first letter in capitals.
fn sentence(detail: &str) -> String {
    let mut chars = detail.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn channel(raw: &str) -> Option<&'static str> {
    match raw {
        "sms" => Some("By text"),
        "voice" => Some("By voice call"),
        _ => None,
    }
}

fn purpose(raw: &str) -> Option<&'static str> {
    match raw {
        "sign_in" => Some("to sign in"),
        "setup" => Some("to set up two-factor"),
        _ => None,
    }
}

/// "sms to •••• 2671 for sign_in" → "By text to •••• 2671, to sign in".
fn code_sent(detail: &str) -> String {
    let worded = detail.split_once(" for ").and_then(|(to, why)| {
        let (how, phone) = to.split_once(" to ")?;
        Some(format!("{} to {phone}, {}", channel(how)?, purpose(why)?))
    });
    worded.unwrap_or_else(|| sentence(detail))
}

/// "voice to •••• 2671" → "By voice call to •••• 2671".
fn channel_to(detail: &str) -> String {
    detail
        .split_once(" to ")
        .and_then(|(how, phone)| Some(format!("{} to {phone}", channel(how)?)))
        .unwrap_or_else(|| sentence(detail))
}

/// "require_two_factor: off → staff; daily_send_budget: 500 → 1000" →
/// "Require two-factor: No → All staff; Texts and calls a day: 500 → 1,000".
fn settings_changed(detail: &str) -> String {
    detail
        .split("; ")
        .map(|change| {
            let worded = change.split_once(": ").and_then(|(field, values)| {
                let (old, new) = values.split_once(" → ")?;
                let (label, value): (&str, fn(&str) -> Option<String>) = match field {
                    "require_two_factor" => ("Require two-factor", |v| {
                        RequireTwoFactor::parse(v).map(|r| rule(r).to_owned())
                    }),
                    "remember_device_days" => ("Remember browsers for", |v| {
                        Some(match v {
                            "0" => "never".to_owned(),
                            "1" => "1 day".to_owned(),
                            days => format!("{days} days"),
                        })
                    }),
                    "sign_out_after_idle_minutes" => ("Sign out after inactivity", |v| {
                        Some(format!("{v} minutes"))
                    }),
                    "allowed_countries" => ("Phone numbers allowed from", |v| {
                        v.split(',')
                            .map(|c| Country::parse(c).ok().map(Country::name))
                            .collect::<Option<Vec<_>>>()
                            .map(|names| names.join(", "))
                    }),
                    "daily_send_budget" => ("Texts and calls a day", |v| {
                        v.parse::<u32>().ok().map(super::thousands)
                    }),
                    "time_zone" => ("Time zone", |v| Some(v.to_owned())),
                    "methods_allowed" => ("Two-factor methods allowed", |v| {
                        Some(
                            super::and_list(&v.split(',').map(str::to_owned).collect::<Vec<_>>())
                                .unwrap_or_default(),
                        )
                    }),
                    _ => return None,
                };
                Some(format!("{label}: {} → {}", value(old)?, value(new)?))
            });
            worded.unwrap_or_else(|| change.to_owned())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_what_happened() {
        let cases = [
            (
                "sign_in.succeeded",
                "password and code",
                "Signed in with a code",
                "",
            ),
            (
                "code.wrong",
                "3 in a row",
                "Wrong code entered (3rd in a row)",
                "",
            ),
            (
                "code.wrong",
                "11 in a row",
                "Wrong code entered (11th in a row)",
                "",
            ),
            (
                "practice.security_changed",
                "require_two_factor: off → staff; remember_device_days: 365 → 0; \
                 allowed_countries: US → US,CA; daily_send_budget: 500 → 1000",
                "Security settings changed",
                "Require two-factor: No → All staff; Remember browsers for: 365 days → never; \
                 Phone numbers allowed from: United States → United States, Canada; \
                 Texts and calls a day: 500 → 1,000",
            ),
            (
                "code.sent",
                "voice to •••• 2671 for setup",
                "Code sent",
                "By voice call to •••• 2671, to set up two-factor",
            ),
            ("person.added", "role staff", "Person added", "As Staff"),
            (
                "two_factor.locked",
                "for 15 minutes",
                "Two-factor locked",
                "For 15 minutes",
            ),
            // What this module does not know reads as stored, never lost.
            ("sign_in.succeeded", "by magic", "Signed in", "By magic"),
            ("something.new", "as is", "something.new", "As is"),
        ];
        for (stored_kind, detail, what, words) in cases {
            assert_eq!(
                event(stored_kind, detail),
                (what.to_owned(), words.to_owned()),
                "{stored_kind}: {detail}"
            );
        }
    }

    #[test]
    fn ordinals_read_as_people_say_them() {
        let said: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111]
            .map(ordinal)
            .into();
        assert_eq!(
            said,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st",
                "111th"
            ]
        );
    }

    #[test]
    fn every_kind_has_a_name_in_words() {
        for k in AuditKind::ALL {
            assert!(!kind(k).contains(['.', '_']), "{k:?}");
        }
    }
}
