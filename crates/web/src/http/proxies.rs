//! The client's address behind trusted proxies: `X-Forwarded-For` is believed only when the
//! request comes from an address in `LATCH_TRUSTED_PROXIES`.

use std::net::IpAddr;

use axum::http::HeaderMap;

/// Addresses and ranges (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`) whose forwarded header counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Reads a comma-separated list; an empty list trusts no one.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut ranges = Vec::new();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, bits) = match item.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item} is not an address or range"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                None => max,
                Some(b) => b
                    .parse::<u8>()
                    .ok()
                    .filter(|b| *b <= max)
                    .ok_or_else(|| format!("{item} has a bad prefix length"))?,
            };
            ranges.push((ip, bits));
        }
        Ok(TrustedProxies(ranges))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0
            .iter()
            .any(|(net, bits)| same_prefix(*net, ip, *bits))
    }

    /// The client: the peer itself, unless the peer is a trusted proxy; then the nearest
    /// address in `X-Forwarded-For` that is not one of ours. A malformed entry ends the walk:
    /// nothing before it can be believed.
    /// IPv4 addresses written as IPv6 (`::ffff:a.b.c.d`, as a dual-stack socket reports them)
    /// come out as IPv4.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        let forwarded: Vec<String> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_owned())
            .collect();
        let mut client = peer;
        for hop in forwarded.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else {
                break;
            };
            let ip = ip.to_canonical();
            client = ip;
            if !self.contains(ip) {
                break;
            }
        }
        client
    }
}

fn same_prefix(net: IpAddr, ip: IpAddr, bits: u8) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_str(xff).unwrap());
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
        let proxies = TrustedProxies::parse("10.0.0.0/8, 192.0.2.7").unwrap();
        assert_eq!(
            proxies.client_ip(ip("10.1.2.3"), &headers("203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            proxies.client_ip(ip("198.51.100.1"), &headers("203.0.113.9")),
            ip("198.51.100.1"),
            "not a proxy of ours"
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("10.1.2.3"), &headers("203.0.113.9")),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn a_client_cannot_plant_an_address_before_the_proxies() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        // The client sent "1.2.3.4" itself; the proxy appended the real peer.
        let h = headers("1.2.3.4, 203.0.113.9, 10.0.0.2");
        assert_eq!(proxies.client_ip(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        assert_eq!(
            proxies.client_ip(ip("10.0.0.1"), &headers("garbage")),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn ipv4_mapped_peers_are_ipv4_for_every_check() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert!(proxies.contains(ip("::ffff:10.0.0.1")));
        assert_eq!(
            proxies.client_ip(ip("::ffff:10.0.0.1"), &headers("::ffff:203.0.113.9")),
            ip("203.0.113.9")
        );
        assert_eq!(
            TrustedProxies::default().client_ip(ip("::ffff:127.0.0.1"), &HeaderMap::new()),
            ip("127.0.0.1")
        );
        assert!(
            TrustedProxies::parse("127.0.0.1")
                .unwrap()
                .contains(ip("::ffff:127.0.0.1"))
        );
    }

    #[test]
    fn bad_lists_are_refused() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.example").is_err());
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
        assert!(
            TrustedProxies::parse("::1, fd00::/8")
                .unwrap()
                .contains(ip("fd00::5"))
        );
    }
}
