//! The sets of words the API takes and gives (roles, methods, states, countries, audit kinds),
//! as schemas for the OpenAPI document, each made from the domain's own list so the document
//! cannot drift from what the server accepts.

use latch_domain::audit::AuditKind;
use latch_domain::country::Country;
use latch_domain::method::MethodKind;
use latch_domain::practice::RequireTwoFactor;
use latch_domain::{Role, session::SessionState};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

fn words<'a>(description: &str, values: impl IntoIterator<Item = &'a str>) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(description))
        .enum_values(Some(values.into_iter().map(str::to_owned)))
        .into()
}

macro_rules! word_set {
    ($(#[$doc:meta])* $name:ident, $description:literal, $values:expr) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                words($description, $values)
            }
        }

        impl ToSchema for $name {}
    };
}

word_set!(
    /// A role in a practice.
    RoleName,
    "A role in a practice.",
    Role::ALL.map(Role::as_str)
);
word_set!(
    /// How a code reaches a phone.
    ChannelName,
    "How a code reaches the phone: a text message or a voice call.",
    ["sms", "voice"]
);
word_set!(
    /// A two-factor method a person may hold.
    MethodKindName,
    "A two-factor method: a passkey, an authenticator app (totp), texted codes (sms) or called codes (voice).",
    MethodKind::ALL.map(MethodKind::as_str)
);
word_set!(
    /// What a second step may be answered with.
    AnswerName,
    "What a second step may be answered with: a method, or a recovery code.",
    ["passkey", "totp", "sms", "voice", "recovery_code"]
);
word_set!(
    /// The practice's rule.
    RequireTwoFactorName,
    "Who must use two-factor: no one, staff (owners, managers and staff), or staff and clients.",
    RequireTwoFactor::ALL.map(RequireTwoFactor::as_str)
);
word_set!(
    /// Where a sign-in stands.
    SessionStateName,
    "Where the sign-in stands.",
    SessionState::ALL.map(SessionState::as_str)
);
word_set!(
    /// A person's two-factor step.
    PersonStatusName,
    "Whether the person was deactivated, or their two-factor step is locked, for a while or until someone unlocks it.",
    ["active", "locked", "locked_until_unlocked", "deactivated"]
);
word_set!(
    /// Whether two-factor is on, as a filter.
    OnOff,
    "Only people with two-factor on, or off.",
    ["on", "off"]
);
word_set!(
    /// An ISO 3166-1 alpha-2 country code latch knows.
    CountryCode,
    "An ISO 3166-1 alpha-2 country code.",
    Country::all().map(Country::code)
);
word_set!(
    /// A field of a request body that a refusal names.
    FieldName,
    "The field of the request's body that was refused.",
    latch_app::Field::ALL.map(latch_app::Field::name).into_iter().chain(
        crate::http::error::PLACES
            .iter()
            .flat_map(|places| places.iter().map(|(_, name)| *name))
    )
);
word_set!(
    /// A kind of audit event.
    AuditKindName,
    "A kind of security event.",
    AuditKind::ALL.map(AuditKind::as_str)
);
