//! The JSON API of `api.md`: thin handlers that extract, call one use case, and render.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::records::{Account, PeopleFilter, Person, Practice};
use latch_app::setup::PracticeInput;
use latch_app::sign_in::SignedIn;
use latch_app::team::PersonInput;
use latch_app::{AppError, Secret};
use latch_domain::Role;
use latch_domain::Timestamp;
use latch_domain::phone::PhoneNumber;
use latch_domain::session::SessionState;
use latch_domain::two_factor::Locked;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::cookies::{self, with_cookie};
use crate::error::{ApiError, ErrorBody, api_error_response};
use crate::extract::{AnySession, ApiJson, ApiQuery, ApiSession, Browser, Client, Session};
use crate::schema::{ChannelName, OnOff, PersonStatusName, RoleName, SessionStateName};

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
}

impl User {
    pub fn of(person: &Person, practice: &Practice) -> Self {
        User {
            id: person.id.clone(),
            email: person.email.clone(),
            name: person.name.clone(),
            role: person.role.as_str().to_owned(),
            practice: PracticeRef {
                id: practice.id.clone(),
                name: practice.name.clone(),
            },
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TwoFactor {
    pub enabled: bool,
    /// How codes go, when enabled.
    #[schema(value_type = Option<ChannelName>)]
    pub channel: Option<String>,
    /// Masked, when enabled.
    pub phone: Option<String>,
    /// Whether the practice's rule covers this person.
    pub required: bool,
}

impl TwoFactor {
    pub fn of(person: &Person, practice: &Practice) -> Self {
        let setting = person.two_factor.as_ref();
        TwoFactor {
            enabled: setting.is_some(),
            channel: setting.map(|s| s.channel.as_str().to_owned()),
            phone: setting
                .and_then(|s| PhoneNumber::from_stored(&s.phone))
                .map(|p| p.masked()),
            required: practice.security.require_two_factor.covers(person.role),
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

impl PersonView {
    fn of(person: &Person, practice: &Practice, remembered_devices: i64, now: Timestamp) -> Self {
        let status = match person.lock.at(now.seconds()) {
            Locked::No => "active",
            Locked::For { .. } => "locked",
            Locked::UntilUnlocked => "locked_until_unlocked",
        };
        PersonView {
            user: User::of(person, practice),
            two_factor: TwoFactor::of(person, practice),
            status: status.into(),
            last_sign_in_at: person.last_sign_in_at.map(|t| t.to_rfc3339()),
            remembered_devices: u32::try_from(remembered_devices).unwrap_or(u32::MAX),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct OwnerRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// 10 to 128 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SetupRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub practice_name: String,
    /// ISO 3166-1 alpha-2; `US` when left out.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    pub owner: OwnerRequest,
    /// Production only: the one-time token latch printed at start.
    pub setup_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SetupResponse {
    pub practice: PracticeRef,
    pub user: User,
}

#[derive(Deserialize, ToSchema)]
pub struct SignInRequest {
    #[schema(max_length = 254)]
    pub email: String,
    pub password: String,
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
}

#[derive(Deserialize, ToSchema)]
pub struct ReauthenticateRequest {
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct ReauthenticateResponse {
    #[schema(format = DateTime)]
    pub reauthenticated_until: String,
}

#[derive(Serialize, ToSchema)]
pub struct MeResponse {
    pub user: User,
    pub two_factor: TwoFactor,
}

#[derive(Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// 10 to 128 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub new_password: String,
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
}

impl SessionView {
    /// The person's sessions for a page or an answer, marking the one asking.
    pub fn list(sessions: Vec<latch_app::records::Session>, current: &str) -> Vec<SessionView> {
        sessions
            .into_iter()
            .map(|s| SessionView {
                current: s.id == current,
                id: s.id,
                label: s.label,
                ip: s.ip,
                created_at: s.created_at.to_rfc3339(),
                last_seen_at: s.last_seen_at.to_rfc3339(),
            })
            .collect()
    }
}

#[derive(Serialize, ToSchema)]
pub struct SessionsResponse {
    pub sessions: Vec<SessionView>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddPersonRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    /// 10 to 128 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    pub user: User,
}

#[derive(Serialize, ToSchema)]
pub struct PeopleResponse {
    pub users: Vec<PersonView>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeopleQuery {
    /// Only people with this role.
    #[param(value_type = Option<RoleName>)]
    pub role: Option<String>,
    /// Only people with two-factor on, or off.
    #[param(value_type = Option<OnOff>)]
    pub two_factor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: String,
}

// ----- helpers ------------------------------------------------------------------------------

fn signed_in_response(
    state: &AppState,
    status: StatusCode,
    signed_in: &SignedIn,
    body: impl Serialize,
) -> Response {
    with_cookie(
        (status, Json(body)).into_response(),
        cookies::session(&state.config, signed_in.token.expose()),
    )
}

// ----- handlers -----------------------------------------------------------------------------

/// Creates the first practice and its owner, and signs the owner in.
#[utoipa::path(post, path = "/api/v1/setup", request_body = SetupRequest, tag = "first run",
    responses((status = 201, body = SetupResponse), (status = 409, description = "already_set_up", body = ErrorBody),
              (status = 400, description = "invalid_request, invalid_email, weak_password", body = ErrorBody),
              (status = 403, description = "forbidden: the setup token is missing or wrong (production)", body = ErrorBody)))]
pub async fn setup(
    State(state): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<SetupRequest>,
) -> Result<Response, ApiError> {
    let input = PracticeInput {
        practice_name: body.practice_name,
        country: body.country,
        owner_email: body.owner.email,
        owner_name: body.owner.name,
        owner_password: Secret::new(body.owner.password),
    };
    let token = body.setup_token.map(Secret::new);
    let signed_in = state
        .latch
        .setup
        .create_first_practice(input, token.as_ref(), &client)
        .await?;
    let Account { person, practice } = &signed_in.account;
    let body = SetupResponse {
        practice: PracticeRef {
            id: practice.id.clone(),
            name: practice.name.clone(),
        },
        user: User::of(person, practice),
    };
    Ok(signed_in_response(
        &state,
        StatusCode::CREATED,
        &signed_in,
        body,
    ))
}

/// Signs in with email and password.
#[utoipa::path(post, path = "/api/v1/session", request_body = SignInRequest, tag = "session",
    responses((status = 200, body = SessionResponse), (status = 401, description = "invalid_credentials", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn sign_in(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    ApiJson(body): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let signed_in = state
        .latch
        .sign_in
        .sign_in(&body.email, &Secret::new(body.password), &client, &browser)
        .await?;
    if let Some(previous) = previous {
        // A browser holds one session: the one it had before ends here.
        state.latch.sign_in.sign_out(&previous, &client).await?;
    }
    let cookie = cookies::session(&state.config, signed_in.token.expose());
    if let Some(failed) = signed_in.delivery_failed {
        // The sign-in waits for a code that could not go out: the session stays, so a resend
        // (perhaps by the other method) can follow.
        return Ok(with_cookie(ApiError(failed).into_response(), cookie));
    }
    let Account { person, practice } = &signed_in.account;
    let body = match &signed_in.code {
        Some(code) => SessionResponse {
            state: signed_in.state.as_str().to_owned(),
            user: None,
            channel: Some(code.channel.as_str().to_owned()),
            phone: Some(code.phone.clone()),
            code_expires_in: Some(code.expires_in),
        },
        None => SessionResponse {
            state: signed_in.state.as_str().to_owned(),
            // A sign-in that must first set up two-factor is not signed in yet.
            user: (signed_in.state == SessionState::SignedIn).then(|| User::of(person, practice)),
            channel: None,
            phone: None,
            code_expires_in: None,
        },
    };
    Ok(with_cookie(Json(body).into_response(), cookie))
}

/// Signs out: ends this session, whatever its state.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session", responses((status = 204)))]
pub async fn sign_out(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(session): AnySession,
) -> Result<Response, ApiError> {
    if let Some(session) = session {
        state.latch.sign_in.sign_out(&session, &client).await?;
    }
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        cookies::clear_session(&state.config),
    ))
}

/// Re-enters the password; it counts for 10 minutes in this session.
#[utoipa::path(post, path = "/api/v1/session/reauthenticate", request_body = ReauthenticateRequest, tag = "session",
    responses((status = 200, body = ReauthenticateResponse), (status = 401, description = "invalid_credentials or not_signed_in", body = ErrorBody),
              (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn reauthenticate(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<ReauthenticateRequest>,
) -> Result<Response, ApiError> {
    let (token, until) = state
        .latch
        .sign_in
        .reauthenticate(&who, &Secret::new(body.password), &client)
        .await?;
    let body = ReauthenticateResponse {
        reauthenticated_until: until.to_rfc3339(),
    };
    Ok(with_cookie(
        Json(body).into_response(),
        cookies::session(&state.config, token.expose()),
    ))
}

/// The signed-in person and their two-factor state.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = MeResponse), (status = 401, description = "not_signed_in", body = ErrorBody)))]
pub async fn me(Session(who, _): ApiSession) -> Json<MeResponse> {
    let Account { person, practice } = &who.account;
    Json(MeResponse {
        user: User::of(person, practice),
        two_factor: TwoFactor::of(person, practice),
    })
}

/// Changes the password; every other session of the person ends.
#[utoipa::path(put, path = "/api/v1/me/password", request_body = ChangePasswordRequest, tag = "me",
    responses((status = 204), (status = 400, description = "weak_password", body = ErrorBody),
              (status = 401, description = "invalid_credentials", body = ErrorBody), (status = 429, description = "rate_limited", body = ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> Result<Response, ApiError> {
    let token = state
        .latch
        .account
        .change_password(
            &who,
            &Secret::new(body.current_password),
            &Secret::new(body.new_password),
            &client,
        )
        .await?;
    Ok(with_cookie(
        StatusCode::NO_CONTENT.into_response(),
        cookies::session(&state.config, token.expose()),
    ))
}

/// The person's open sessions.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "me",
    responses((status = 200, body = SessionsResponse), (status = 401, description = "not_signed_in", body = ErrorBody)))]
pub async fn my_sessions(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
) -> Result<Json<SessionsResponse>, ApiError> {
    let sessions = state.latch.account.sessions(&who).await?;
    Ok(Json(SessionsResponse {
        sessions: SessionView::list(sessions, &who.session.id),
    }))
}

/// Ends one of the person's sessions.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "me", params(("id" = String, Path, description = "A session id")),
    responses((status = 204), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn end_my_session(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.latch.account.end_session(&who, &id, &client).await?;
    let response = StatusCode::NO_CONTENT.into_response();
    Ok(if id == who.session.id {
        with_cookie(response, cookies::clear_session(&state.config))
    } else {
        response
    })
}

/// The practice's people (owners and managers).
#[utoipa::path(get, path = "/api/v1/practice/users", tag = "practice", params(PeopleQuery),
    responses((status = 200, body = PeopleResponse), (status = 403, description = "forbidden", body = ErrorBody),
              (status = 400, description = "invalid_role or invalid_request", body = ErrorBody)))]
pub async fn list_people(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    ApiQuery(query): ApiQuery<PeopleQuery>,
) -> Result<Json<PeopleResponse>, ApiError> {
    let role = query
        .role
        .as_deref()
        .map(Role::parse)
        .transpose()
        .map_err(|e| AppError::InvalidRole(e.to_string()))?;
    let two_factor_on = match query.two_factor.as_deref() {
        None => None,
        Some("on") => Some(true),
        Some("off") => Some(false),
        Some(_) => {
            return Err(AppError::InvalidRequest("two_factor must be on or off.".into()).into());
        }
    };
    let people = state
        .latch
        .team
        .people(&who.account, &PeopleFilter { role })
        .await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let practice = &who.account.practice;
    let now = state.latch.now();
    let users = people
        .iter()
        .map(|p| PersonView::of(p, practice, counts.get(&p.id).copied().unwrap_or(0), now))
        .filter(|view| two_factor_on.is_none_or(|on| view.two_factor.enabled == on))
        .collect();
    Ok(Json(PeopleResponse { users }))
}

/// One person of the practice, with their security state.
#[utoipa::path(get, path = "/api/v1/practice/users/{id}", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 200, body = PersonView), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn show_person(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let person = state.latch.team.person(&who.account, &id).await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let devices = counts.get(&person.id).copied().unwrap_or(0);
    Ok(Json(PersonView::of(
        &person,
        &who.account.practice,
        devices,
        state.latch.now(),
    )))
}

/// Adds staff or a client (owners also add owners and managers).
#[utoipa::path(post, path = "/api/v1/practice/users", request_body = AddPersonRequest, tag = "practice",
    responses((status = 201, body = UserResponse), (status = 409, description = "email_taken", body = ErrorBody),
              (status = 400, description = "weak_password, invalid_email, invalid_role", body = ErrorBody), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn add_person(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<AddPersonRequest>,
) -> Result<Response, ApiError> {
    let input = PersonInput {
        email: body.email,
        name: body.name,
        role: body.role,
        password: Secret::new(body.password),
    };
    let person = state
        .latch
        .team
        .add_person(&who.account, input, &client)
        .await?;
    let user = User::of(&person, &who.account.practice);
    Ok((StatusCode::CREATED, Json(UserResponse { user })).into_response())
}

/// 200 while the process runs.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// 200 only while the database answers and its migrations are applied.
#[utoipa::path(get, path = "/readyz", tag = "health", responses((status = 200, body = Health), (status = 503, body = ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.latch.ready().await {
        Ok(()) => Json(Health {
            status: "ready".into(),
        })
        .into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

pub async fn not_found() -> Response {
    api_error_response(
        StatusCode::NOT_FOUND,
        "not_found",
        "There is no such endpoint.",
    )
}
