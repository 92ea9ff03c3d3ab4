//! The applications that sign people in through latch: the addresses they register, held to
//! what OpenID Connect and the OAuth 2.0 Security BCP (RFC 9700) ask of them.

use std::fmt;
use std::net::IpAddr;

/// Why an application's address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriRefused {
    /// Not an absolute URL.
    NotAUrl,
    /// Neither `https://` nor `http://` on a loopback host: a code or token sent over plain
    /// HTTP to another machine can be read on the way.
    NotHttps,
    /// A `#fragment`: a redirect's parameters would be lost behind it (RFC 6749 §3.1.2).
    Fragment,
    /// A `*`: latch compares addresses as exact strings, never as patterns.
    Wildcard,
    /// A user name or password in the address.
    Credentials,
}

/// An address an application registered (a redirect, post-logout or back-channel logout
/// URI), kept exactly as given: a request's address must equal it, character for character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUri(String);

impl AppUri {
    pub fn parse(raw: &str) -> Result<AppUri, UriRefused> {
        if raw.contains('*') {
            return Err(UriRefused::Wildcard);
        }
        if raw.contains('#') {
            return Err(UriRefused::Fragment);
        }
        let url = url::Url::parse(raw).map_err(|_| UriRefused::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UriRefused::Credentials);
        }
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if url.host().is_some_and(|host| is_loopback(&host)) => {}
            "https" | "http" => return Err(UriRefused::NotHttps),
            _ => return Err(UriRefused::NotHttps),
        }
        Ok(AppUri(raw.to_owned()))
    }

    /// A value stored by latch, which was checked on its way in.
    pub fn from_stored(stored: &str) -> AppUri {
        AppUri(stored.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its origin (`https://harbor.example.com:8443`), for the pages that send the browser
    /// there after a form.
    pub fn origin(&self) -> String {
        url::Url::parse(&self.0)
            .map(|url| url.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// Whether `requested` is this address, exactly.
    pub fn is(&self, requested: &str) -> bool {
        self.0 == requested
    }
}

impl fmt::Display for AppUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_and_http_only_on_loopback() {
        for ok in [
            "https://harbor.example.com/oidc/callback",
            "https://harbor.example.com:8443/cb?tenant=1",
            "http://127.0.0.1:8080/callback",
            "http://localhost/callback",
            "http://[::1]:3000/cb",
            "http://127.5.6.7/cb",
        ] {
            assert_eq!(AppUri::parse(ok).map(|u| u.to_string()), Ok(ok.to_owned()));
        }
        let uri = AppUri::parse("https://harbor.example.com:8443/cb?tenant=1").unwrap();
        assert_eq!(uri.origin(), "https://harbor.example.com:8443");
        let uri = AppUri::parse("http://[::1]:3000/cb").unwrap();
        assert_eq!(uri.origin(), "http://[::1]:3000");
        for (refused, why) in [
            ("http://harbor.example.com/cb", UriRefused::NotHttps),
            ("http://192.168.1.5/cb", UriRefused::NotHttps),
            ("ftp://harbor.example.com/cb", UriRefused::NotHttps),
            ("com.harbor.app:/cb", UriRefused::NotHttps),
            ("https://harbor.example.com/cb#done", UriRefused::Fragment),
            ("https://*.example.com/cb", UriRefused::Wildcard),
            (
                "https://sam:pw@harbor.example.com/cb",
                UriRefused::Credentials,
            ),
            ("/callback", UriRefused::NotAUrl),
            ("", UriRefused::NotAUrl),
        ] {
            assert_eq!(AppUri::parse(refused), Err(why), "{refused}");
        }
    }

    #[test]
    fn an_address_matches_only_itself() {
        let uri = AppUri::parse("https://harbor.example.com/cb").unwrap();
        assert!(uri.is("https://harbor.example.com/cb"));
        for other in [
            "https://harbor.example.com/cb/",
            "https://HARBOR.example.com/cb",
            "https://harbor.example.com/cb?x=1",
            "https://harbor.example.com:443/cb",
        ] {
            assert!(!uri.is(other), "{other}");
        }
    }
}
