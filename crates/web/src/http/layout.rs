//! The pages' shared layout: rendering, redirects, the chrome around every signed-in page,
//! notices, the stylesheet and the page for a path that is not there.

use std::borrow::Cow;

use askama::Template;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use latch_app::AppError;
use latch_app::records::Account;
use latch_app::sign_in::Authenticated;
use latch_domain::Permission;
use latch_domain::session::SessionState;
use serde::Deserialize;

use crate::http::error::{HtmlError, message_page};

// ----- plumbing -----------------------------------------------------------------------------

pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => HtmlError(AppError::Internal(e.into())).into_response(),
    }
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// What every signed-in page shows around its content.
pub struct Chrome {
    pub csrf: String,
    pub person_name: String,
    pub practice_name: String,
    pub role_label: &'static str,
    pub admin: bool,
    pub active: &'static str,
    /// What was just done, in the green of success.
    pub notice: Option<Cow<'static, str>>,
    /// Information the page starts with, not a success.
    pub info: Option<&'static str>,
    /// A sign-in held for the practice's required setup: the pages show no menu (each of its
    /// links would lead back here), only Sign out.
    pub focused: bool,
}

impl Chrome {
    pub(crate) fn new(who: &Authenticated, csrf: String, active: &'static str) -> Self {
        let Account { person, practice } = &who.account;
        Chrome {
            csrf,
            person_name: person.name.clone(),
            practice_name: practice.name.clone(),
            role_label: person.role.label(),
            admin: person.role.allows(Permission::ViewTeam),
            active,
            notice: None,
            info: None,
            focused: who.session.state == SessionState::TwoFactorSetupRequired,
        }
    }

    /// The chrome with the notice of what was just done (`?done=`), if it names one.
    pub(crate) fn noting(self, done: Option<&str>) -> Self {
        Chrome {
            notice: notice_for(done).map(Cow::Borrowed),
            ..self
        }
    }
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    pub(crate) done: Option<String>,
}

pub(crate) fn notice_for(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some("Your password was changed. You were signed out everywhere else."),
        "session" => Some("That session was ended."),
        "added" => Some("The person was added. They can sign in now."),
        "welcome" => Some("Your practice is ready. Welcome!"),
        "signed-out" => Some("You’re signed out."),
        "password-reset" => Some(
            "Your new password is set, and you were signed out everywhere. Sign in with it now.",
        ),
        "reset-link" => {
            Some("We emailed them a link to choose a new password. It works for one hour.")
        }
        "two-factor-off" => {
            Some("Two-factor authentication is off. We texted your phone to let you know.")
        }
        "device" => Some("That browser was forgotten. It will ask for a code next time."),
        "app" => Some("Your authenticator app is added. Sign-ins can ask for its code."),
        "passkey" => Some("Your passkey is added. You can sign in with it, without a password."),
        "preferred" => Some("Saved. Sign-ins will ask for that method first."),
        "method-removed" => Some(
            "That method was removed. You were signed out everywhere else, and remembered browsers will ask again.",
        ),
        "devices" => Some("Every remembered browser was forgotten."),
        "settings" => Some("The security settings were saved."),
        "reset" => Some(
            "Their two-factor was reset. They were signed out everywhere and set it up again at their next sign-in.",
        ),
        "unlock" => Some("Their two-factor step was unlocked."),
        "changed" => Some("Their name and role were saved."),
        "deactivated" => Some(
            "They were deactivated: signed out everywhere, and they can no longer sign in. Their history stays.",
        ),
        "reactivated" => Some("They were reactivated and can sign in again."),
        "invitation-resent" => {
            Some("The invitation was sent again with a new link; the old link no longer works.")
        }
        "invitation-revoked" => Some("The invitation was revoked; its link no longer works."),
        "email" => {
            Some("We sent a link to your new email address. Your email changes once you follow it.")
        }
        "email-changed" => Some("Your email address was changed."),
        _ => None,
    }
}

tokio::task_local! {
    /// The product's name for the request being answered, so every page's brand says it, the
    /// pages an extractor refuses with included.
    static BRAND: String;
}

/// The name the pages' brand shows (`LATCH_PRODUCT_NAME`); askama templates call it.
pub fn brand() -> String {
    BRAND
        .try_with(Clone::clone)
        .unwrap_or_else(|_| "latch".to_owned())
}

/// Answers the request with the product's name as the pages' brand.
pub(crate) async fn with_brand(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    BRAND
        .scope(state.latch.product_name().to_owned(), next.run(request))
        .await
}

pub async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/latch.css"),
    )
        .into_response()
}

/// The one script latch serves: passkeys on the pages that offer them.
pub async fn passkey_script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/passkey.js"),
    )
        .into_response()
}

pub async fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address.",
        "/",
        "Go to the start",
    )
}
