//! The team's JSON API: the practice's people, adding one, changing or deactivating one, and
//! a reset, an unlock or a reset link.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::PersonId;
use latch_app::records::PeopleFilter;
use latch_app::team::{PersonChange, PersonInput};
use latch_app::{AppError, Reason, Secret};
use latch_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiQuery, ApiSession, Client, Session};
use crate::http::json::{PersonView, User, person_status};
use crate::http::schema::{OnOff, PersonStatusName, RoleName};

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
    /// Only people of this status.
    #[param(value_type = Option<PersonStatusName>)]
    pub status: Option<String>,
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
    let (filter, two_factor_on) = query.filter()?;
    let people = state.latch.team.people(&who.account, &filter).await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let (practice, now) = (&who.account.practice, state.latch.now());
    let status = query.status.as_deref();
    let people: Vec<_> = people
        .into_iter()
        .filter(|p| two_factor_on.is_none_or(|on| p.has_two_factor() == on))
        .filter(|p| status.is_none_or(|s| person_status(p, now) == s))
        .collect();
    let methods = state
        .latch
        .methods
        .methods_of_people(&practice.id, &people)
        .await?;
    let users = people
        .iter()
        .zip(&methods)
        .map(|(p, methods)| {
            let devices = counts.get(p.id.as_str()).copied().unwrap_or(0);
            PersonView::of(p, practice, methods, devices, now)
        })
        .collect();
    Ok(Json(PeopleResponse { users }))
}

impl PeopleQuery {
    /// The role to list, and whether only people with two-factor on (or off).
    fn filter(&self) -> Result<(PeopleFilter, Option<bool>), AppError> {
        let role = self
            .role
            .as_deref()
            .map(Role::parse)
            .transpose()
            .map_err(|_| AppError::InvalidRole)?;
        let two_factor_on = match self.two_factor.as_deref() {
            None => None,
            Some("on") => Some(true),
            Some("off") => Some(false),
            Some(_) => {
                return Err(AppError::InvalidRequest(
                    Reason::Parameter("two_factor").into(),
                ));
            }
        };
        let deactivated = match self.status.as_deref() {
            None => None,
            Some("deactivated") => Some(true),
            Some("active" | "locked" | "locked_until_unlocked") => Some(false),
            Some(_) => {
                return Err(AppError::InvalidRequest(Reason::Parameter("status").into()));
            }
        };
        Ok((PeopleFilter { role, deactivated }, two_factor_on))
    }
}

/// One person of the practice, with their security state.
#[utoipa::path(get, path = "/api/v1/practice/users/{id}", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 200, body = PersonView), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn show_person(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Json<PersonView>, ApiError> {
    let person = state
        .latch
        .team
        .person(&who.account, &PersonId::from_stored(id))
        .await?;
    let counts = state.latch.team.device_counts(&who.account).await?;
    let devices = counts.get(person.id.as_str()).copied().unwrap_or(0);
    let methods = state.latch.methods.methods(&person).await?;
    Ok(Json(PersonView::of(
        &person,
        &who.account.practice,
        &methods,
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

#[derive(Deserialize, ToSchema)]
pub struct ChangePersonRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(value_type = Option<RoleName>)]
    pub role: Option<String>,
}

/// Changes a person's name or role; what is left out stays. Only owners make owners or
/// managers, and the last active owner stays one.
#[utoipa::path(patch, path = "/api/v1/practice/users/{id}", request_body = ChangePersonRequest, tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 200, body = PersonView), (status = 400, description = "invalid_role or invalid_request", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody),
              (status = 409, description = "last_owner", body = ErrorBody)))]
pub async fn change_person(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangePersonRequest>,
) -> Result<Json<PersonView>, ApiError> {
    let change = PersonChange {
        name: body.name,
        role: body.role,
    };
    let id = PersonId::from_stored(id);
    let team = &state.latch.team;
    let person = team.change_person(&who, &id, &change, &client).await?;
    let counts = team.device_counts(&who.account).await?;
    let devices = counts.get(person.id.as_str()).copied().unwrap_or(0);
    let methods = state.latch.methods.methods(&person).await?;
    let now = state.latch.now();
    Ok(Json(PersonView::of(
        &person,
        &who.account.practice,
        &methods,
        devices,
        now,
    )))
}

/// Deactivates a person who left: every session, remembered browser, application token and
/// emailed link of theirs, and the invitations they sent, end at once; their history stays.
#[utoipa::path(post, path = "/api/v1/practice/users/{id}/deactivate", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 204), (status = 403, description = "forbidden or reauthentication_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody), (status = 409, description = "last_owner", body = ErrorBody)))]
pub async fn deactivate(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = PersonId::from_stored(id);
    state.latch.team.deactivate(&who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Lets a deactivated person sign in again.
#[utoipa::path(post, path = "/api/v1/practice/users/{id}/reactivate", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 204), (status = 403, description = "forbidden", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn reactivate(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = PersonId::from_stored(id);
    state.latch.team.reactivate(&who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Resets a person's two-factor (a lost phone).
#[utoipa::path(delete, path = "/api/v1/practice/users/{id}/two-factor", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 204), (status = 403, description = "forbidden or reauthentication_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn reset_two_factor(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .latch
        .team
        .reset_two_factor(&who, &PersonId::from_stored(id), &client)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Emails a person a link to choose a new password; nobody sets another person's password.
#[utoipa::path(post, path = "/api/v1/practice/users/{id}/password-reset", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 202), (status = 403, description = "forbidden", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn send_password_reset(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .latch
        .team
        .send_password_reset(&who, &PersonId::from_stored(id), &client)
        .await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Clears a lock on a person's two-factor step, keeping their phone.
#[utoipa::path(post, path = "/api/v1/practice/users/{id}/unlock", tag = "practice", params(("id" = String, Path, description = "A person id")),
    responses((status = 204), (status = 403, description = "forbidden or reauthentication_required", body = ErrorBody),
              (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn unlock(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state
        .latch
        .team
        .unlock(&who, &PersonId::from_stored(id), &client)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
