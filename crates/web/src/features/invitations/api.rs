//! Invitations through the JSON API.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use latch_app::Secret;
use latch_app::invitations::InvitationInput;
use latch_app::records::Invitation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::http::cookies::{self, with_cookie};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{AnySession, ApiJson, ApiSession, Browser, Client, Session};
use crate::http::json::User;
use crate::http::schema::{RoleName, SessionStateName};

#[derive(Deserialize, ToSchema)]
pub struct InviteRequest {
    #[schema(max_length = 254)]
    pub email: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
}

#[derive(Serialize, ToSchema)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub name: String,
    #[schema(value_type = RoleName)]
    pub role: String,
    /// Who sent it; null once they are gone.
    pub invited_by: Option<PersonRef>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl From<&Invitation> for InvitationView {
    fn from(i: &Invitation) -> Self {
        InvitationView {
            id: i.id.clone(),
            email: i.email.to_string(),
            name: i.name.clone(),
            role: i.role.as_str().to_owned(),
            invited_by: i.invited_by.as_ref().map(|(id, name)| PersonRef {
                id: id.to_string(),
                name: name.clone(),
            }),
            created_at: i.created_at.to_rfc3339(),
            expires_at: i.expires_at.to_rfc3339(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct InvitationResponse {
    pub invitation: InvitationView,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationsResponse {
    pub invitations: Vec<InvitationView>,
}

/// Invites a person by email: a link that works once, for seven days. The rules of adding
/// people hold (only owners invite owners or managers).
#[utoipa::path(post, path = "/api/v1/practice/invitations", request_body = InviteRequest, tag = "practice",
    responses((status = 201, body = InvitationResponse), (status = 409, description = "email_taken", body = ErrorBody),
              (status = 400, description = "invalid_email, invalid_role or invalid_request", body = ErrorBody),
              (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<Response, ApiError> {
    let input = InvitationInput {
        email: body.email,
        name: body.name,
        role: body.role,
    };
    let invitation = state
        .latch
        .invitations
        .invite(&who, &input, &client)
        .await?;
    let invitation = InvitationView::from(&invitation);
    Ok((StatusCode::CREATED, Json(InvitationResponse { invitation })).into_response())
}

/// The practice's open invitations, newest first.
#[utoipa::path(get, path = "/api/v1/practice/invitations", tag = "practice",
    responses((status = 200, body = InvitationsResponse), (status = 403, description = "forbidden", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Session(who, _): ApiSession,
) -> Result<Json<InvitationsResponse>, ApiError> {
    let open = state.latch.invitations.open(&who.account).await?;
    let invitations = open.iter().map(InvitationView::from).collect();
    Ok(Json(InvitationsResponse { invitations }))
}

/// Sends an invitation again with a new link; the old one stops working.
#[utoipa::path(post, path = "/api/v1/practice/invitations/{id}/resend", tag = "practice", params(("id" = String, Path, description = "An invitation id")),
    responses((status = 202), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.latch.invitations.resend(&who, &id, &client).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Revokes an open invitation.
#[utoipa::path(delete, path = "/api/v1/practice/invitations/{id}", tag = "practice", params(("id" = String, Path, description = "An invitation id")),
    responses((status = 204), (status = 403, description = "forbidden", body = ErrorBody), (status = 404, description = "not_found", body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Client(client): Client,
    Session(who, _): ApiSession,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.latch.invitations.revoke(&who, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Serialize, ToSchema)]
pub struct PracticeName {
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct InvitationLinkView {
    pub email: String,
    pub name: String,
    pub practice: PracticeName,
}

/// What an invitation's link is for, while it works.
#[utoipa::path(get, path = "/api/v1/invitations/{token}", tag = "invitations", params(("token" = String, Path, description = "The token of an invitation's link")),
    responses((status = 200, body = InvitationLinkView), (status = 404, description = "not_found: unknown, used, revoked or expired", body = ErrorBody)))]
pub async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Json<InvitationLinkView>, ApiError> {
    let link = state.latch.invitations.link(&token).await?;
    Ok(Json(InvitationLinkView {
        email: link.invitation.email.to_string(),
        name: link.invitation.name,
        practice: PracticeName {
            name: link.practice.name,
        },
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct AcceptRequest {
    /// 10 to 128 characters, and not easy to guess.
    #[schema(min_length = 10, max_length = 128)]
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct JoinedResponse {
    #[schema(value_type = SessionStateName)]
    pub state: String,
    pub user: User,
}

/// Joins the practice with the password chosen: the person is made, their email counts as
/// verified, and they are signed in (or held for the two-factor setup the practice requires).
#[utoipa::path(post, path = "/api/v1/invitations/{token}/accept", request_body = AcceptRequest, tag = "invitations", params(("token" = String, Path, description = "The token of an invitation's link")),
    responses((status = 200, body = JoinedResponse), (status = 400, description = "weak_password", body = ErrorBody),
              (status = 404, description = "not_found: unknown, used, revoked or expired", body = ErrorBody),
              (status = 409, description = "email_taken", body = ErrorBody)))]
pub async fn accept(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    Path(token): Path<String>,
    ApiJson(body): ApiJson<AcceptRequest>,
) -> Result<Response, ApiError> {
    let password = Secret::new(body.password);
    let joined = state
        .latch
        .invitations
        .accept(&token, &password, &client)
        .await?;
    if let Some(previous) = previous {
        // A browser holds one session: the one it had before ends here.
        state.latch.sign_in.sign_out(&previous, &client).await?;
    }
    let person = &joined.account.person;
    let seen = cookies::seen_by(&state, &browser, &person.id);
    let session = cookies::session(&state.config, joined.token.expose());
    let body = JoinedResponse {
        state: joined.state.as_str().to_owned(),
        user: User::of(person, &joined.account.practice),
    };
    Ok(with_cookie(
        with_cookie(Json(body).into_response(), session),
        seen,
    ))
}
