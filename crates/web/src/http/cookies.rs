//! The session and CSRF cookies: their names, attributes and reading them back.

use axum::http::{HeaderMap, HeaderValue, header};

use latch_app::PersonId;
use latch_domain::device::BrowserDevices;

use crate::{AppState, WebConfig};

const SESSION: &str = "latch_session";
const CSRF: &str = "latch_csrf";
const DEVICE: &str = "latch_device";
const SEEN: &str = "latch_seen";
const FLASH: &str = "latch_flash";
const WAITING: &str = "latch_authorize";
const PASSKEY: &str = "latch_passkey";

/// A flash cookie this long or longer is not read (browsers keep about 4 KB a cookie).
pub const FLASH_MAX: usize = 3800;

fn name(config: &WebConfig, base: &str) -> String {
    // SECURITY: over HTTPS the __Host- prefix pins the cookie to this host, path / and Secure,
    // so no sibling subdomain can plant one.
    if config.secure() {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn build(
    config: &WebConfig,
    base: &str,
    value: &str,
    same_site: &str,
    max_age: Option<i64>,
) -> HeaderValue {
    let mut cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite={same_site}",
        name(config, base)
    );
    if config.secure() {
        cookie.push_str("; Secure");
    }
    if let Some(age) = max_age {
        cookie.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&cookie).expect("cookie values are hex or base64url")
}

/// The session cookie: no Max-Age, so it ends with the browser; the server ends it sooner.
pub fn session(config: &WebConfig, token: &str) -> HeaderValue {
    build(config, SESSION, token, "Lax", None)
}

pub fn clear_session(config: &WebConfig) -> HeaderValue {
    build(config, SESSION, "", "Lax", Some(0))
}

pub fn csrf(config: &WebConfig, value: &str) -> HeaderValue {
    build(config, CSRF, value, "Strict", None)
}

/// Adds a `Set-Cookie` to a response.
pub fn with_cookie(
    mut response: axum::response::Response,
    cookie: HeaderValue,
) -> axum::response::Response {
    response.headers_mut().append(header::SET_COOKIE, cookie);
    response
}

/// The response, carrying the session's new token when there is one.
pub fn with_session(
    response: axum::response::Response,
    config: &WebConfig,
    token: Option<&latch_app::Secret>,
) -> axum::response::Response {
    match token {
        Some(token) => with_cookie(response, session(config, token.expose())),
        None => response,
    }
}

pub fn read_session(config: &WebConfig, headers: &HeaderMap) -> Option<String> {
    read(headers, &name(config, SESSION))
}

pub fn read_csrf(config: &WebConfig, headers: &HeaderMap) -> Option<String> {
    read(headers, &name(config, CSRF))
}

fn read(headers: &HeaderMap, wanted: &str) -> Option<String> {
    read_raw(headers, wanted)
        // Only hex tokens are ours; anything else is ignored rather than looked up.
        .filter(|v| v.len() <= 128 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn read_raw(headers: &HeaderMap, wanted: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == wanted && !v.is_empty())
        .map(|(_, v)| v.to_owned())
}

/// What a refused form left for the page it redirected to, sealed; it lasts `max_age` seconds.
pub fn flash(config: &WebConfig, sealed: &str, max_age: i64) -> HeaderValue {
    build(config, FLASH, sealed, "Lax", Some(max_age))
}

pub fn clear_flash(config: &WebConfig) -> HeaderValue {
    build(config, FLASH, "", "Lax", Some(0))
}

pub fn read_flash(config: &WebConfig, headers: &HeaderMap) -> Option<String> {
    read_raw(headers, &name(config, FLASH)).filter(|v| is_sealed(v))
}

/// A sealed cookie is base64url, and shorter than a browser keeps.
fn is_sealed(value: &str) -> bool {
    value.len() < FLASH_MAX
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// An application's authorization request, sealed, while its person signs in; it lasts
/// `max_age` seconds.
pub fn waiting_request(config: &WebConfig, sealed: &str, max_age: i64) -> HeaderValue {
    build(config, WAITING, sealed, "Lax", Some(max_age))
}

pub fn clear_waiting_request(config: &WebConfig) -> HeaderValue {
    build(config, WAITING, "", "Lax", Some(0))
}

pub fn read_waiting_request(config: &WebConfig, headers: &HeaderMap) -> Option<String> {
    read_raw(headers, &name(config, WAITING)).filter(|v| is_sealed(v))
}

/// The token tying a passkey sign-in begun without a session to this browser: it lasts the
/// ceremony's five minutes. Strict, since only latch's own pages answer it.
pub fn passkey_sign_in(config: &WebConfig, token: &str) -> HeaderValue {
    build(config, PASSKEY, token, "Strict", Some(5 * 60))
}

pub fn clear_passkey_sign_in(config: &WebConfig) -> HeaderValue {
    build(config, PASSKEY, "", "Strict", Some(0))
}

pub fn read_passkey_sign_in(config: &WebConfig, headers: &HeaderMap) -> Option<String> {
    read(headers, &name(config, PASSKEY))
}

/// The browser's remembered-device cookie (a token per person remembered here) and its seen
/// cookie (who signed in here before).
pub fn read_devices(config: &WebConfig, headers: &HeaderMap) -> BrowserDevices {
    let devices = read_raw(headers, &name(config, DEVICE))
        .filter(|v| v.len() <= 4096)
        .map(|v| BrowserDevices::parse(&v))
        .unwrap_or_default();
    match read_raw(headers, &name(config, SEEN)).filter(|v| v.len() <= 1024) {
        Some(seen) => devices.having_seen(&seen),
        None => devices,
    }
}

/// Marks the browser as one the person gave their right password in, for as long as a browser
/// keeps a cookie (400 days in Chrome): their next sign-in here is no news to them.
pub fn seen_by(state: &AppState, browser: &BrowserDevices, person: &PersonId) -> HeaderValue {
    let value = browser.seen_cookie_with(&state.latch.keys().device_tag(person));
    build(&state.config, SEEN, &value, "Lax", Some(400 * 86_400))
}

/// Writes the remembered-device cookie; an empty one is removed.
pub fn devices(config: &WebConfig, browser: &BrowserDevices, max_age_seconds: i64) -> HeaderValue {
    if browser.is_empty() {
        return build(config, DEVICE, "", "Lax", Some(0));
    }
    build(
        config,
        DEVICE,
        &browser.to_cookie(),
        "Lax",
        Some(max_age_seconds),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> WebConfig {
        WebConfig {
            public_url: url.into(),
            extra_origins: vec![],
            production: false,
            flood_limit: 50,
            trusted_proxies: Default::default(),
            metrics_allow: Default::default(),
        }
    }

    #[test]
    fn over_https_cookies_are_secure_and_host_prefixed() {
        let c = session(&config("https://latch.example.com"), "ab12");
        let c = c.to_str().unwrap();
        assert!(c.starts_with("__Host-latch_session=ab12;"));
        assert!(c.contains("Secure") && c.contains("HttpOnly") && c.contains("SameSite=Lax"));
    }

    #[test]
    fn over_http_cookies_are_plain_but_http_only() {
        let c = session(&config("http://127.0.0.1:8080"), "ab12");
        let c = c.to_str().unwrap();
        assert!(
            c.starts_with("latch_session=ab12;") && !c.contains("Secure") && c.contains("HttpOnly")
        );
    }

    #[test]
    fn only_our_hex_cookie_is_read() {
        let cfg = config("http://127.0.0.1:8080");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("other=1; latch_session=00ff; x=y"),
        );
        assert_eq!(read_session(&cfg, &h).as_deref(), Some("00ff"));
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("latch_session=' or 1=1"),
        );
        assert_eq!(read_session(&cfg, &h), None);
    }
}
