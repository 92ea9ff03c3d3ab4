//! Database rows and their conversion into the app's records. Column lists are macros so that
//! queries stay `&'static str` (built with `concat!`).

use latch_app::ids::{PersonId, PracticeId, SessionId};
use latch_app::ports::StoreError;
use latch_app::records::{
    Account, OtherMethods, Person, PhoneTimes, Practice, Session, TwoFactorSetting,
};
use latch_domain::Email;
use latch_domain::Role;
use latch_domain::Timestamp;
use latch_domain::country::Country;
use latch_domain::method::MethodKind;
use latch_domain::phone::PhoneNumber;
use latch_domain::practice::{RequireTwoFactor, SecuritySettings};
use latch_domain::session::{SecondFactor, SessionState};
use latch_domain::two_factor::{Channel, LockState};
use latch_domain::zone::PracticeZone;

macro_rules! practice_columns {
    () => {
        "pr.id as pr_id, pr.name as pr_name, pr.country as pr_country, \
         pr.require_two_factor as pr_require_two_factor, \
         pr.remember_device_days as pr_remember_device_days, \
         pr.sign_out_after_idle_minutes as pr_sign_out_after_idle_minutes, \
         pr.allowed_countries as pr_allowed_countries, \
         pr.daily_send_budget as pr_daily_send_budget, pr.time_zone as pr_time_zone, \
         pr.created_at as pr_created_at, pr.methods_allowed as pr_methods_allowed"
    };
}
macro_rules! person_columns {
    () => {
        "p.id, p.practice_id, p.email, p.name, p.role, p.password_hash, p.two_factor_channel, \
         p.two_factor_phone, p.two_factor_extension, p.code_failures, p.two_factor_locked_until, \
         p.two_factor_locked_for_good, p.last_sign_in_at, p.previous_sign_in_at, p.created_at, \
         p.email_verified, p.deactivated_at, p.preferred_method, p.phone_added_at, p.phone_used_at, \
         exists (select 1 from two_factor_methods m where m.person_id = p.id and m.kind = 'totp') as has_totp, \
         exists (select 1 from two_factor_methods m where m.person_id = p.id and m.kind = 'passkey') as has_passkey"
    };
}
macro_rules! session_columns {
    () => {
        "s.id as s_id, s.person_id as s_person_id, s.state as s_state, s.created_at as s_created_at, \
         s.last_seen_at as s_last_seen_at, s.reauthenticated_until as s_reauthenticated_until, \
         s.pending_until as s_pending_until, s.ip as s_ip, s.label as s_label, \
         s.second_factor as s_second_factor, s.new_browser as s_new_browser"
    };
}
/// A session's person and practice, joined to `sessions s`: where a signed-in request's
/// account comes from, with the person still active (a deactivated person's sessions ended
/// with the deactivation; none stands after).
macro_rules! session_account_joins {
    () => {
        " join people p on p.id = s.person_id join practices pr on pr.id = p.practice_id \
         where p.deactivated_at is null"
    };
}
pub(crate) use {person_columns, practice_columns, session_account_joins, session_columns};

crate::sql::row! {
    pub(crate) struct PracticeRow {
        pr_id: String,
        pr_name: String,
        pr_country: String,
        pr_require_two_factor: String,
        pr_remember_device_days: i64,
        pr_sign_out_after_idle_minutes: i64,
        pr_allowed_countries: String,
        pr_daily_send_budget: i64,
        pr_time_zone: String,
        pr_created_at: i64,
        pr_methods_allowed: String,
    }
}

impl TryFrom<PracticeRow> for Practice {
    type Error = StoreError;

    fn try_from(r: PracticeRow) -> Result<Self, StoreError> {
        let bad =
            |what: &str| StoreError::Other(format!("practice {} has a bad {what}", r.pr_id).into());
        let security = SecuritySettings {
            require_two_factor: RequireTwoFactor::parse(&r.pr_require_two_factor)
                .ok_or_else(|| bad("require_two_factor"))?,
            remember_device_days: u32::try_from(r.pr_remember_device_days)
                .map_err(|_| bad("remember_device_days"))?,
            sign_out_after_idle_minutes: u32::try_from(r.pr_sign_out_after_idle_minutes)
                .map_err(|_| bad("sign_out_after_idle_minutes"))?,
            allowed_countries: SecuritySettings::parse_allowed_countries(&r.pr_allowed_countries),
            daily_send_budget: u32::try_from(r.pr_daily_send_budget)
                .map_err(|_| bad("daily_send_budget"))?,
            time_zone: match r.pr_time_zone.as_str() {
                "" => Country::parse(&r.pr_country)
                    .map(PracticeZone::of_country)
                    .unwrap_or_else(|_| PracticeZone::utc()),
                name => PracticeZone::parse(name).map_err(|_| bad("time_zone"))?,
            },
            methods_allowed: SecuritySettings::parse_methods_allowed(&r.pr_methods_allowed),
        };
        Ok(Practice {
            id: PracticeId::from_stored(r.pr_id),
            name: r.pr_name,
            country: r.pr_country,
            security,
            created_at: Timestamp(r.pr_created_at),
        })
    }
}

crate::sql::row! {
    pub(crate) struct PersonRow {
        id: String,
        practice_id: String,
        email: String,
        name: String,
        role: String,
        password_hash: String,
        two_factor_channel: Option<String>,
        two_factor_phone: Option<String>,
        two_factor_extension: Option<String>,
        code_failures: i64,
        two_factor_locked_until: Option<i64>,
        two_factor_locked_for_good: bool,
        last_sign_in_at: Option<i64>,
        previous_sign_in_at: Option<i64>,
        created_at: i64,
        email_verified: bool,
        deactivated_at: Option<i64>,
        preferred_method: Option<String>,
        phone_added_at: Option<i64>,
        phone_used_at: Option<i64>,
        has_totp: bool,
        has_passkey: bool,
    }
}

impl TryFrom<PersonRow> for Person {
    type Error = StoreError;

    fn try_from(r: PersonRow) -> Result<Self, StoreError> {
        let role = Role::parse(&r.role)
            .map_err(|_| StoreError::Other(format!("person {} has a bad role", r.id).into()))?;
        let two_factor = match (
            r.two_factor_channel.as_deref().and_then(Channel::parse),
            r.two_factor_phone,
        ) {
            (Some(channel), Some(phone)) => Some(TwoFactorSetting {
                channel,
                phone: stored_phone(&phone)?,
                extension: r.two_factor_extension,
            }),
            _ => None,
        };
        Ok(Person {
            id: PersonId::from_stored(r.id),
            practice_id: PracticeId::from_stored(r.practice_id),
            email: Email::from_stored(&r.email),
            name: r.name,
            role,
            password_hash: r.password_hash,
            two_factor,
            code_failures: u32::try_from(r.code_failures).unwrap_or(u32::MAX),
            lock: LockState {
                locked_until: r.two_factor_locked_until,
                locked_for_good: r.two_factor_locked_for_good,
            },
            last_sign_in_at: r.last_sign_in_at.map(Timestamp),
            previous_sign_in_at: r.previous_sign_in_at.map(Timestamp),
            created_at: Timestamp(r.created_at),
            email_verified: r.email_verified,
            deactivated_at: r.deactivated_at.map(Timestamp),
            other_methods: OtherMethods {
                totp: r.has_totp,
                passkey: r.has_passkey,
                preferred: r.preferred_method.as_deref().and_then(MethodKind::parse),
            },
            phone_times: PhoneTimes {
                added_at: r.phone_added_at.map(Timestamp),
                used_at: r.phone_used_at.map(Timestamp),
            },
        })
    }
}

crate::sql::row! {
    pub(crate) struct AccountRow {
        #[flatten]
        person: PersonRow,
        #[flatten]
        practice: PracticeRow,
    }
}

impl TryFrom<AccountRow> for Account {
    type Error = StoreError;

    fn try_from(r: AccountRow) -> Result<Self, StoreError> {
        Ok(Account {
            person: r.person.try_into()?,
            practice: r.practice.try_into()?,
        })
    }
}

crate::sql::row! {
    pub(crate) struct SessionRow {
        s_id: String,
        s_person_id: String,
        s_state: String,
        s_created_at: i64,
        s_last_seen_at: i64,
        s_reauthenticated_until: Option<i64>,
        s_pending_until: Option<i64>,
        s_ip: String,
        s_label: String,
        s_second_factor: Option<String>,
        s_new_browser: bool,
    }
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        let state = SessionState::parse(&r.s_state)
            .ok_or_else(|| StoreError::Other("a session has a bad state".into()))?;
        let second_factor = match r.s_second_factor.as_deref() {
            None => None,
            Some(raw) => Some(
                SecondFactor::parse(raw)
                    .ok_or_else(|| StoreError::Other("a session has a bad second factor".into()))?,
            ),
        };
        Ok(Session {
            id: SessionId::from_stored(r.s_id),
            person_id: PersonId::from_stored(r.s_person_id),
            state,
            created_at: Timestamp(r.s_created_at),
            last_seen_at: Timestamp(r.s_last_seen_at),
            reauthenticated_until: r.s_reauthenticated_until.map(Timestamp),
            pending_until: r.s_pending_until.map(Timestamp),
            ip: r.s_ip,
            label: r.s_label,
            second_factor,
            new_browser: r.s_new_browser,
        })
    }
}

crate::sql::row! {
    pub(crate) struct SessionAccountRow {
        #[flatten]
        pub session: SessionRow,
        #[flatten]
        pub account: AccountRow,
    }
}

/// A phone number the store holds, which latch checked on its way in.
pub(crate) fn stored_phone(e164: &str) -> Result<PhoneNumber, StoreError> {
    PhoneNumber::from_stored(e164)
        .ok_or_else(|| StoreError::Other("a stored phone number is not E.164".into()))
}
