//! Answering an application's authorization request: a code at once for a session signed in
//! recently enough, an error sent back to the application, or the sign-in the request waits
//! for (OpenID Connect Core §3.1.2).

use latch_domain::Timestamp;
use latch_domain::audit::AuditKind;
use latch_domain::authorization::{
    self, AuthorizationRequest, PageProblem, Prompt, Refused, Registered, redirect_with,
};

use crate::audit::{Event, record};
use crate::error::AppError;
use crate::grants::GrantService;
use crate::id_tokens::auth_time;
use crate::records::ClientInfo;
use crate::sign_in::Authenticated;

/// What answers an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorized {
    /// Back to the application: with a code, or with an error it reads.
    Redirect(String),
    /// No redirect is safe (RFC 6749 §4.1.2.1): a page says why, and the browser stays here.
    Page(PageProblem),
    /// The person signs in first, or gives their password again; then the request goes on.
    SignIn(Waiting),
}

/// A request waiting for its person to sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    /// Named on the sign-in page: "Sign in to continue to Harbor Practice".
    pub application_name: String,
    /// Where the browser goes at the end, for the pages whose forms lead there.
    pub redirect_origin: String,
    /// The email to fill in.
    pub login_hint: Option<String>,
    /// A session is signed in, but its password is older than the request allows.
    pub password_again: bool,
}

/// When the request was first asked: a request that comes back after its sign-in carries the
/// time it first arrived, so `prompt=login` is met by a password given since.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Now,
    At(Timestamp),
}

impl GrantService {
    /// Reads and answers an authorization request; `who` is a session fully signed in.
    pub async fn authorize(
        &self,
        params: &[(String, String)],
        who: Option<&Authenticated>,
        asked: Asked,
        issuer: &str,
        client: &ClientInfo,
    ) -> Result<Authorized, AppError> {
        let application = match authorization::client_id(params) {
            Some(id) => self.core.store.application(id).await?,
            None => None,
        };
        let registered = application.as_ref().map(|a| Registered {
            redirect_uris: &a.redirect_uris,
            public: a.secret_hash.is_none(),
        });
        let request = match authorization::read(params, registered.as_ref()) {
            Ok(request) => request,
            Err(Refused::Page(problem)) => return Ok(Authorized::Page(problem)),
            Err(refused) => {
                let to = authorization::error_redirect(&refused, issuer).unwrap_or_default();
                return Ok(Authorized::Redirect(to));
            }
        };
        // A request reads as one only with its application; this says so to the compiler.
        let Some(application) = application else {
            return Ok(Authorized::Page(PageProblem::UnknownApplication));
        };
        let now = self.core.clock.now();
        match who {
            Some(who) if password_recent_enough(who, &request, asked, now) => {
                let code = self.give_code(who, &request, &application.name, client);
                let code = code.await?;
                let mut answer = vec![("code", code.expose())];
                if let Some(state) = &request.state {
                    answer.push(("state", state));
                }
                answer.push(("iss", issuer));
                Ok(Authorized::Redirect(redirect_with(
                    &request.redirect_uri,
                    &answer,
                )))
            }
            _ if request.prompt == Prompt::Never => {
                let refused = Refused::Redirect {
                    redirect_uri: request.redirect_uri.clone(),
                    state: request.state.clone(),
                    error: "login_required",
                    description: "The person is not signed in to latch.",
                };
                let to = authorization::error_redirect(&refused, issuer).unwrap_or_default();
                Ok(Authorized::Redirect(to))
            }
            _ => Ok(Authorized::SignIn(Waiting {
                application_name: application.name.clone(),
                redirect_origin: application
                    .redirect_uris
                    .iter()
                    .find(|uri| uri.is(&request.redirect_uri))
                    .map(|uri| uri.origin())
                    .unwrap_or_default(),
                login_hint: request.login_hint.clone(),
                password_again: who.is_some(),
            })),
        }
    }

    /// The code for an application's request, given to a session that is signed in, and the
    /// sign-in audited, together.
    pub(crate) async fn give_code(
        &self,
        who: &Authenticated,
        request: &AuthorizationRequest,
        application_name: &str,
        client: &ClientInfo,
    ) -> Result<crate::Secret, AppError> {
        let person = &who.account.person;
        let (code, stored) = self.new_code(who, request)?;
        let stored = &stored;
        self.core
            .in_one_transaction(move |core| async move {
                core.store.put_authorization_code(stored).await?;
                let event = Event::own(person, AuditKind::AppSignedIn, client, application_name);
                record(&core, event).await
            })
            .await?;
        Ok(code)
    }
}

/// Whether the session's password is recent enough for the request: `prompt=login` asks for
/// one given since the request first arrived, `max_age` for one no older than it says.
fn password_recent_enough(
    who: &Authenticated,
    request: &AuthorizationRequest,
    asked: Asked,
    now: Timestamp,
) -> bool {
    let given = auth_time(&who.session);
    let since_asked = match (request.prompt, asked) {
        (Prompt::Login, Asked::Now) => false,
        (Prompt::Login, Asked::At(at)) => given >= at,
        _ => true,
    };
    let young_enough = request
        .max_age
        .is_none_or(|max| now.seconds() - given.seconds() <= max);
    since_asked && young_enough
}
