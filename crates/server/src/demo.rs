//! The demo practice (`latch demo`) and what the console hands out: generated passwords and the
//! client the console acts as.

use latch_app::setup::PracticeInput;
use latch_app::team::PersonInput;
use latch_app::two_factor::SetupInput;
use latch_app::{AppError, ClientInfo, Latch, Secret};
use latch_domain::device::BrowserDevices;

/// Who the demo made, to print once.
pub struct Demo {
    pub practice_name: String,
    pub people: Vec<DemoPerson>,
}

pub struct DemoPerson {
    pub role: &'static str,
    pub email: &'static str,
    pub password: Secret,
    /// Two-factor on, by text to `DEMO_PHONE` (the codes are in the development outbox).
    pub enrolled: bool,
}

/// The staff member's phone in the demo: a number of the fictional 555 range.
pub const DEMO_PHONE: &str = "+14155552671";

/// The client the console acts as, in the audit trail.
pub fn console_client() -> ClientInfo {
    ClientInfo {
        ip: "console".into(),
        user_agent: "latch console".into(),
    }
}

/// A strong password to hand over once: 20 characters from a 32-letter alphabet (100 bits).
pub fn generated_password() -> Secret {
    const ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz23456789-";
    let bytes = latch_app::crypto::random_bytes::<20>();
    let mut text: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(b & 31)] as char)
        .collect();
    // A leading letter and no doubled dash keep it easy to read aloud and type.
    text = text.replace("--", "-x");
    Secret::new(format!("p{text}"))
}

/// A practice with an owner, a manager, a staff member and a client. With the development
/// outbox, the staff member turns two-factor on as a person would (sign in, password again,
/// phone, code), and the client mistypes a password once, so the audit trail has a story.
pub async fn seed(latch: &Latch) -> Result<Demo, AppError> {
    let owner_password = generated_password();
    let owner = latch
        .setup
        .create_practice(PracticeInput {
            practice_name: "Harbor Counseling (demo)".into(),
            country: Some("US".into()),
            time_zone: Some("America/Los_Angeles".into()),
            owner_email: "owner@demo.latch.test".into(),
            owner_name: "Olivia Owner".into(),
            owner_password: owner_password.clone(),
        })
        .await?;
    let mut people = vec![DemoPerson {
        role: "owner",
        email: "owner@demo.latch.test",
        password: owner_password,
        enrolled: false,
    }];
    for (role, email, name) in [
        ("manager", "manager@demo.latch.test", "Morgan Manager"),
        ("staff", "staff@demo.latch.test", "Sam Staff"),
        ("client", "client@demo.latch.test", "Casey Client"),
    ] {
        let password = generated_password();
        let input = PersonInput {
            email: email.into(),
            name: name.into(),
            role: role.into(),
            password: password.clone(),
        };
        latch
            .team
            .add_person(&owner, input, &console_client())
            .await?;
        people.push(DemoPerson {
            role,
            email,
            password,
            enrolled: false,
        });
    }
    let browser = ClientInfo {
        ip: "192.0.2.10".into(),
        user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
                     (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
            .into(),
    };
    if let Some(staff) = people.iter_mut().find(|p| p.role == "staff") {
        staff.enrolled = enrol(latch, staff, &browser).await?;
    }
    // A mistyped password: refused, and in the trail.
    let wrong = Secret::new(String::from("not the client's password"));
    let refused = latch
        .sign_in
        .sign_in(
            "client@demo.latch.test",
            &wrong,
            &browser,
            &BrowserDevices::default(),
        )
        .await;
    if !matches!(refused, Err(AppError::InvalidCredentials)) {
        return Err(AppError::Internal(
            "the demo's wrong password was let in".into(),
        ));
    }
    Ok(Demo {
        practice_name: owner.practice.name,
        people,
    })
}

/// Turns two-factor on for `person` through the steps a person takes; false where the codes
/// go out to real phones (no development outbox), which the demo does not text.
async fn enrol(latch: &Latch, person: &DemoPerson, client: &ClientInfo) -> Result<bool, AppError> {
    if latch.outbox_messages(None, 1).await?.is_none() {
        return Ok(false);
    }
    let devices = BrowserDevices::default();
    let signed_in = latch
        .sign_in
        .sign_in(person.email, &person.password, client, &devices)
        .await?;
    let who = authenticated(latch, &signed_in.token).await?;
    let (token, _) = latch
        .sign_in
        .reauthenticate(&who, &person.password, client)
        .await?;
    let who = authenticated(latch, &token).await?;
    let setup = SetupInput {
        phone: DEMO_PHONE.into(),
        country: Some("US".into()),
        extension: None,
        channel: "sms".into(),
    };
    latch.two_factor.start_setup(&who, setup, client).await?;
    let sent = latch.outbox_messages(Some(DEMO_PHONE), 1).await?;
    let code = sent
        .and_then(|messages| messages.into_iter().next())
        .and_then(|message| message.code)
        .ok_or_else(|| AppError::Internal("the demo's setup code was not in the outbox".into()))?;
    latch
        .two_factor
        .confirm_setup(&who, &code, None, client)
        .await?;
    latch.sign_in.sign_out(&who, client).await?;
    Ok(true)
}

async fn authenticated(
    latch: &Latch,
    token: &Secret,
) -> Result<latch_app::sign_in::Authenticated, AppError> {
    latch
        .sign_in
        .authenticate(token.expose())
        .await?
        .ok_or_else(|| AppError::Internal("the demo's session ended at once".into()))
}
