//! Signing in with a passkey from the pages: the form the sign-in page and the code page send
//! once the browser's passkey has answered (`/static/passkey.js` fills it in).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use latch_app::AppError;
use latch_app::sign_in::Authenticated;
use latch_domain::session::SessionState;
use serde::Deserialize;

use super::api::remembering;
use super::pages::{CodeRefused, shown_beside_code_form};
use crate::AppState;
use crate::features::oidc::{Continuing, landing};
use crate::http::cookies::{self, with_cookie};
use crate::http::error::HtmlError;
use crate::http::extract::{AnySession, Browser, Client};
use crate::http::flash::{self, OneError};
use crate::http::forms::{CsrfForm, csrf_form};
use crate::http::layout::see_other;
use crate::words::refusal;

csrf_form!(PasskeyForm { remember } secret { credential });

/// The passkey's answer: the second step of a sign-in waiting for it, or, from the sign-in
/// page, a sign-in with the passkey alone.
pub async fn submit_passkey(
    State(state): State<AppState>,
    Client(client): Client,
    AnySession(previous): AnySession,
    Browser(browser): Browser,
    continuing: Continuing,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<PasskeyForm>,
) -> Result<Response, HtmlError> {
    let credential = serde_json::from_str(&form.credential).unwrap_or_default();
    let remember = form.remember == "yes";
    let passkeys = &state.latch.passkeys;
    let waiting = previous
        .as_ref()
        .filter(|w| w.session.state == SessionState::TwoFactorRequired);
    if let Some(who) = waiting {
        return match passkeys
            .second_step(who, &credential, remember, &client)
            .await
        {
            Ok(accepted) => {
                let session = cookies::session(&state.config, accepted.token.expose());
                let next = with_cookie(see_other(landing(&continuing)), session);
                Ok(remembering(
                    next,
                    &state,
                    browser,
                    accepted.remembered.as_ref(),
                ))
            }
            Err(e) if shown_beside_code_form(&e) || matches!(e, AppError::InvalidCredential) => {
                let refused = CodeRefused::of(&e, refusal(&e));
                Ok(flash::back("/sign-in/code?method=passkey", &refused, &()))
            }
            Err(e) => Err(HtmlError(e)),
        };
    }
    let token = cookies::read_passkey_sign_in(&state.config, &headers);
    let alone = passkeys
        .alone(token.as_deref(), &credential, false, &client, &browser)
        .await;
    match alone {
        Ok(signed_in) => {
            sign_out(&state, previous, &client).await?;
            let person = &signed_in.account.person;
            let seen = cookies::seen_by(&state, &browser, &person.id);
            let session = cookies::session(&state.config, signed_in.token.expose());
            let next = with_cookie(see_other(landing(&continuing)), session);
            let next = with_cookie(
                with_cookie(next, seen),
                cookies::clear_passkey_sign_in(&state.config),
            );
            Ok(next)
        }
        Err(
            e @ (AppError::InvalidCredential
            | AppError::RateLimited { .. }
            | AppError::AccountDeactivated
            | AppError::TwoFactorLocked
            | AppError::PasskeysUnavailable),
        ) => Ok(flash::back("/sign-in", &OneError::of(refusal(&e)), &())),
        Err(e) => Err(HtmlError(e)),
    }
}

/// A browser holds one session: the one it had before a sign-in ends with it.
async fn sign_out(
    state: &AppState,
    previous: Option<Authenticated>,
    client: &latch_app::records::ClientInfo,
) -> Result<(), AppError> {
    match previous {
        Some(previous) => state.latch.sign_in.sign_out(&previous, client).await,
        None => Ok(()),
    }
}
