//! latch's web layer: the server-rendered pages, the JSON API, sessions in cookies, CSRF and
//! cross-site checks, security headers, the flood guard and the request log.
#![forbid(unsafe_code)]

mod api;
mod api_practice;
mod api_two_factor;
mod cookies;
mod error;
mod extract;
mod guard;
mod metrics;
mod openapi;
mod pages;
mod pages_practice;
mod pages_two_factor;
mod proxies;
mod schema;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use latch_app::Latch;

pub use guard::FloodGuard;
pub use metrics::PromMetrics;
pub use proxies::TrustedProxies;

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
    pub latch: Latch,
    pub config: Arc<WebConfig>,
    flood: FloodGuard,
    metrics: Arc<PromMetrics>,
}

/// The whole application, ready to serve with `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(latch: Latch, config: WebConfig, metrics: Arc<PromMetrics>) -> Router {
    let flood = FloodGuard::new(config.flood_limit);
    let state = AppState {
        latch,
        config: Arc::new(config),
        flood,
        metrics,
    };
    let api = Router::new()
        .route("/setup", post(api::setup))
        .route("/session", post(api::sign_in).delete(api::sign_out))
        .route("/session/reauthenticate", post(api::reauthenticate))
        .route("/session/verify", post(api_two_factor::verify))
        .route("/session/resend", post(api_two_factor::resend))
        .route("/me/two-factor", delete(api_two_factor::turn_off))
        .route("/me/two-factor/setup", post(api_two_factor::start_setup))
        .route(
            "/me/two-factor/setup/resend",
            post(api_two_factor::resend_setup),
        )
        .route(
            "/me/two-factor/setup/confirm",
            post(api_two_factor::confirm_setup),
        )
        .route(
            "/me/devices",
            get(api_two_factor::devices).delete(api_two_factor::forget_all_devices),
        )
        .route("/me/devices/{id}", delete(api_two_factor::forget_device))
        .route("/dev/outbox", get(api_two_factor::outbox))
        .route("/me", get(api::me))
        .route("/me/password", put(api::change_password))
        .route("/me/sessions", get(api::my_sessions))
        .route("/me/sessions/{id}", delete(api::end_my_session))
        .route(
            "/practice/users",
            get(api::list_people).post(api::add_person),
        )
        .route("/practice/users/{id}", get(api::show_person))
        .route(
            "/practice/users/{id}/two-factor",
            delete(api_practice::reset_two_factor),
        )
        .route("/practice/users/{id}/unlock", post(api_practice::unlock))
        .route(
            "/practice/security",
            get(api_practice::security).put(api_practice::update_security),
        )
        .route("/practice/audit", get(api_practice::audit))
        .route("/practice/audit.csv", get(api_practice::audit_csv))
        .route("/openapi.json", get(openapi::document))
        .fallback(api::not_found);
    let pages = Router::new()
        .route("/", get(pages::show_home))
        .route("/setup", get(pages::show_setup).post(pages::submit_setup))
        .route(
            "/sign-in",
            get(pages::show_sign_in).post(pages::submit_sign_in),
        )
        .route("/sign-out", post(pages::submit_sign_out))
        .route(
            "/sign-in/code",
            get(pages_two_factor::show_code).post(pages_two_factor::submit_code),
        )
        .route(
            "/sign-in/code/resend",
            post(pages_two_factor::submit_code_resend),
        )
        .route("/profile/two-factor", get(pages_two_factor::show_setup))
        .route(
            "/profile/two-factor/password",
            post(pages_two_factor::submit_password_step),
        )
        .route(
            "/profile/two-factor/setup",
            post(pages_two_factor::submit_setup),
        )
        .route(
            "/profile/two-factor/confirm",
            get(pages_two_factor::show_confirm).post(pages_two_factor::submit_confirm),
        )
        .route(
            "/profile/two-factor/resend",
            post(pages_two_factor::submit_setup_resend),
        )
        .route("/profile/two-factor/done", get(pages_two_factor::show_done))
        .route(
            "/profile/two-factor/off",
            get(pages_two_factor::show_turn_off).post(pages_two_factor::submit_turn_off),
        )
        .route(
            "/profile/devices/{id}/forget",
            post(pages_two_factor::submit_forget_device),
        )
        .route(
            "/profile/devices/forget-all",
            post(pages_two_factor::submit_forget_all_devices),
        )
        .route("/dev/outbox", get(pages_two_factor::show_outbox))
        .route("/dashboard", get(pages::show_dashboard))
        .route("/profile", get(pages::show_profile))
        .route("/profile/password", post(pages::submit_password))
        .route(
            "/profile/sessions/{id}/end",
            post(pages::submit_end_session),
        )
        .route(
            "/team",
            get(pages::show_team).post(pages::submit_add_person),
        )
        .route(
            "/practice/settings",
            get(pages_practice::show_settings).post(pages_practice::submit_settings),
        )
        .route("/practice/audit", get(pages_practice::show_audit))
        .route("/team/{id}", get(pages_practice::show_person))
        .route("/team/{id}/help", post(pages_practice::submit_person_help))
        .route("/static/latch.css", get(pages::stylesheet))
        .fallback(pages::not_found);
    Router::new()
        .nest("/api/v1", api)
        .route("/healthz", get(api::healthz))
        .route("/webhooks/twilio/status", post(webhooks::twilio_status))
        .route(
            "/webhooks/twilio/voice/{token}",
            post(webhooks::twilio_voice),
        )
        .route("/readyz", get(api::readyz))
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
