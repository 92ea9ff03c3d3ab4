//! How long a session lives, and in which state it is.

use crate::time::Timestamp;

/// A session ends 12 hours after the password, whatever the activity.
pub const ABSOLUTE_LIFETIME_SECONDS: i64 = 12 * 60 * 60;
/// A re-entered password counts for 10 minutes, in that session only.
pub const REAUTHENTICATION_SECONDS: i64 = 10 * 60;
/// A session waiting for its code lives this long from its last send.
pub const PENDING_LIFETIME_SECONDS: i64 = 10 * 60;
/// A sign-in that must first set up two-factor (the practice requires it) has this long.
pub const SETUP_REQUIRED_LIFETIME_SECONDS: i64 = 30 * 60;
/// How stale `last_seen_at` may be before a request writes it again: a write per request would
/// cost more than the idle sign-out gains from to-the-second precision.
pub const TOUCH_INTERVAL_SECONDS: i64 = 15;

/// What stood beside the password when a session was signed in: what an application's ID
/// token will say of it (`amr`, `acr`), and what a person's list of sessions says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    /// A code sent by text.
    TextedCode,
    /// A code read out in a call.
    CalledCode,
    /// A browser the person had remembered after a code, which skipped the code.
    RememberedBrowser,
    /// A code from an authenticator app.
    AppCode,
    /// One of the person's recovery codes.
    RecoveryCode,
    /// A passkey after the password.
    Passkey,
    /// A passkey alone: it verified the user, so it stood for both factors.
    PasskeyAlone,
}

impl SecondFactor {
    /// The code's method as a second factor.
    pub fn code_by(channel: crate::two_factor::Channel) -> Self {
        match channel {
            crate::two_factor::Channel::Sms => SecondFactor::TextedCode,
            crate::two_factor::Channel::Voice => SecondFactor::CalledCode,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::TextedCode => "sms",
            SecondFactor::CalledCode => "voice",
            SecondFactor::RememberedBrowser => "remembered_browser",
            SecondFactor::AppCode => "totp",
            SecondFactor::RecoveryCode => "recovery_code",
            SecondFactor::Passkey => "passkey",
            SecondFactor::PasskeyAlone => "passkey_alone",
        }
    }

    pub const ALL: [SecondFactor; 7] = [
        SecondFactor::TextedCode,
        SecondFactor::CalledCode,
        SecondFactor::RememberedBrowser,
        SecondFactor::AppCode,
        SecondFactor::RecoveryCode,
        SecondFactor::Passkey,
        SecondFactor::PasskeyAlone,
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        SecondFactor::ALL.into_iter().find(|f| f.as_str() == raw)
    }
}

/// How strongly a sign-in proved who signed in, as an ID token says it: `amr` by RFC 8176's
/// names, `acr` as `mfa` or `pwd`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assurance {
    pub amr: Vec<&'static str>,
    pub acr: &'static str,
}

impl Assurance {
    /// A session's: a code makes it `mfa` by its method (`sms`, or `tel` for a call, `otp`
    /// for an app); a passkey is `hwk` and `user` (a key held in hardware, its user verified),
    /// alone or after the password; a recovery code is a second factor RFC 8176 has no name
    /// for. A remembered browser of a person with two-factor counts as a second factor for
    /// `acr`, but `amr` names only what this sign-in used, the password.
    pub fn of(second_factor: Option<SecondFactor>) -> Assurance {
        match second_factor {
            Some(SecondFactor::AppCode) => Assurance {
                amr: vec!["pwd", "mfa", "otp"],
                acr: "mfa",
            },
            Some(SecondFactor::RecoveryCode) => Assurance {
                amr: vec!["pwd", "mfa"],
                acr: "mfa",
            },
            Some(SecondFactor::Passkey) => Assurance {
                amr: vec!["pwd", "hwk", "user", "mfa"],
                acr: "mfa",
            },
            Some(SecondFactor::PasskeyAlone) => Assurance {
                amr: vec!["hwk", "user", "mfa"],
                acr: "mfa",
            },
            Some(SecondFactor::TextedCode) => Assurance {
                amr: vec!["pwd", "mfa", "sms"],
                acr: "mfa",
            },
            Some(SecondFactor::CalledCode) => Assurance {
                amr: vec!["pwd", "mfa", "tel"],
                acr: "mfa",
            },
            Some(SecondFactor::RememberedBrowser) => Assurance {
                amr: vec!["pwd"],
                acr: "mfa",
            },
            None => Assurance {
                amr: vec!["pwd"],
                acr: "pwd",
            },
        }
    }
}

/// Where a session stands in the sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Password and, where needed, the code are done.
    SignedIn,
    /// The password was right and a code was sent; only verify, resend and sign out answer.
    TwoFactorRequired,
    /// The practice requires two-factor and the person has none; only the setup answers.
    TwoFactorSetupRequired,
}

impl SessionState {
    pub const ALL: [SessionState; 3] = [
        SessionState::SignedIn,
        SessionState::TwoFactorRequired,
        SessionState::TwoFactorSetupRequired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SessionState::SignedIn => "signed_in",
            SessionState::TwoFactorRequired => "two_factor_required",
            SessionState::TwoFactorSetupRequired => "two_factor_setup_required",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "signed_in" => Some(SessionState::SignedIn),
            "two_factor_required" => Some(SessionState::TwoFactorRequired),
            "two_factor_setup_required" => Some(SessionState::TwoFactorSetupRequired),
            _ => None,
        }
    }
}

/// The times that decide whether a session still stands.
#[derive(Debug, Clone, Copy)]
pub struct SessionTimes {
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

/// Whether the session is still alive at `now`, given the practice's idle minutes.
pub fn is_live(times: SessionTimes, idle_minutes: u32, now: Timestamp) -> bool {
    let idle_limit = i64::from(idle_minutes) * 60;
    now.seconds() < times.created_at.seconds() + ABSOLUTE_LIFETIME_SECONDS
        && now.seconds() < times.last_seen_at.seconds() + idle_limit
}

/// Whether this request should write `last_seen_at` again.
pub fn needs_touch(last_seen_at: Timestamp, now: Timestamp) -> bool {
    now.seconds() - last_seen_at.seconds() >= TOUCH_INTERVAL_SECONDS
}

#[cfg(test)]
mod tests {

    #[test]
    fn assurance_names_what_stood_beside_the_password() {
        let of = |f| {
            let a = Assurance::of(f);
            (a.amr, a.acr)
        };
        assert_eq!(of(None), (vec!["pwd"], "pwd"));
        assert_eq!(
            of(Some(SecondFactor::TextedCode)),
            (vec!["pwd", "mfa", "sms"], "mfa")
        );
        assert_eq!(
            of(Some(SecondFactor::CalledCode)),
            (vec!["pwd", "mfa", "tel"], "mfa")
        );
        assert_eq!(
            of(Some(SecondFactor::RememberedBrowser)),
            (vec!["pwd"], "mfa")
        );
        assert_eq!(
            of(Some(SecondFactor::AppCode)),
            (vec!["pwd", "mfa", "otp"], "mfa")
        );
        assert_eq!(
            of(Some(SecondFactor::PasskeyAlone)),
            (vec!["hwk", "user", "mfa"], "mfa")
        );
        for f in SecondFactor::ALL {
            assert_eq!(SecondFactor::parse(f.as_str()), Some(f));
        }
    }

    use super::*;

    fn times(created: i64, seen: i64) -> SessionTimes {
        SessionTimes {
            created_at: Timestamp(created),
            last_seen_at: Timestamp(seen),
        }
    }

    #[test]
    fn a_session_ends_after_the_idle_minutes() {
        let t = times(1000, 1000);
        assert!(is_live(t, 15, Timestamp(1000 + 15 * 60 - 1)));
        assert!(!is_live(t, 15, Timestamp(1000 + 15 * 60)));
    }

    #[test]
    fn a_busy_session_still_ends_after_twelve_hours() {
        let now = Timestamp(1000 + ABSOLUTE_LIFETIME_SECONDS);
        assert!(!is_live(times(1000, now.seconds() - 1), 120, now));
        assert!(is_live(times(1000, now.seconds() - 2), 120, now.minus(1)));
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for state in [
            SessionState::SignedIn,
            SessionState::TwoFactorRequired,
            SessionState::TwoFactorSetupRequired,
        ] {
            assert_eq!(SessionState::parse(state.as_str()), Some(state));
        }
    }
}
