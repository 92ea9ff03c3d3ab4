//! The kinds of security event the audit trail records.

/// A dotted event name from the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    PasswordReentryFailed,
    SignedOut,
    SessionEnded,
    PasswordChanged,
    PersonAdded,
    PracticeCreated,
    CodeSent,
    CodeDeliveryFailed,
    CodeVerified,
    CodeWrong,
    TwoFactorLocked,
    TwoFactorEnabled,
    TwoFactorChanged,
    TwoFactorDisabled,
    DeviceRemembered,
    DeviceForgotten,
    DeviceEnded,
    SecurityChanged,
    TwoFactorReset,
    TwoFactorUnlocked,
    SendBudgetReached,
    DeliveryStatus,
    AppSignedIn,
    AppCodeReused,
    AppRefreshReused,
    AppSignedOut,
    InvitationSent,
    InvitationAccepted,
    InvitationRevoked,
    PasswordResetRequested,
    PasswordReset,
    EmailChanged,
    PersonChanged,
    PersonDeactivated,
    PersonReactivated,
    MethodAdded,
    MethodRemoved,
    RecoveryCodesCreated,
    RecoveryCodeUsed,
}

impl AuditKind {
    pub const ALL: [AuditKind; 41] = [
        AuditKind::SignInSucceeded,
        AuditKind::SignInFailed,
        AuditKind::PasswordReentryFailed,
        AuditKind::SignedOut,
        AuditKind::SessionEnded,
        AuditKind::PasswordChanged,
        AuditKind::PersonAdded,
        AuditKind::PracticeCreated,
        AuditKind::CodeSent,
        AuditKind::CodeDeliveryFailed,
        AuditKind::CodeVerified,
        AuditKind::CodeWrong,
        AuditKind::TwoFactorLocked,
        AuditKind::TwoFactorEnabled,
        AuditKind::TwoFactorChanged,
        AuditKind::TwoFactorDisabled,
        AuditKind::DeviceRemembered,
        AuditKind::DeviceForgotten,
        AuditKind::DeviceEnded,
        AuditKind::SecurityChanged,
        AuditKind::TwoFactorReset,
        AuditKind::TwoFactorUnlocked,
        AuditKind::SendBudgetReached,
        AuditKind::DeliveryStatus,
        AuditKind::AppSignedIn,
        AuditKind::AppCodeReused,
        AuditKind::AppRefreshReused,
        AuditKind::AppSignedOut,
        AuditKind::InvitationSent,
        AuditKind::InvitationAccepted,
        AuditKind::InvitationRevoked,
        AuditKind::PasswordResetRequested,
        AuditKind::PasswordReset,
        AuditKind::EmailChanged,
        AuditKind::PersonChanged,
        AuditKind::PersonDeactivated,
        AuditKind::PersonReactivated,
        AuditKind::MethodAdded,
        AuditKind::MethodRemoved,
        AuditKind::RecoveryCodesCreated,
        AuditKind::RecoveryCodeUsed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::SignInSucceeded => "sign_in.succeeded",
            AuditKind::SignInFailed => "sign_in.failed",
            AuditKind::PasswordReentryFailed => "password.reentry_failed",
            AuditKind::SignedOut => "session.signed_out",
            AuditKind::SessionEnded => "session.ended",
            AuditKind::PasswordChanged => "password.changed",
            AuditKind::PersonAdded => "person.added",
            AuditKind::PracticeCreated => "practice.created",
            AuditKind::CodeSent => "code.sent",
            AuditKind::CodeDeliveryFailed => "code.delivery_failed",
            AuditKind::CodeVerified => "code.verified",
            AuditKind::CodeWrong => "code.wrong",
            AuditKind::TwoFactorLocked => "two_factor.locked",
            AuditKind::TwoFactorEnabled => "two_factor.enabled",
            AuditKind::TwoFactorChanged => "two_factor.changed",
            AuditKind::TwoFactorDisabled => "two_factor.disabled",
            AuditKind::DeviceRemembered => "device.remembered",
            AuditKind::DeviceForgotten => "device.forgotten",
            AuditKind::DeviceEnded => "device.ended",
            AuditKind::SecurityChanged => "practice.security_changed",
            AuditKind::TwoFactorReset => "two_factor.reset",
            AuditKind::TwoFactorUnlocked => "two_factor.unlocked",
            AuditKind::SendBudgetReached => "practice.send_budget_reached",
            AuditKind::DeliveryStatus => "delivery.status",
            AuditKind::AppSignedIn => "app.signed_in",
            AuditKind::AppCodeReused => "app.code_reused",
            AuditKind::AppRefreshReused => "app.refresh_reused",
            AuditKind::AppSignedOut => "app.signed_out",
            AuditKind::InvitationSent => "invitation.sent",
            AuditKind::InvitationAccepted => "invitation.accepted",
            AuditKind::InvitationRevoked => "invitation.revoked",
            AuditKind::PasswordResetRequested => "password.reset_requested",
            AuditKind::PasswordReset => "password.reset",
            AuditKind::EmailChanged => "email.changed",
            AuditKind::PersonChanged => "person.changed",
            AuditKind::PersonDeactivated => "person.deactivated",
            AuditKind::PersonReactivated => "person.reactivated",
            AuditKind::MethodAdded => "two_factor.method_added",
            AuditKind::MethodRemoved => "two_factor.method_removed",
            AuditKind::RecoveryCodesCreated => "recovery_codes.created",
            AuditKind::RecoveryCodeUsed => "recovery_code.used",
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
