//! An application's request to sign someone in (the OpenID Connect authorization request, code
//! flow only): read and checked as RFC 6749 §4.1, RFC 7636 and OpenID Connect Core §3.1.2 ask,
//! and the redirects that answer it, with `iss` on each (RFC 9207).

use crate::application::AppUri;

/// The scopes latch grants; others asked for are left out, as RFC 6749 §3.3 allows.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Longest `state` or `nonce` kept: enough for any real client, and a bound on what is stored.
const MAX_ECHOED: usize = 512;

/// What a registered application brings to the reading of its request.
pub struct Registered<'a> {
    pub redirect_uris: &'a [AppUri],
    /// No secret: PKCE is required.
    pub public: bool,
}

/// What the person is asked for before a code is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Sign in only when not signed in already.
    AsNeeded,
    /// Never show a page: answer `login_required` when not signed in.
    Never,
    /// The password again, whatever the session.
    Login,
}

/// A request that may be answered with a code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationRequest {
    pub client_id: String,
    /// Exactly one of the application's registered addresses.
    pub redirect_uri: String,
    /// The scopes granted, in latch's order, `openid` first.
    pub scopes: Vec<&'static str>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    /// The PKCE challenge (S256), when the application sent one.
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    /// Seconds since the password after which it is asked again.
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// A refused request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No redirect is safe (an unknown application, an address it did not register): a page
    /// says so, and the browser stays at latch (RFC 6749 §4.1.2.1).
    Page(PageProblem),
    /// Sent back to the application's address as `error` and `error_description`.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: &'static str,
        description: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageProblem {
    /// No `client_id`, or one given twice.
    NoApplication,
    /// A `client_id` no application has.
    UnknownApplication,
    /// No `redirect_uri`, one given twice, or one the application did not register.
    UnregisteredRedirect,
}

/// The `client_id` of a request, for finding its application; none when it has none or
/// several.
pub fn client_id(params: &[(String, String)]) -> Option<&str> {
    once(params, "client_id").ok().flatten()
}

/// Reads the request of `application` (none: no application has its `client_id`).
pub fn read(
    params: &[(String, String)],
    application: Option<&Registered<'_>>,
) -> Result<AuthorizationRequest, Refused> {
    let client_id = match once(params, "client_id") {
        Ok(Some(id)) => id.to_owned(),
        _ => return Err(Refused::Page(PageProblem::NoApplication)),
    };
    let application = application.ok_or(Refused::Page(PageProblem::UnknownApplication))?;
    let redirect_uri = match once(params, "redirect_uri") {
        Ok(Some(uri)) if application.redirect_uris.iter().any(|r| r.is(uri)) => uri.to_owned(),
        _ => return Err(Refused::Page(PageProblem::UnregisteredRedirect)),
    };
    // From here on, a refusal goes back to the application, with its state when it is one.
    let state = once(params, "state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_ECHOED)
        .map(str::to_owned);
    let refuse = |error: &'static str, description: &'static str| Refused::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
        description,
    };
    let single = |name: &str| {
        once(params, name)
            .map_err(|()| refuse("invalid_request", "A parameter was given more than once."))
    };
    if single("state")?.is_some_and(|s| s.len() > MAX_ECHOED) {
        return Err(refuse("invalid_request", "state is too long."));
    }
    if single("request")?.is_some() {
        return Err(refuse(
            "request_not_supported",
            "Request objects are not supported.",
        ));
    }
    if single("request_uri")?.is_some() {
        return Err(refuse(
            "request_uri_not_supported",
            "request_uri is not supported.",
        ));
    }
    match single("response_type")? {
        Some("code") => {}
        None => return Err(refuse("invalid_request", "response_type is required.")),
        Some(_) => {
            return Err(refuse(
                "unsupported_response_type",
                "Only response_type=code is supported.",
            ));
        }
    }
    if !matches!(single("response_mode")?, None | Some("query")) {
        return Err(refuse(
            "invalid_request",
            "Only response_mode=query is supported.",
        ));
    }
    let asked: Vec<&str> = single("scope")?.unwrap_or("").split(' ').collect();
    if !asked.contains(&"openid") {
        return Err(refuse("invalid_scope", "The openid scope is required."));
    }
    let scopes = SCOPES.into_iter().filter(|s| asked.contains(s)).collect();
    let code_challenge = match (single("code_challenge")?, single("code_challenge_method")?) {
        (None, None) if application.public => {
            return Err(refuse(
                "invalid_request",
                "A public application must send a PKCE code_challenge (S256).",
            ));
        }
        (None, None) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => {
            Some(challenge.to_owned())
        }
        (Some(_), Some("S256")) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge is not an S256 challenge.",
            ));
        }
        (Some(_), None | Some("plain")) => {
            return Err(refuse(
                "invalid_request",
                "code_challenge_method must be S256; plain is not accepted.",
            ));
        }
        _ => {
            return Err(refuse(
                "invalid_request",
                "code_challenge and code_challenge_method=S256 go together.",
            ));
        }
    };
    let nonce = single("nonce")?.map(str::to_owned);
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_ECHOED) {
        return Err(refuse("invalid_request", "nonce is too long."));
    }
    let prompts: Vec<&str> = single("prompt")?
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    let prompt = if prompts.contains(&"none") {
        if prompts.len() > 1 {
            return Err(refuse(
                "invalid_request",
                "prompt=none cannot be combined with another prompt.",
            ));
        }
        Prompt::Never
    } else if prompts.contains(&"login") {
        Prompt::Login
    } else {
        // consent and select_account need no page: applications are first-party and a
        // browser holds one latch session.
        Prompt::AsNeeded
    };
    let max_age = match single("max_age")? {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(seconds) if seconds >= 0 => Some(seconds),
            _ => {
                return Err(refuse(
                    "invalid_request",
                    "max_age must be a number of seconds.",
                ));
            }
        },
    };
    let login_hint = single("login_hint")?
        .filter(|hint| hint.len() <= 254)
        .map(str::to_owned);
    Ok(AuthorizationRequest {
        client_id,
        redirect_uri,
        scopes,
        state,
        nonce,
        code_challenge,
        prompt,
        max_age,
        login_hint,
    })
}

/// The one value of `name`; an error when it is given more than once, or given empty (RFC
/// 6749 §3.1: a parameter sent without a value is treated as omitted).
fn once<'p>(params: &'p [(String, String)], name: &str) -> Result<Option<&'p str>, ()> {
    let mut values = params
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str());
    let first = values.next();
    if values.next().is_some() {
        return Err(());
    }
    Ok(first.filter(|v| !v.is_empty()))
}

/// An S256 challenge is the base64url SHA-256 of the verifier: 43 characters.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The application's address with `params` added to its query, as every answer of the
/// authorization endpoint is sent (its own query, if any, kept).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    let mut url = match url::Url::parse(redirect_uri) {
        Ok(url) => url,
        // Registered addresses were parsed on their way in.
        Err(_) => return redirect_uri.to_owned(),
    };
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

/// Where a refused request goes back to, with `iss` so the application knows who answered.
pub fn error_redirect(refused: &Refused, issuer: &str) -> Option<String> {
    let Refused::Redirect {
        redirect_uri,
        state,
        error,
        description,
    } = refused
    else {
        return None;
    };
    let mut params = vec![("error", *error), ("error_description", *description)];
    if let Some(state) = state {
        params.push(("state", state));
    }
    params.push(("iss", issuer));
    Some(redirect_with(redirect_uri, &params))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CB: &str = "https://harbor.example.com/cb";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("client_id", "c1"),
            ("redirect_uri", CB),
            ("response_type", "code"),
            ("scope", "openid email unknown profile"),
            ("state", "s-1"),
            ("nonce", "n-1"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    fn with(change: &[(&'static str, &'static str)]) -> Vec<(String, String)> {
        let mut pairs = good();
        for (name, value) in change {
            pairs.retain(|(k, _)| k != name);
            if !value.is_empty() {
                pairs.push((name, value));
            }
        }
        params(&pairs)
    }

    fn registered(public: bool) -> (Vec<AppUri>, bool) {
        (vec![AppUri::parse(CB).unwrap()], public)
    }

    fn read_as(params: &[(String, String)], public: bool) -> Result<AuthorizationRequest, Refused> {
        let (uris, public) = registered(public);
        read(
            params,
            Some(&Registered {
                redirect_uris: &uris,
                public,
            }),
        )
    }

    fn error_of(result: Result<AuthorizationRequest, Refused>) -> &'static str {
        match result {
            Err(Refused::Redirect { error, state, .. }) => {
                assert_eq!(state.as_deref(), Some("s-1"), "state goes back as sent");
                error
            }
            other => panic!("not a redirect: {other:?}"),
        }
    }

    #[test]
    fn a_good_request_keeps_what_the_code_is_bound_to() {
        let request = read_as(&with(&[]), true).unwrap();
        assert_eq!(
            request.scopes,
            ["openid", "profile", "email"],
            "unknown left out"
        );
        assert_eq!(
            (request.state.as_deref(), request.nonce.as_deref()),
            (Some("s-1"), Some("n-1"))
        );
        assert_eq!(request.code_challenge.as_deref(), Some(CHALLENGE));
        assert_eq!(request.prompt, Prompt::AsNeeded);
        let confidential = with(&[("code_challenge", ""), ("code_challenge_method", "")]);
        assert_eq!(read_as(&confidential, false).unwrap().code_challenge, None);
    }

    #[test]
    fn an_unknown_application_or_address_never_redirects() {
        let (uris, _) = registered(false);
        let app = Registered {
            redirect_uris: &uris,
            public: false,
        };
        assert_eq!(
            read(&with(&[]), None),
            Err(Refused::Page(PageProblem::UnknownApplication))
        );
        assert_eq!(
            read(&with(&[("client_id", "")]), Some(&app)),
            Err(Refused::Page(PageProblem::NoApplication))
        );
        for uri in [
            "",
            "https://harbor.example.com/cb/",
            "https://evil.example/cb",
        ] {
            assert_eq!(
                read(&with(&[("redirect_uri", uri)]), Some(&app)),
                Err(Refused::Page(PageProblem::UnregisteredRedirect)),
                "{uri:?}"
            );
        }
        let mut twice = with(&[]);
        twice.push(("redirect_uri".into(), CB.into()));
        assert_eq!(
            read(&twice, Some(&app)),
            Err(Refused::Page(PageProblem::UnregisteredRedirect))
        );
    }

    #[test]
    fn other_problems_go_back_to_the_application() {
        let cases: [(&[(&str, &str)], &str); 12] = [
            (&[("response_type", "token")], "unsupported_response_type"),
            (
                &[("response_type", "code id_token")],
                "unsupported_response_type",
            ),
            (&[("response_type", "")], "invalid_request"),
            (&[("scope", "profile email")], "invalid_scope"),
            (&[("code_challenge_method", "plain")], "invalid_request"),
            (&[("code_challenge_method", "")], "invalid_request"),
            (&[("code_challenge", "short")], "invalid_request"),
            (&[("code_challenge", "")], "invalid_request"),
            (&[("prompt", "none login")], "invalid_request"),
            (&[("max_age", "-1")], "invalid_request"),
            (&[("request", "eyJ...")], "request_not_supported"),
            (&[("response_mode", "fragment")], "invalid_request"),
        ];
        for (change, error) in cases {
            assert_eq!(error_of(read_as(&with(change), false)), error, "{change:?}");
        }
        let public_without_pkce = with(&[("code_challenge", ""), ("code_challenge_method", "")]);
        assert_eq!(
            error_of(read_as(&public_without_pkce, true)),
            "invalid_request"
        );
        let mut twice = with(&[]);
        twice.push(("scope".into(), "openid".into()));
        assert_eq!(error_of(read_as(&twice, false)), "invalid_request");
    }

    #[test]
    fn prompts_and_max_age() {
        let request = |prompt| read_as(&with(&[("prompt", prompt)]), false).unwrap().prompt;
        assert_eq!(request("none"), Prompt::Never);
        assert_eq!(request("login consent"), Prompt::Login);
        assert_eq!(request("consent select_account"), Prompt::AsNeeded);
        let aged = read_as(&with(&[("max_age", "0")]), false).unwrap();
        assert_eq!(aged.max_age, Some(0));
    }

    #[test]
    fn answers_keep_the_applications_query_and_carry_the_issuer() {
        assert_eq!(
            redirect_with("https://a.example/cb?tenant=1", &[("code", "c d")]),
            "https://a.example/cb?tenant=1&code=c+d"
        );
        let refused = read_as(&with(&[("response_type", "token")]), false).unwrap_err();
        let to = error_redirect(&refused, "https://latch.example").unwrap();
        assert!(
            to.starts_with(&format!(
                "{CB}?error=unsupported_response_type&error_description="
            )) && to.ends_with("&state=s-1&iss=https%3A%2F%2Flatch.example"),
            "{to}"
        );
        assert_eq!(
            error_redirect(&Refused::Page(PageProblem::UnknownApplication), "x"),
            None
        );
    }
}
