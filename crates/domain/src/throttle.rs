//! The password delay: per person after repeated failures, and per client address.

/// Failures a person may make before the delay starts.
pub const PASSWORD_FREE_FAILURES: u32 = 5;
/// The longest the per-person delay grows.
pub const PASSWORD_MAX_DELAY_SECONDS: i64 = 15 * 60;
/// Failures from one client address within the window before it must wait for the window's end.
pub const IP_PASSWORD_FAILURE_LIMIT: i64 = 100;
pub const IP_PASSWORD_WINDOW_SECONDS: i64 = 15 * 60;

/// The wait imposed after `consecutive_failures` wrong passwords in a row: none for the first
/// four, then 1 s doubling per failure up to 15 minutes.
pub fn password_delay_seconds(consecutive_failures: u32) -> Option<i64> {
    if consecutive_failures < PASSWORD_FREE_FAILURES {
        return None;
    }
    let doublings = consecutive_failures - PASSWORD_FREE_FAILURES;
    let delay = if doublings >= 10 {
        PASSWORD_MAX_DELAY_SECONDS
    } else {
        (1_i64 << doublings).min(PASSWORD_MAX_DELAY_SECONDS)
    };
    Some(delay)
}

/// How long a client address must wait, if its failures in the current window reached the limit.
pub fn ip_retry_after(failures_in_window: i64, window_started_at: i64, now: i64) -> Option<i64> {
    let window_ends = window_started_at + IP_PASSWORD_WINDOW_SECONDS;
    (failures_in_window >= IP_PASSWORD_FAILURE_LIMIT && now < window_ends)
        .then_some(window_ends - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_four_failures_cost_nothing() {
        for n in 0..5 {
            assert_eq!(password_delay_seconds(n), None);
        }
    }

    #[test]
    fn the_delay_doubles_from_one_second_to_fifteen_minutes() {
        assert_eq!(password_delay_seconds(5), Some(1));
        assert_eq!(password_delay_seconds(6), Some(2));
        assert_eq!(password_delay_seconds(7), Some(4));
        assert_eq!(password_delay_seconds(14), Some(512));
        assert_eq!(password_delay_seconds(15), Some(900));
        assert_eq!(password_delay_seconds(1000), Some(900));
    }

    #[test]
    fn an_address_waits_for_its_window_to_end_after_a_hundred_failures() {
        assert_eq!(ip_retry_after(99, 0, 10), None);
        assert_eq!(ip_retry_after(100, 0, 10), Some(890));
        assert_eq!(ip_retry_after(150, 0, 900), None);
    }
}
