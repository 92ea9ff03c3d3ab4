//! latch's web layer: the server-rendered pages, the JSON API, sessions in cookies, CSRF and
//! cross-site checks, security headers, the flood guard and the request log.
#![forbid(unsafe_code)]

mod features;
mod http;
pub mod words;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use latch_app::Latch;

pub use http::guard::FloodGuard;
pub use http::metrics::PromMetrics;
pub use http::proxies::TrustedProxies;

use features::{
    audit, dev_outbox, first_run, invitations, oidc, practice_settings, profile, recovery, sign_in,
    team, two_factor, webhooks,
};
use http::{error, flash, guard, health, layout, metrics, openapi};

/// How the web layer presents latch.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The origin people use, `https://latch.example.com` (no trailing slash).
    pub public_url: String,
    /// Loopback origins accepted beside the public one: in development on a loopback address,
    /// `localhost` and `127.0.0.1` name the same server.
    pub extra_origins: Vec<String>,
    /// Production asks for the setup token on the first run.
    pub production: bool,
    /// Per-node, per-address requests a second (burst twice that).
    pub flood_limit: u32,
    /// Proxies whose `X-Forwarded-For` is believed (`LATCH_TRUSTED_PROXIES`).
    pub trusted_proxies: TrustedProxies,
    /// Client addresses that may read `/metrics` (`LATCH_METRICS_ALLOW`).
    pub metrics_allow: TrustedProxies,
}

impl WebConfig {
    /// Cookies get `Secure` and the `__Host-` prefix over HTTPS.
    pub fn secure(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Clone)]
pub struct AppState {
    /// Behind one `Arc`: axum clones the state for each request, and each service's own
    /// handle would otherwise be counted up and down every time.
    pub latch: Arc<Latch>,
    pub config: Arc<WebConfig>,
    flood: FloodGuard,
    metrics: Arc<PromMetrics>,
}

/// The whole application, ready to serve with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(latch: Latch, config: WebConfig, metrics: Arc<PromMetrics>) -> Router {
    let flood = FloodGuard::new(config.flood_limit);
    let state = AppState {
        latch: Arc::new(latch),
        config: Arc::new(config),
        flood,
        metrics,
    };
    let api = Router::new()
        .merge(first_run::api_routes())
        .merge(sign_in::api_routes())
        .merge(recovery::api_routes())
        .merge(invitations::api_routes())
        .merge(two_factor::api_routes())
        .merge(profile::api_routes())
        .merge(team::api_routes())
        .merge(practice_settings::api_routes())
        .merge(audit::api_routes())
        .merge(dev_outbox::api_routes())
        .route("/openapi.json", get(openapi::document))
        .fallback(health::not_found);
    let pages = Router::new()
        .merge(first_run::page_routes())
        .merge(sign_in::page_routes())
        .merge(recovery::page_routes())
        .merge(invitations::page_routes())
        .merge(two_factor::page_routes())
        .merge(profile::page_routes())
        .merge(team::page_routes())
        .merge(practice_settings::page_routes())
        .merge(audit::page_routes())
        .merge(dev_outbox::page_routes())
        .merge(oidc::page_routes())
        .route("/message", get(flash::show_message))
        .route("/static/latch.css", get(layout::stylesheet))
        .route("/static/passkey.js", get(layout::passkey_script))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            flash::carry,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            oidc::authorize::carry,
        ));
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .merge(webhooks::routes())
        .merge(oidc::routes())
        .route("/metrics", get(metrics::document))
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::csrf_cookie,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::cross_site,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::flood,
        ))
        .layer(axum::middleware::from_fn(guard::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            layout::with_brand,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::hsts,
        ))
        .layer(DefaultBodyLimit::max(64 * 1024))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            error::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::request_log,
        ))
        .layer(axum::middleware::from_fn(guard::run_to_completion))
        .with_state(state)
}

/// Serves `router` on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
