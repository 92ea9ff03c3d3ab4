//! Two-factor rules: channels and what each can reach, the lock after repeated wrong codes,
//! and the send limits.

/// How a code reaches the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Sms,
    Voice,
}

impl Channel {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sms" => Some(Channel::Sms),
            "voice" => Some(Channel::Voice),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Voice => "voice",
        }
    }

    /// "text message" / "voice call", for pages.
    pub fn label(self) -> &'static str {
        match self {
            Channel::Sms => "text message",
            Channel::Voice => "voice call",
        }
    }

    pub fn other(self) -> Channel {
        match self {
            Channel::Sms => Channel::Voice,
            Channel::Voice => Channel::Sms,
        }
    }
}

/// Consecutive wrong codes (across codes, sessions, browsers, nodes) before the first lock.
pub const FAILURES_BEFORE_LOCK: u32 = 10;
/// Consecutive wrong codes after which only an owner or manager can unlock.
pub const FAILURES_BEFORE_LOCK_FOR_GOOD: u32 = 50;
const FIRST_LOCK_SECONDS: i64 = 15 * 60;
const LONGEST_LOCK_SECONDS: i64 = 60 * 60;

/// What a wrong code does to the person's two-factor step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockAfterFailure {
    None,
    For { seconds: i64 },
    UntilUnlocked,
}

/// The lock earned by the `consecutive`-th wrong code in a row: 15 minutes at the 10th, each
/// later failure locks again for double the time up to an hour, and the 50th stays locked.
pub fn lock_after_failure(consecutive: u32) -> LockAfterFailure {
    if consecutive >= FAILURES_BEFORE_LOCK_FOR_GOOD {
        return LockAfterFailure::UntilUnlocked;
    }
    if consecutive < FAILURES_BEFORE_LOCK {
        return LockAfterFailure::None;
    }
    let doublings = (consecutive - FAILURES_BEFORE_LOCK).min(8);
    LockAfterFailure::For {
        seconds: (FIRST_LOCK_SECONDS << doublings).min(LONGEST_LOCK_SECONDS),
    }
}

/// The person's two-factor step as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    pub locked_until: Option<i64>,
    pub locked_for_good: bool,
}

/// Whether the two-factor step is locked at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locked {
    No,
    For { retry_after: i64 },
    UntilUnlocked,
}

impl LockState {
    pub fn at(self, now: i64) -> Locked {
        if self.locked_for_good {
            return Locked::UntilUnlocked;
        }
        match self.locked_until {
            Some(until) if until > now => Locked::For {
                retry_after: until - now,
            },
            _ => Locked::No,
        }
    }
}

/// A resend for the same sign-in or setup waits this long after its last send.
pub const RESEND_WAIT_SECONDS: i64 = 30;
/// Sends for one sign-in or setup.
pub const SENDS_PER_CHALLENGE: i64 = 5;
/// Sends to one person in an hour.
pub const SENDS_PER_PERSON_PER_HOUR: i64 = 10;
/// Sends to one number in a day.
pub const SENDS_PER_NUMBER_PER_DAY: i64 = 10;
/// Sends whose code was never entered, from one client address in an hour: a whole office
/// behind one address signing in on Monday morning passes, a script that never uses its
/// codes does not.
pub const UNVERIFIED_SENDS_PER_IP_PER_HOUR: i64 = 60;
/// Unverified sends to one number range (the number without its last 4 digits) in a day.
pub const UNVERIFIED_SENDS_PER_PREFIX_PER_DAY: i64 = 20;

/// A person's own sign-in codes to their own confirmed phone, in a day: a budget of their own,
/// which no other account's sends can fill.
pub const OWN_SIGN_IN_SENDS_PER_DAY: i64 = 10;
/// Setups by other people that may reach a number someone has confirmed, in a day: enough for
/// a family sharing a phone, too few to bury its owner in strangers' codes.
pub const SETUP_SENDS_TO_SOMEONES_NUMBER_PER_DAY: i64 = 3;

/// What a send is for, as far as the limits care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendKind {
    /// A sign-in code to the person's own confirmed phone.
    OwnSignIn,
    /// A setup (or change) code to a number being tried, which may be the confirmed phone of
    /// someone else.
    Setup { someone_elses_number: bool },
}

/// The counter a send is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendCounter {
    /// Every send to the person.
    Person,
    /// The person's own sign-in codes to their own phone.
    OwnNumber,
    /// Setup sends to a number nobody else has confirmed.
    Number,
    /// Setup sends to a number someone else has confirmed as theirs.
    SomeoneElsesNumber,
    /// Sends not yet verified, from the client's address (network).
    UnverifiedAddress,
    /// Sends not yet verified, to the number's range (the number without its last 4 digits).
    UnverifiedRange,
}

/// One window a send is counted in: its counter, its length and its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub counter: SendCounter,
    pub seconds: i64,
    pub limit: i64,
}

/// The windows a send is counted in, in the order they are checked. SECURITY: a person's own
/// sign-in codes count in no window that other accounts fill (the number's and the range's),
/// so strangers' setups cannot lock them out; the shared windows still stop a script that
/// pumps setups to numbers nobody confirmed.
pub fn send_windows(kind: SendKind) -> Vec<SendWindow> {
    let window = |counter, seconds, limit| SendWindow {
        counter,
        seconds,
        limit,
    };
    let person = window(SendCounter::Person, 3600, SENDS_PER_PERSON_PER_HOUR);
    let address = window(
        SendCounter::UnverifiedAddress,
        3600,
        UNVERIFIED_SENDS_PER_IP_PER_HOUR,
    );
    match kind {
        SendKind::OwnSignIn => vec![
            person,
            window(SendCounter::OwnNumber, 86_400, OWN_SIGN_IN_SENDS_PER_DAY),
            address,
        ],
        SendKind::Setup {
            someone_elses_number,
        } => vec![
            person,
            if someone_elses_number {
                window(
                    SendCounter::SomeoneElsesNumber,
                    86_400,
                    SETUP_SENDS_TO_SOMEONES_NUMBER_PER_DAY,
                )
            } else {
                window(SendCounter::Number, 86_400, SENDS_PER_NUMBER_PER_DAY)
            },
            address,
            window(
                SendCounter::UnverifiedRange,
                86_400,
                UNVERIFIED_SENDS_PER_PREFIX_PER_DAY,
            ),
        ],
    }
}

/// How long a resend must still wait, if at all.
pub fn resend_wait(last_sent_at: i64, sends: i64, now: i64) -> Result<(), SendRefused> {
    if sends >= SENDS_PER_CHALLENGE {
        return Err(SendRefused::ChallengeSpent);
    }
    let ready_at = last_sent_at + RESEND_WAIT_SECONDS;
    if now < ready_at {
        return Err(SendRefused::Wait {
            retry_after: ready_at - now,
        });
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendRefused {
    /// Too soon after the last send.
    Wait { retry_after: i64 },
    /// This sign-in or setup has had all its sends; start again.
    ChallengeSpent,
}

/// Why a method cannot carry a code to a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CannotCarry {
    /// A text cannot reach an extension; a call dials it.
    TextToExtension,
    /// This installation has no voice-capable number.
    NoVoice,
}

/// Whether `channel` can carry a code to a phone with an extension or without, on an
/// installation with voice calls or without.
pub fn can_carry(
    channel: Channel,
    has_extension: bool,
    voice_available: bool,
) -> Result<(), CannotCarry> {
    match channel {
        Channel::Sms if has_extension => Err(CannotCarry::TextToExtension),
        Channel::Voice if !voice_available => Err(CannotCarry::NoVoice),
        Channel::Sms | Channel::Voice => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_cannot_reach_an_extension_and_a_call_needs_voice() {
        assert_eq!(
            can_carry(Channel::Sms, true, true),
            Err(CannotCarry::TextToExtension)
        );
        assert_eq!(can_carry(Channel::Sms, false, false), Ok(()));
        assert_eq!(can_carry(Channel::Voice, true, true), Ok(()));
        assert_eq!(
            can_carry(Channel::Voice, false, false),
            Err(CannotCarry::NoVoice)
        );
    }

    #[test]
    fn nine_wrong_codes_lock_nothing_and_the_tenth_locks_for_fifteen_minutes() {
        for n in 0..10 {
            assert_eq!(lock_after_failure(n), LockAfterFailure::None);
        }
        assert_eq!(
            lock_after_failure(10),
            LockAfterFailure::For { seconds: 900 }
        );
    }

    #[test]
    fn each_later_failure_doubles_the_lock_up_to_an_hour() {
        assert_eq!(
            lock_after_failure(11),
            LockAfterFailure::For { seconds: 1800 }
        );
        assert_eq!(
            lock_after_failure(12),
            LockAfterFailure::For { seconds: 3600 }
        );
        assert_eq!(
            lock_after_failure(49),
            LockAfterFailure::For { seconds: 3600 }
        );
    }

    #[test]
    fn the_fiftieth_failure_locks_until_someone_unlocks() {
        assert_eq!(lock_after_failure(50), LockAfterFailure::UntilUnlocked);
        assert_eq!(lock_after_failure(80), LockAfterFailure::UntilUnlocked);
    }

    #[test]
    fn a_lock_ends_at_its_time_unless_it_is_for_good() {
        let lock = LockState {
            locked_until: Some(100),
            locked_for_good: false,
        };
        assert_eq!(lock.at(40), Locked::For { retry_after: 60 });
        assert_eq!(lock.at(100), Locked::No);
        let for_good = LockState {
            locked_until: None,
            locked_for_good: true,
        };
        assert_eq!(for_good.at(1_000_000), Locked::UntilUnlocked);
    }

    #[test]
    fn a_resend_waits_thirty_seconds_and_a_challenge_sends_five_times() {
        assert_eq!(
            resend_wait(100, 1, 110),
            Err(SendRefused::Wait { retry_after: 20 })
        );
        assert_eq!(resend_wait(100, 1, 130), Ok(()));
        assert_eq!(resend_wait(100, 5, 1000), Err(SendRefused::ChallengeSpent));
    }

    #[test]
    fn own_sign_in_codes_count_in_no_window_that_others_fill() {
        let counters: Vec<_> = send_windows(SendKind::OwnSignIn)
            .iter()
            .map(|w| w.counter)
            .collect();
        assert!(!counters.contains(&SendCounter::Number));
        assert!(!counters.contains(&SendCounter::UnverifiedRange));
        let setup = send_windows(SendKind::Setup {
            someone_elses_number: true,
        });
        assert_eq!(
            (setup[1].counter, setup[1].limit),
            (
                SendCounter::SomeoneElsesNumber,
                SETUP_SENDS_TO_SOMEONES_NUMBER_PER_DAY
            )
        );
        let own = send_windows(SendKind::Setup {
            someone_elses_number: false,
        });
        assert_eq!(
            (own[1].counter, own[1].limit),
            (SendCounter::Number, SENDS_PER_NUMBER_PER_DAY)
        );
    }

    #[test]
    fn channels_round_trip() {
        for c in [Channel::Sms, Channel::Voice] {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(c.other().other(), c);
        }
        assert_eq!(Channel::parse("email"), None);
    }
}
