//! Middleware every request passes: the request log, security headers, the per-node flood
//! guard, the cross-site check and the CSRF cookie for forms.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::features::oidc::FormActionToo;
use crate::http::cookies;
use crate::http::error::{api_error_response, message_page};

/// One line per request: its id, method, route (never the query string), status and time.
/// Headers, cookies and bodies are never logged.
pub async fn request_log(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = latch_app::crypto::hex(&latch_app::crypto::random_bytes::<6>());
    let method = request.method().clone();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let route = matched
        .clone()
        .unwrap_or_else(|| route_shape(request.uri().path()));
    let mut response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed().as_secs_f64();
    // Unmatched paths share one label: a scanner must not grow the metrics without end.
    state
        .metrics
        .observe_request(matched.as_deref().unwrap_or("unmatched"), status, elapsed);
    let elapsed_ms = elapsed * 1000.0;
    tracing::info!(request_id = %id, %method, route = %route, status, elapsed_ms = format_args!("{elapsed_ms:.1}"), "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

/// Before routing there is no matched route: log the path with ids blanked, so no token or id
/// that may sit in a path reaches the log.
fn route_shape(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.len() >= 16 && seg.bytes().all(|b| b.is_ascii_hexdigit()) {
                "{id}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Runs each request to its end in a task of its own, even when its client goes away before
/// the answer. hyper drops an abandoned request's future, which would stop its use case at
/// whatever statement it was awaiting; the database drivers are not safe to stop there (a
/// PostgreSQL connection can be left waiting for an answer that never comes, or inside a
/// transaction the pool then hands to the next request), and a sign-in stopped half-way would
/// count a failure without its audit event. So a request, once begun, finishes.
pub async fn run_to_completion(request: Request, next: Next) -> Response {
    match tokio::spawn(next.run(request)).await {
        Ok(response) => response,
        // Panics are caught inside; this is one that escaped, or a runtime shutting down.
        Err(_) => crate::http::error::panic_response(Box::new(())),
    }
}

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    // A page of a sign-in an application waits for ends, after its form, at that
    // application: browsers check the redirects after a form against `form-action`.
    let form_action = match response.extensions().get::<FormActionToo>() {
        Some(FormActionToo(origin)) => format!("'self' {origin}"),
        None => "'self'".to_owned(),
    };
    let policy = format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; \
         img-src 'self' data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    let h = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&policy) {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    // Pages and API answers may carry personal data: no cache keeps them, unless the answer
    // says otherwise (the stylesheet, the public signing keys).
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Adds HSTS when the public URL is HTTPS.
pub async fn hsts(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if state.config.secure() {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    response
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// SECURITY: a state-changing request whose Origin is not ours, or that the browser marks
/// cross-site, is refused before it reaches a handler.
pub async fn cross_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // The OpenID Connect endpoints are called by applications from their own sites. Those that
    // read latch's session (an authorization or logout request) do on a POST what they do on
    // a GET, which any site may send; and a cross-site POST carries no Lax session cookie.
    let changes_state = matches!(
        *request.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) && !request.uri().path().starts_with("/oidc/");
    if changes_state {
        let headers = request.headers();
        let origin_ok = match headers
            .get(header::ORIGIN)
            .map(|v| v.to_str().unwrap_or(""))
        {
            None => true,
            Some(origin) => {
                origin == state.config.public_url
                    || state.config.extra_origins.iter().any(|o| o == origin)
            }
        };
        let fetch_site_ok = headers
            .get("sec-fetch-site")
            .is_none_or(|v| v.as_bytes() != b"cross-site");
        if !(origin_ok && fetch_site_ok) {
            let message = "This request came from another site and was refused.";
            return if is_api(request.uri().path()) {
                api_error_response(StatusCode::FORBIDDEN, "cross_site_request", message)
            } else {
                message_page(
                    StatusCode::FORBIDDEN,
                    "Request refused",
                    message,
                    "/",
                    "Go to the start",
                )
            };
        }
    }
    next.run(request).await
}

/// The form token of this browser, for pages to put in their forms.
#[derive(Clone)]
pub struct FormToken(pub String);

/// Gives every browser that asks for a page a random CSRF cookie, and hands the page the
/// matching form token (an HMAC of the cookie under a key of the server's).
pub async fn csrf_cookie(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    // The OpenID Connect endpoints answer applications, which keep no latch cookie.
    if is_api(path) || path.starts_with("/static/") || path.starts_with("/oidc/") {
        return next.run(request).await;
    }
    let existing = cookies::read_csrf(&state.config, request.headers());
    let (value, fresh) = match existing {
        Some(v) => (v, false),
        None => (latch_app::crypto::new_token().expose().to_owned(), true),
    };
    let token = state.latch.keys().csrf_token_for(&value);
    request.extensions_mut().insert(FormToken(token));
    let mut response = next.run(request).await;
    if fresh {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::csrf(&state.config, &value));
    }
    response
}

/// A per-node token bucket per client address (`LATCH_FLOOD_LIMIT` a second, burst twice
/// that). Limits that must hold across nodes live in the database; this only blunts floods.
#[derive(Clone)]
pub struct FloodGuard {
    rate: f64,
    burst: f64,
    buckets: Arc<Mutex<HashMap<IpAddr, (f64, Instant)>>>,
}

impl FloodGuard {
    pub fn new(per_second: u32) -> Self {
        let rate = f64::from(per_second.max(1));
        FloodGuard {
            rate,
            burst: rate * 2.0,
            buckets: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token for `ip`; false when its bucket is empty.
    pub fn allow(&self, ip: IpAddr) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            // Forget addresses whose buckets have refilled: they hold no information.
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * rate < burst
            });
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.burst, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

pub async fn flood(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let exempt = path == "/healthz" || path == "/readyz" || path.starts_with("/static/");
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| {
            state
                .config
                .trusted_proxies
                .client_ip(c.0.ip(), request.headers())
        });
    if !exempt
        && let Some(ip) = ip
        && !state
            .flood
            .allow(latch_domain::throttle::client_network(ip))
    {
        let message = "Too many requests from your network. Please wait a second and try again.";
        let mut response = if is_api(path) {
            let body = serde_json::json!({"error": {"code": "rate_limited", "message": message, "retry_after_seconds": 1}});
            (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response()
        } else {
            message_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Please wait",
                message,
                "/",
                "Try again",
            )
        };
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flood_guard_allows_a_burst_then_refuses() {
        let guard = FloodGuard::new(5);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let allowed = (0..20).filter(|_| guard.allow(ip)).count();
        assert_eq!(allowed, 10);
        assert!(
            guard.allow("192.0.2.2".parse().unwrap()),
            "another address has its own bucket"
        );
    }

    #[test]
    fn unmatched_paths_are_logged_without_ids() {
        assert_eq!(
            route_shape("/api/v1/me/sessions/0123456789abcdef0123"),
            "/api/v1/me/sessions/{id}"
        );
        assert_eq!(route_shape("/nope"), "/nope");
    }
}
