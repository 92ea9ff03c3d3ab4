//! The password delay: per person after repeated failures, and per client address; and which
//! addresses count as one client.

use std::net::{IpAddr, Ipv6Addr};

/// Failures a person may make before the delay starts.
pub const PASSWORD_FREE_FAILURES: u32 = 5;
/// The longest the per-person delay grows.
pub const PASSWORD_MAX_DELAY_SECONDS: i64 = 15 * 60;
/// Failures from one client address within the window before it must wait for the window's end.
pub const IP_PASSWORD_FAILURE_LIMIT: i64 = 100;
pub const IP_PASSWORD_WINDOW_SECONDS: i64 = 15 * 60;

/// The network a client address stands for in per-address limits: an IPv4 address itself, an
/// IPv6 address its /64 (one subscriber's network: a client picks any of its 2^64 addresses at
/// will). An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
pub fn client_network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u128::MAX >> 64))),
        v4 => v4,
    }
}

/// The key of a client address in per-address limits (see `client_network`); anything that is
/// not an address is its own key.
pub fn client_key(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(client_network) {
        Ok(IpAddr::V6(net)) => format!("{net}/64"),
        Ok(v4) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

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

/// Failed client authentications at the token endpoint allowed in a window, for one
/// application and for one client address each.
pub const CLIENT_AUTH_FAILURE_LIMIT: i64 = 20;
pub const CLIENT_AUTH_WINDOW_SECONDS: i64 = 15 * 60;

/// Seconds until an application, or an address, may try to authenticate again; none while
/// it is under the limit.
pub fn client_auth_retry_after(
    failures_in_window: i64,
    window_started_at: i64,
    now: i64,
) -> Option<i64> {
    let window_ends = window_started_at + CLIENT_AUTH_WINDOW_SECONDS;
    (failures_in_window >= CLIENT_AUTH_FAILURE_LIMIT && now < window_ends)
        .then_some(window_ends - now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_clients_count_by_their_slash_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:ffff:1:2:3"), "2001:db8:1:2::/64");
        assert_ne!(client_key("2001:db8:1:3::1"), client_key("2001:db8:1:2::1"));
        assert_eq!(client_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("unknown"), "unknown");
    }

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
