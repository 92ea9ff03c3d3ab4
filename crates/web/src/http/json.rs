//! The JSON shapes several features answer with: a person, their practice and two-factor, a
//! session, a remembered device, a sent code, a finished sign-in.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::methods::{MethodView, Methods};
use latch_app::records::{Account, Person, Practice};
use latch_app::sign_in::{RememberedDevice, SignedIn};
use latch_app::two_factor::CodeSent;
use latch_domain::Timestamp;
use latch_domain::device::BrowserDevices;
use latch_domain::method::MethodKind;
use latch_domain::session::SessionState;
use latch_domain::two_factor::Locked;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::cookies::{self, with_session};
use crate::http::schema::{
    AnswerName, ChannelName, MethodKindName, PersonStatusName, RoleName, SessionStateName,
};
use crate::{AppState, WebConfig};

// ----- shapes -------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct PracticeRef {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    pub practice: PracticeRef,
    /// A link sent to the address was followed (an invitation, a reset, an email change).
    pub email_verified: bool,
}

impl User {
    pub fn of(person: &Person, practice: &Practice) -> Self {
        User {
            id: person.id.to_string(),
            email: person.email.to_string(),
            name: person.name.clone(),
            role: person.role.as_str().to_owned(),
            practice: PracticeRef {
                id: practice.id.to_string(),
                name: practice.name.clone(),
            },
            email_verified: person.email_verified,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactor {
    /// Whether any method is on.
    pub enabled: bool,
    /// How the phone method's codes go, when there is one.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// The phone method's number, masked.
    pub phone: Option<String>,
    /// Whether the practice's rule covers this person.
    pub required: bool,
    /// Every method the person holds: the phone first, then the others as they were added.
    pub methods: Vec<Method>,
    /// The method a sign-in asks for first.
    #[schema(value_type = Option<MethodKindName>)]
    pub preferred: Option<&'static str>,
    pub recovery_codes_left: i64,
}

/// One of a person's two-factor methods.
#[derive(Serialize, ToSchema)]
pub struct Method {
    /// `phone` for the phone method; opaque otherwise.
    pub id: String,
    #[schema(value_type = MethodKindName)]
    pub kind: &'static str,
    /// The masked number of the phone method; a name for the others.
    pub label: String,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub last_used_at: Option<String>,
}

impl Method {
    pub fn of(m: &MethodView) -> Self {
        Method {
            id: m.id.clone(),
            kind: m.kind.as_str(),
            label: m.label.clone(),
            created_at: m.created_at.map(|t| t.to_rfc3339()),
            last_used_at: m.last_used_at.map(|t| t.to_rfc3339()),
        }
    }
}

impl TwoFactor {
    pub fn of(person: &Person, practice: &Practice, methods: &Methods) -> Self {
        let setting = person.two_factor.as_ref();
        TwoFactor {
            enabled: person.has_two_factor(),
            channel: setting.map(|s| s.channel.as_str().to_owned()),
            phone: setting.map(|s| s.phone.masked()),
            required: practice.security.require_two_factor.covers(person.role),
            methods: methods.methods.iter().map(Method::of).collect(),
            preferred: methods.preferred.map(MethodKind::as_str),
            recovery_codes_left: methods.recovery_codes_left,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PersonView {
    #[serde(flatten)]
    pub user: User,
    pub two_factor: TwoFactor,
    #[schema(value_type = PersonStatusName)]
    pub status: String,
    #[schema(format = DateTime)]
    pub last_sign_in_at: Option<String>,
    pub remembered_devices: u32,
}

/// A person's status as the API names it: deactivated, or their two-factor step's lock.
pub(crate) fn person_status(person: &Person, now: Timestamp) -> &'static str {
    if person.deactivated_at.is_some() {
        return "deactivated";
    }
    match person.lock.at(now.seconds()) {
        Locked::No => "active",
        Locked::For { .. } => "locked",
        Locked::UntilUnlocked => "locked_until_unlocked",
    }
}

impl PersonView {
    pub(crate) fn of(
        person: &Person,
        practice: &Practice,
        methods: &Methods,
        remembered_devices: i64,
        now: Timestamp,
    ) -> Self {
        let status = person_status(person, now);
        PersonView {
            user: User::of(person, practice),
            two_factor: TwoFactor::of(person, practice, methods),
            status: status.into(),
            last_sign_in_at: person.last_sign_in_at.map(|t| t.to_rfc3339()),
            remembered_devices: u32::try_from(remembered_devices).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionResponse {
    #[schema(value_type = SessionStateName)]
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// With `two_factor_required`: how the code went.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// With `two_factor_required`: where the code went, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// With `two_factor_required`: seconds the code holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_expires_in: Option<i64>,
    /// With `two_factor_required`: what this person can answer with, the one asked for first.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<AnswerName>>)]
    pub methods: Option<Vec<&'static str>>,
    /// With `two_factor_required`: the method asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<AnswerName>)]
    pub method: Option<&'static str>,
}

// ----- helpers ------------------------------------------------------------------------------

impl SessionResponse {
    /// A session a password opened: signed in, waiting for its code, or held for the
    /// practice's required setup.
    pub(crate) fn of(signed_in: &SignedIn) -> Self {
        let Account { person, practice } = &signed_in.account;
        let state = signed_in.state.as_str().to_owned();
        let waits = signed_in.state == SessionState::TwoFactorRequired;
        let methods = waits.then(|| signed_in.answers.iter().map(|a| a.as_str()).collect());
        let method = signed_in.answers.first().map(|a| a.as_str());
        match &signed_in.code {
            Some(code) => SessionResponse {
                state,
                user: None,
                channel: Some(code.channel.as_str().to_owned()),
                phone: Some(code.phone.clone()),
                code_expires_in: Some(code.expires_in),
                methods,
                method,
            },
            None => SessionResponse {
                state,
                // A sign-in that must first set up two-factor is not signed in yet.
                user: (signed_in.state == SessionState::SignedIn)
                    .then(|| User::of(person, practice)),
                channel: None,
                phone: None,
                code_expires_in: None,
                methods,
                method: method.filter(|_| waits),
            },
        }
    }
}

pub(crate) fn signed_in_response(
    state: &AppState,
    status: StatusCode,
    signed_in: &SignedIn,
    body: impl Serialize,
) -> Response {
    with_session(
        (status, Json(body)).into_response(),
        &state.config,
        Some(&signed_in.token),
    )
}

#[derive(Serialize, ToSchema)]
pub struct SignedInResponse {
    #[schema(value_type = SessionStateName)]
    pub state: String,
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct CodeSentResponse {
    #[schema(value_type = ChannelName)]
    pub channel: String,
    /// Masked.
    pub phone: String,
    pub code_expires_in: i64,
}

impl From<CodeSent> for CodeSentResponse {
    fn from(c: CodeSent) -> Self {
        CodeSentResponse {
            channel: c.channel.as_str().to_owned(),
            phone: c.phone,
            code_expires_in: c.expires_in,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    /// Browser and system, such as "Chrome on macOS".
    pub label: String,
    pub ip: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_seen_at: String,
    pub current: bool,
    /// The names of the applications this session signed in to.
    pub applications: Vec<String>,
}

impl SessionView {
    /// The person's sessions for a page or an answer, marking the one asking.
    pub fn list(
        sessions: Vec<latch_app::account::OpenSession>,
        current: &latch_app::SessionId,
    ) -> Vec<SessionView> {
        sessions
            .into_iter()
            .map(|open| {
                let s = open.session;
                SessionView {
                    current: s.id == *current,
                    id: s.id.to_string(),
                    label: s.label,
                    ip: s.ip,
                    created_at: s.created_at.to_rfc3339(),
                    last_seen_at: s.last_seen_at.to_rfc3339(),
                    applications: open.applications,
                }
            })
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeviceView {
    pub id: String,
    /// Browser and system, such as "Chrome on macOS".
    pub label: String,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_used_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Whether this is the browser asking.
    pub current: bool,
}

impl DeviceView {
    /// The person's devices for a page or an answer, marking this browser's.
    pub fn list(
        devices: Vec<latch_app::records::Device>,
        current: Option<&str>,
    ) -> Vec<DeviceView> {
        devices
            .into_iter()
            .map(|d| DeviceView {
                current: current == Some(d.id.as_str()),
                id: d.id,
                label: d.label,
                created_at: d.created_at.to_rfc3339(),
                last_used_at: d.last_used_at.to_rfc3339(),
                expires_at: d.expires_at.to_rfc3339(),
            })
            .collect()
    }
}

/// Adds the new remembered device to the browser's cookie.
pub fn remember_cookie(
    config: &WebConfig,
    browser: BrowserDevices,
    remembered: Option<&RememberedDevice>,
) -> Option<axum::http::HeaderValue> {
    let device = remembered?;
    let browser = browser.with(&device.tag, device.token.expose());
    Some(cookies::devices(config, &browser, device.max_age_seconds))
}
