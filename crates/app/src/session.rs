//! The steps of a session that signing in and two-factor share: who a request belongs to,
//! opening a session, giving it a new token, finishing a held sign-in, re-authenticating, and
//! ending the person's other sessions and remembered devices.

use latch_domain::audit::AuditKind;
use latch_domain::session::{self, SecondFactor, SessionState};
use latch_domain::{Timestamp, user_agent};

use crate::audit::{Event, record, remembered_browsers};
use crate::crypto::{new_token, token_hash};
use crate::error::AppError;
use crate::ids::{PersonId, SessionId};
use crate::latch::Core;
use crate::password_check::{PasswordCheck, check_password_again, record_password_again};
use crate::records::{Account, ClientInfo, NewSession, Person, Session, SessionChange};
use crate::secret::Secret;

/// A session this request belongs to, with its person and practice.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session: Session,
    pub account: Account,
}

impl Authenticated {
    pub fn is_reauthenticated(&self, now: Timestamp) -> bool {
        self.session
            .reauthenticated_until
            .is_some_and(|until| now < until)
    }
}

/// Takes the password again and grants this session a re-authentication: its new token and
/// until when.
pub(crate) async fn reauthenticate(
    core: &Core,
    who: &Authenticated,
    password: &Secret,
    client: &ClientInfo,
) -> Result<(Secret, Timestamp), AppError> {
    let check = &check_password_again(core, who, password, client).await?;
    core.in_one_transaction(|core| async move {
        grant_reauthentication(&core, who, check, client).await
    })
    .await
}

/// Grants the re-authentication a re-entered password earned (the only place one is granted),
/// in the use case's unit of work; a wrong or refused password is counted and answered.
pub(crate) async fn grant_reauthentication(
    core: &Core,
    who: &Authenticated,
    check: &PasswordCheck,
    client: &ClientInfo,
) -> Result<(Secret, Timestamp), AppError> {
    record_password_again(core, who, check, client, "re-authentication").await?;
    let until = core.clock.now().plus(session::REAUTHENTICATION_SECONDS);
    let token = rotate(
        core,
        &who.session,
        who.session.state,
        Some(until),
        who.session.pending_until,
        None,
    )
    .await?;
    Ok((token, until))
}

/// Opens a session for a person whose password was just checked, and answers its token.
pub(crate) async fn open_session(
    core: &Core,
    person_id: &PersonId,
    state: SessionState,
    client: &ClientInfo,
    pending_until: Option<Timestamp>,
    second_factor: Option<SecondFactor>,
) -> Result<(Secret, SessionId), AppError> {
    let now = core.clock.now();
    let token = new_token();
    let session = NewSession {
        id: SessionId::generate(),
        pending_until,
        token_hash: token_hash(token.expose()),
        person_id: person_id.clone(),
        state,
        created_at: now,
        ip: client.ip.clone(),
        label: user_agent::label(&client.user_agent),
        second_factor,
    };
    core.store.insert_session(&session).await?;
    if state == SessionState::SignedIn {
        core.store.record_sign_in(person_id, now).await?;
    }
    Ok((token, session.id))
}

/// Finishes a sign-in that was held (for its code, or for the practice's required setup):
/// a new session id, signed in and audited. The right code that finished it has recorded the
/// sign-in (`OnRightCode::SignIn`).
pub(crate) async fn complete_sign_in(
    core: &Core,
    who: &Authenticated,
    how: &str,
    second_factor: SecondFactor,
    client: &ClientInfo,
) -> Result<Secret, AppError> {
    let person = &who.account.person;
    let signed_in = SessionState::SignedIn;
    let token = rotate(
        core,
        &who.session,
        signed_in,
        None,
        None,
        Some(second_factor),
    )
    .await?;
    audit_signed_in(core, person, how, client).await?;
    if who.session.new_browser {
        tell_of_new_browser(core, &who.account, client).await?;
    }
    Ok(token)
}

/// Emails a person of a sign-in from a browser they had not signed in from: which browser and
/// system, when, and what to do if it was not them.
pub(crate) async fn tell_of_new_browser(
    core: &Core,
    account: &Account,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let person = &account.person;
    let at = core.local_time(&account.practice, core.clock.now());
    let browser = user_agent::label(&client.user_agent);
    let mail = latch_domain::mail::Mail::NewSignIn {
        name: &person.name,
        browser: &browser,
        at: &at,
    };
    core.mail(&person.email, &account.practice, mail).await?;
    Ok(())
}

/// The audit event of a finished sign-in, saying how the person proved who they are.
pub(crate) async fn audit_signed_in(
    core: &Core,
    person: &Person,
    how: &str,
    client: &ClientInfo,
) -> Result<(), AppError> {
    record(
        core,
        Event::own(person, AuditKind::SignInSucceeded, client, how),
    )
    .await
}

/// Gives a session a new token, so the cookie it had before is worth nothing.
pub(crate) async fn rotate(
    core: &Core,
    session: &Session,
    state: SessionState,
    reauthenticated_until: Option<Timestamp>,
    pending_until: Option<Timestamp>,
    second_factor: Option<SecondFactor>,
) -> Result<Secret, AppError> {
    let token = new_token();
    core.store
        .rotate_session(
            &session.id,
            &token_hash(token.expose()),
            &SessionChange {
                state,
                reauthenticated_until,
                pending_until,
                second_factor,
            },
            core.clock.now(),
        )
        .await?;
    Ok(token)
}

/// Ends every remembered device of the person, every session but this one, and what this one
/// gave applications.
pub(crate) async fn end_devices_and_other_sessions(
    core: &Core,
    who: &Authenticated,
    client: &ClientInfo,
) -> Result<(), AppError> {
    let person = &who.account.person;
    let ended = core.store.delete_devices_of(&person.id).await?;
    core.store
        .delete_sessions_of(&person.id, Some(&who.session.id))
        .await?;
    // The applications this session signed in to rest on how the person signed in, which has
    // just changed: they sign in again.
    core.store
        .end_applications_of_session(&who.session.id)
        .await?;
    if ended > 0 {
        record(
            core,
            Event::own(
                person,
                AuditKind::DeviceEnded,
                client,
                format!("{} ended", remembered_browsers(ended)),
            ),
        )
        .await?;
    }
    Ok(())
}
