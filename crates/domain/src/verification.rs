//! Judging a typed code: what the database found when it counted the guess (in one
//! transaction, see the store's `judge_code`), and what that means for the person.

use crate::code::CODE_MAX_ATTEMPTS;
use crate::two_factor::{LockAfterFailure, LockState, Locked};

/// What one typed code did to its challenge and its person, as the store found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeJudgement {
    /// Nothing to judge: the code was used, replaced, expired or had all its attempts.
    Spent,
    /// The person's two-factor step is locked: nothing was counted.
    Locked(LockState),
    /// The right code: the challenge is consumed and the person's failures cleared.
    Accepted,
    /// A wrong code: the code's attempts so far, the person's failures in a row, and the lock
    /// this guess started (`None` for none).
    Wrong {
        attempts: i64,
        failures: u32,
        lock: LockAfterFailure,
    },
}

/// What a judged code means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Accepted,
    /// Wrong, with tries of this code left.
    WrongCode {
        attempts_left: i64,
        failures: u32,
    },
    /// Wrong, and this guess started a lock: the person is told, once.
    LockStarted {
        failures: u32,
        lock: LockAfterFailure,
    },
    /// The code cannot be used any more: ask for a new one.
    Expired,
    /// The step was already locked: the guess counted nothing.
    Locked(Locked),
}

/// Decides what a judged code means at `now`.
pub fn verify(judgement: CodeJudgement, now: i64) -> Verification {
    match judgement {
        CodeJudgement::Accepted => Verification::Accepted,
        CodeJudgement::Spent => Verification::Expired,
        CodeJudgement::Locked(lock) => match lock.at(now) {
            // Unlocked since the store looked: the guess was not counted, so it is simply over.
            Locked::No => Verification::Expired,
            locked => Verification::Locked(locked),
        },
        CodeJudgement::Wrong {
            attempts,
            failures,
            lock: LockAfterFailure::None,
        } => Verification::WrongCode {
            attempts_left: (CODE_MAX_ATTEMPTS - attempts).max(0),
            failures,
        },
        CodeJudgement::Wrong { failures, lock, .. } => Verification::LockStarted { failures, lock },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_code_says_how_many_tries_are_left() {
        let wrong = CodeJudgement::Wrong {
            attempts: 2,
            failures: 2,
            lock: LockAfterFailure::None,
        };
        assert_eq!(
            verify(wrong, 0),
            Verification::WrongCode {
                attempts_left: 3,
                failures: 2
            }
        );
    }

    #[test]
    fn the_guess_that_locks_starts_the_lock_and_a_locked_step_counts_nothing() {
        let lock = LockAfterFailure::For { seconds: 900 };
        let locking = CodeJudgement::Wrong {
            attempts: 1,
            failures: 10,
            lock,
        };
        assert_eq!(
            verify(locking, 0),
            Verification::LockStarted { failures: 10, lock }
        );
        let state = LockState {
            locked_until: Some(900),
            locked_for_good: false,
        };
        assert_eq!(
            verify(CodeJudgement::Locked(state), 100),
            Verification::Locked(Locked::For { retry_after: 800 })
        );
        assert_eq!(
            verify(CodeJudgement::Locked(state), 900),
            Verification::Expired
        );
    }
}
