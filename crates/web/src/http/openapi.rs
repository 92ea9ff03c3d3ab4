//! The OpenAPI document, generated from the handlers' annotations and the shapes they use, with
//! the API's conventions (the session cookie, and the answers every operation can give) added
//! to every operation they apply to, so the document is exact.

use axum::Json;
use utoipa::openapi::content::Content;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::http::error::{ErrorBody, ErrorDetail, FieldRefusal};
use crate::http::schema::{AuditKindName, FieldName, OnOff, RoleName};
use crate::{features, http};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "latch",
        description = "Sign-in and two-factor authentication for therapy practices."
    ),
    paths(
        features::first_run::api::setup,
        features::sign_in::api::sign_in,
        features::sign_in::api::sign_out,
        features::sign_in::api::reauthenticate,
        features::profile::api::me,
        features::profile::api::change_password,
        features::profile::api::change_email,
        features::profile::api::confirm_email,
        features::profile::api::my_sessions,
        features::profile::api::end_my_session,
        features::team::api::list_people,
        features::team::api::show_person,
        features::team::api::add_person,
        http::health::healthz,
        http::health::readyz,
        features::sign_in::api::verify,
        features::sign_in::api::resend,
        features::two_factor::api::start_setup,
        features::two_factor::api::resend_setup,
        features::two_factor::api::confirm_setup,
        features::two_factor::api::turn_off,
        features::two_factor::api::begin_app,
        features::two_factor::api::confirm_app,
        features::two_factor::api::begin_passkey,
        features::two_factor::api::add_passkey,
        features::sign_in::api::passkey_options,
        features::sign_in::api::passkey_sign_in,
        features::two_factor::api::set_preferred,
        features::two_factor::api::remove_method,
        features::two_factor::api::new_recovery_codes,
        features::profile::api::devices,
        features::profile::api::forget_device,
        features::profile::api::forget_all_devices,
        features::dev_outbox::api::outbox,
        features::dev_outbox::api::email_outbox,
        features::recovery::api::request_reset,
        features::recovery::api::confirm_reset,
        features::team::api::send_password_reset,
        features::team::api::change_person,
        features::team::api::deactivate,
        features::team::api::reactivate,
        features::invitations::api::invite,
        features::invitations::api::list,
        features::invitations::api::resend,
        features::invitations::api::revoke,
        features::invitations::api::show,
        features::invitations::api::accept,
        features::practice_settings::api::security,
        features::practice_settings::api::update_security,
        features::team::api::reset_two_factor,
        features::team::api::unlock,
        features::audit::api::audit,
        features::audit::api::audit_csv,
    ),
    // Schemas named only by query parameters, which utoipa does not collect by itself.
    components(schemas(
        ErrorBody,
        ErrorDetail,
        FieldRefusal,
        FieldName,
        OnOff,
        RoleName,
        AuditKindName
    )),
    modifiers(&Conventions)
)]
pub struct ApiDoc;

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The session cookie's security scheme.
const SESSION: &str = "session";

/// Operations that answer without a session: the first run, signing in and out, health and the
/// development outbox. Every other one needs the session cookie.
const WITHOUT_SESSION: [(&str, &str); 14] = [
    ("post", "/api/v1/setup"),
    ("post", "/api/v1/session/passkey/options"),
    ("post", "/api/v1/session/passkey"),
    ("post", "/api/v1/session"),
    ("delete", "/api/v1/session"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/v1/dev/outbox"),
    ("get", "/api/v1/dev/email-outbox"),
    ("post", "/api/v1/password-reset"),
    ("post", "/api/v1/password-reset/confirm"),
    ("get", "/api/v1/invitations/{token}"),
    ("post", "/api/v1/invitations/{token}/accept"),
    ("post", "/api/v1/me/email/confirm"),
];

/// Adds what `api.md`'s conventions promise to each operation they apply to.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                SESSION,
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    "latch_session",
                    "The session cookie that signing in sets (`__Host-latch_session` over HTTPS).",
                ))),
            );
        for (path, item) in &mut doc.paths.paths {
            for (method, operation) in operations(item) {
                apply_conventions(path, method, operation);
            }
        }
    }
}

fn operations(item: &mut PathItem) -> Vec<(&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
    .collect()
}

fn apply_conventions(path: &str, method: &str, operation: &mut Operation) {
    let health = path == "/healthz" || path == "/readyz";
    let needs_session = !WITHOUT_SESSION.contains(&(method, path));
    if needs_session {
        operation.security = Some(vec![SecurityRequirement::new(
            SESSION,
            Vec::<String>::new(),
        )]);
        answers(
            operation,
            401,
            "not_signed_in: no session, or one that may not do this yet",
        );
    }
    if operation.request_body.is_some() {
        answers(
            operation,
            400,
            "invalid_request: malformed JSON, a missing field or a wrong type",
        );
        answers(operation, 413, "payload_too_large: a body over 64 KiB");
        answers(
            operation,
            415,
            "unsupported_media_type: a body without Content-Type: application/json",
        );
    }
    if operation
        .parameters
        .as_ref()
        .is_some_and(|p| p.iter().any(is_query))
    {
        answers(
            operation,
            400,
            "invalid_request: a query parameter out of its range",
        );
    }
    if method != "get" {
        answers(
            operation,
            403,
            "cross_site_request: an Origin other than latch's own, or Sec-Fetch-Site: cross-site",
        );
    }
    if !health {
        answers(
            operation,
            429,
            "rate_limited: too many requests from one network, or a throttle (Retry-After says how long)",
        );
        answers(
            operation,
            503,
            "unavailable: the database cannot be reached right now",
        );
    }
}

fn is_query(parameter: &RefOr<utoipa::openapi::path::Parameter>) -> bool {
    matches!(parameter, RefOr::T(p) if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
}

/// Adds an error answer to an operation, or its meaning to one already listed.
fn answers(operation: &mut Operation, status: u16, meaning: &str) {
    let responses = &mut operation.responses.responses;
    match responses.get_mut(&status.to_string()) {
        Some(RefOr::T(existing)) => {
            if !existing
                .description
                .contains(meaning.split(':').next().unwrap_or(meaning))
            {
                existing.description = format!("{}; {meaning}", existing.description);
            }
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let mut response = ResponseBuilder::new().description(meaning).content(
                "application/json",
                Content::new(Some(Ref::from_schema_name("ErrorBody"))),
            );
            if status == 429 {
                response = response.header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                        .description(Some("Seconds to wait before trying again."))
                        .build(),
                );
            }
            responses.insert(status.to_string(), RefOr::T(response.build()));
        }
    }
}
