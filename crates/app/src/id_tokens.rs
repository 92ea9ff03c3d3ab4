//! What an application learns of who signed in: the claims of its ID token and of userinfo,
//! by the scopes granted (OpenID Connect Core §2, §5.4), and how strongly they proved it.

use latch_domain::Timestamp;
use latch_domain::session::{Assurance, REAUTHENTICATION_SECONDS};
use serde_json::{Map, Value, json};

use crate::records::{Account, Session};

/// How long an ID token is valid: an hour, well inside the two hours a retired signing key
/// stays published (`applications::RETIRED_KEY_SHOWN_SECONDS`).
pub const ID_TOKEN_SECONDS: i64 = 3600;

/// The claims of the person for `scopes`: `sub` always; `name`, `role` and `practice` with
/// `profile`; `email` and `email_verified` with `email`. The same in the ID token and userinfo.
pub fn person_claims(account: &Account, scopes: &[&str]) -> Map<String, Value> {
    let Account { person, practice } = account;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(person.id.as_str()));
    if scopes.contains(&"profile") {
        claims.insert("name".into(), json!(person.name));
        claims.insert("role".into(), json!(person.role.as_str()));
        claims.insert(
            "practice".into(),
            json!({"id": practice.id.as_str(), "name": practice.name}),
        );
    }
    if scopes.contains(&"email") {
        claims.insert("email".into(), json!(person.email.as_str()));
        // Proved by following a link sent to it: an invitation, a reset, an email change.
        claims.insert("email_verified".into(), json!(person.email_verified));
    }
    claims
}

/// When the person last gave their password in this session: its sign-in, or a later
/// re-authentication.
pub fn auth_time(session: &Session) -> Timestamp {
    let again = session
        .reauthenticated_until
        .map(|until| until.plus(-REAUTHENTICATION_SECONDS));
    match again {
        Some(again) if again > session.created_at => again,
        _ => session.created_at,
    }
}

/// One ID token's claims, before signing.
pub struct IdToken<'a> {
    pub issuer: &'a str,
    /// The application's client id: `aud` and `azp`.
    pub client_id: &'a str,
    pub account: &'a Account,
    pub session: &'a Session,
    pub scopes: &'a [&'a str],
    pub nonce: Option<&'a str>,
    pub now: Timestamp,
}

impl IdToken<'_> {
    pub fn claims(&self) -> Value {
        let assurance = Assurance::of(self.session.second_factor);
        let mut claims = person_claims(self.account, self.scopes);
        let iat = self.now.seconds();
        for (name, value) in [
            ("iss", json!(self.issuer)),
            ("aud", json!(self.client_id)),
            ("azp", json!(self.client_id)),
            ("iat", json!(iat)),
            ("exp", json!(iat + ID_TOKEN_SECONDS)),
            ("auth_time", json!(auth_time(self.session).seconds())),
            // The session's public id, never its cookie: the same for every application it
            // signed in, so a back-channel logout names it.
            ("sid", json!(self.session.id.as_str())),
            ("amr", json!(assurance.amr)),
            ("acr", json!(assurance.acr)),
        ] {
            claims.insert(name.into(), value);
        }
        if let Some(nonce) = self.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        Value::Object(claims)
    }
}

#[cfg(test)]
mod tests {
    use latch_domain::practice::SecuritySettings;
    use latch_domain::session::{SecondFactor, SessionState};
    use latch_domain::{Email, Role};

    use super::*;
    use crate::ids::{PersonId, PracticeId, SessionId};
    use crate::records::{Person, Practice};

    fn account() -> Account {
        let country = latch_domain::country::Country::parse("US").unwrap();
        Account {
            person: Person {
                id: PersonId::from_stored("p1"),
                practice_id: PracticeId::from_stored("pr1"),
                email: Email::parse("sam@harbor.test").unwrap(),
                name: "Sam Lee".into(),
                role: Role::Staff,
                password_hash: "$argon2id$...".into(),
                two_factor: None,
                code_failures: 0,
                lock: Default::default(),
                last_sign_in_at: None,
                previous_sign_in_at: None,
                created_at: Timestamp(0),
                email_verified: false,
                deactivated_at: None,
                other_methods: Default::default(),
                phone_times: Default::default(),
            },
            practice: Practice {
                id: PracticeId::from_stored("pr1"),
                name: "Harbor Counseling".into(),
                country: "US".into(),
                security: SecuritySettings::new_practice(country),
                created_at: Timestamp(0),
            },
        }
    }

    fn session(second_factor: Option<SecondFactor>) -> Session {
        Session {
            id: SessionId::from_stored("s1"),
            person_id: PersonId::from_stored("p1"),
            state: SessionState::SignedIn,
            created_at: Timestamp(1_000),
            last_seen_at: Timestamp(1_500),
            reauthenticated_until: None,
            pending_until: None,
            ip: "192.0.2.1".into(),
            label: "Firefox on Linux".into(),
            second_factor,
            new_browser: false,
        }
    }

    #[test]
    fn the_scopes_say_which_claims_an_application_gets() {
        let account = account();
        assert_eq!(
            Value::Object(person_claims(&account, &["openid"])),
            json!({"sub": "p1"})
        );
        assert_eq!(
            Value::Object(person_claims(&account, &["openid", "profile", "email"])),
            json!({"sub": "p1", "name": "Sam Lee", "role": "staff",
                   "practice": {"id": "pr1", "name": "Harbor Counseling"},
                   "email": "sam@harbor.test", "email_verified": false})
        );
    }

    #[test]
    fn an_id_token_says_who_for_whom_and_how_strongly() {
        let account = account();
        let session = session(Some(SecondFactor::CalledCode));
        let token = IdToken {
            issuer: "https://latch.example",
            client_id: "app1",
            account: &account,
            session: &session,
            scopes: &["openid"],
            nonce: Some("n-1"),
            now: Timestamp(2_000),
        };
        assert_eq!(
            token.claims(),
            json!({"sub": "p1", "iss": "https://latch.example", "aud": "app1", "azp": "app1",
                   "iat": 2_000, "exp": 5_600, "auth_time": 1_000, "sid": "s1",
                   "amr": ["pwd", "mfa", "tel"], "acr": "mfa", "nonce": "n-1"})
        );
        let without = IdToken {
            nonce: None,
            ..token
        };
        assert!(without.claims().get("nonce").is_none());
    }

    #[test]
    fn a_password_given_again_moves_auth_time() {
        let mut session = session(None);
        assert_eq!(auth_time(&session), Timestamp(1_000));
        session.reauthenticated_until = Some(Timestamp(1_800 + REAUTHENTICATION_SECONDS));
        assert_eq!(auth_time(&session), Timestamp(1_800));
    }
}
