//! The kinds of security event the audit trail records.

/// A dotted event name from the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    SignedOut,
    SessionEnded,
    PasswordChanged,
    PersonAdded,
    PracticeCreated,
}

impl AuditKind {
    pub const ALL: [AuditKind; 7] = [
        AuditKind::SignInSucceeded,
        AuditKind::SignInFailed,
        AuditKind::SignedOut,
        AuditKind::SessionEnded,
        AuditKind::PasswordChanged,
        AuditKind::PersonAdded,
        AuditKind::PracticeCreated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignInSucceeded => "sign_in.succeeded",
            AuditKind::SignInFailed => "sign_in.failed",
            AuditKind::SignedOut => "session.signed_out",
            AuditKind::SessionEnded => "session.ended",
            AuditKind::PasswordChanged => "password.changed",
            AuditKind::PersonAdded => "person.added",
            AuditKind::PracticeCreated => "practice.created",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for kind in AuditKind::ALL {
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuditKind::parse("nope"), None);
    }
}
