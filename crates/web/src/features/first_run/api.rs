//! The first run in the JSON API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use latch_app::Secret;
use latch_app::records::Account;
use latch_app::setup::PracticeInput;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::error::{ApiError, ErrorBody, OWNER_FIELDS};
use crate::http::extract::{ApiJson, Client};
use crate::http::json::{PracticeRef, User, signed_in_response};

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
    /// An IANA time-zone name for the pages, emails and the CSV; the country's main zone when
    /// left out. Change it later in Security.
    #[schema(example = "America/Los_Angeles", pattern = "^[A-Za-z0-9/_+-]{1,64}$")]
    pub time_zone: Option<String>,
    pub owner: OwnerRequest,
    /// Production only: the one-time token latch printed at start.
    pub setup_token: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SetupResponse {
    pub practice: PracticeRef,
    pub user: User,
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
    let (input, token) = body.input();
    let created = state
        .latch
        .setup
        .create_first_practice(input, token.as_ref(), &client);
    let signed_in = created
        .await
        .map_err(|e| ApiError::placed(e, OWNER_FIELDS))?;
    let Account { person, practice } = &signed_in.account;
    let body = SetupResponse {
        practice: PracticeRef {
            id: practice.id.to_string(),
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

impl SetupRequest {
    /// The practice and its owner, and the setup token when one was given.
    fn input(self) -> (PracticeInput, Option<Secret>) {
        let input = PracticeInput {
            practice_name: self.practice_name,
            country: self.country,
            time_zone: self.time_zone,
            owner_email: self.owner.email,
            owner_name: self.owner.name,
            owner_password: Secret::new(self.owner.password),
        };
        (input, self.setup_token.map(Secret::new))
    }
}
