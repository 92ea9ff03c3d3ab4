//! Metrics in the Prometheus text format at `/metrics`, for the addresses in
//! `LATCH_METRICS_ALLOW` only. Labels are fixed words and route templates: never a person, a
//! phone number or a code.

use std::net::IpAddr;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;
use crate::http::error::api_error_response;
use crate::http::extract::Client;
use crate::http::proxies::TrustedProxies;

type Labels = Vec<(&'static str, String)>;

/// Every metric latch exports, registered once per process.
pub struct PromMetrics {
    registry: Mutex<Registry>,
    sign_ins: Family<Labels, Counter>,
    codes_sent: Family<Labels, Counter>,
    verifications: Family<Labels, Counter>,
    locks: Counter,
    delivery_seconds: Family<Labels, Histogram>,
    request_seconds: Family<Labels, Histogram>,
    hash_queue_depth: Gauge,
    hash_waits: Gauge,
    hash_wait_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    hash_runs: Gauge,
    pool_connections: Gauge,
    pool_idle: Gauge,
}

impl Default for PromMetrics {
    fn default() -> Self {
        let seconds = || Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let metrics = PromMetrics {
            registry: Mutex::new(Registry::with_prefix("latch")),
            sign_ins: Family::default(),
            codes_sent: Family::default(),
            verifications: Family::default(),
            locks: Counter::default(),
            delivery_seconds: Family::new_with_constructor(seconds),
            request_seconds: Family::new_with_constructor(seconds),
            hash_queue_depth: Gauge::default(),
            hash_waits: Gauge::default(),
            hash_wait_seconds: Gauge::default(),
            hash_runs: Gauge::default(),
            pool_connections: Gauge::default(),
            pool_idle: Gauge::default(),
        };
        {
            let mut r = metrics.registry.lock().unwrap_or_else(|p| p.into_inner());
            r.register(
                "sign_ins",
                "Sign-ins with a password, by outcome",
                metrics.sign_ins.clone(),
            );
            r.register(
                "codes_sent",
                "Codes sent, by channel and outcome",
                metrics.codes_sent.clone(),
            );
            r.register(
                "verifications",
                "Codes entered, by outcome",
                metrics.verifications.clone(),
            );
            r.register(
                "two_factor_locks",
                "Two-factor steps locked after wrong codes",
                metrics.locks.clone(),
            );
            r.register(
                "delivery_seconds",
                "Time the provider took to take a message",
                metrics.delivery_seconds.clone(),
            );
            r.register(
                "request_seconds",
                "Request latency by route",
                metrics.request_seconds.clone(),
            );
            r.register(
                "password_hash_queue_depth",
                "Password hashes waiting or running",
                metrics.hash_queue_depth.clone(),
            );
            r.register(
                "password_hash_waits",
                "Password hashes that have waited for a slot",
                metrics.hash_waits.clone(),
            );
            r.register(
                "password_hash_wait_seconds",
                "Total time password hashes waited for a slot",
                metrics.hash_wait_seconds.clone(),
            );
            r.register(
                "password_hashes",
                "Argon2id runs since start: passwords hashed and checked",
                metrics.hash_runs.clone(),
            );
            r.register(
                "db_pool_connections",
                "Open database connections",
                metrics.pool_connections.clone(),
            );
            r.register(
                "db_pool_idle",
                "Idle database connections",
                metrics.pool_idle.clone(),
            );
        }
        metrics
    }
}

impl PromMetrics {
    pub fn observe_request(&self, route: &str, status: u16, seconds: f64) {
        let labels = vec![("route", route.to_owned()), ("status", status.to_string())];
        self.request_seconds.get_or_create(&labels).observe(seconds);
    }
}

impl latch_app::metrics::Metrics for PromMetrics {
    fn sign_in(&self, outcome: &'static str) {
        self.sign_ins
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    fn code_sent(&self, channel: &'static str, outcome: &'static str) {
        let labels = vec![
            ("channel", channel.to_owned()),
            ("outcome", outcome.to_owned()),
        ];
        self.codes_sent.get_or_create(&labels).inc();
    }

    fn verification(&self, outcome: &'static str) {
        self.verifications
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    fn lock(&self) {
        self.locks.inc();
    }

    fn delivery_seconds(&self, channel: &'static str, seconds: f64) {
        self.delivery_seconds
            .get_or_create(&vec![("channel", channel.to_owned())])
            .observe(seconds);
    }
}

/// Who may read `/metrics`: addresses and ranges, loopback by default.
pub fn metrics_allowed(allow: &TrustedProxies, client: IpAddr) -> bool {
    allow.contains(client)
}

pub async fn document(State(state): State<AppState>, Client(client): Client) -> Response {
    let ip = client.ip.parse::<IpAddr>().ok();
    if !ip.is_some_and(|ip| metrics_allowed(&state.config.metrics_allow, ip)) {
        return api_error_response(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Metrics are not served to this address.",
        );
    }
    let m = &state.metrics;
    let passwords = state.latch.passwords();
    m.hash_queue_depth
        .set(i64::try_from(passwords.queue_depth()).unwrap_or(i64::MAX));
    let (waits, waited) = passwords.waits();
    m.hash_waits.set(i64::try_from(waits).unwrap_or(i64::MAX));
    m.hash_wait_seconds.set(waited);
    m.hash_runs
        .set(i64::try_from(passwords.runs()).unwrap_or(i64::MAX));
    let (open, idle) = state.latch.pool_status();
    m.pool_connections.set(i64::from(open));
    m.pool_idle.set(i64::from(idle));
    let mut text = String::new();
    let registry = m.registry.lock().unwrap_or_else(|p| p.into_inner());
    if encode(&mut text, &registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
