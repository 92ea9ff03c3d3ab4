//! Roles in a practice and what each may do, decided by one explicit match.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Owner,
    Manager,
    Staff,
    Client,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a role")]
pub struct InvalidRole;

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Manager, Role::Staff, Role::Client];

    pub fn parse(raw: &str) -> Result<Self, InvalidRole> {
        match raw {
            "owner" => Ok(Role::Owner),
            "manager" => Ok(Role::Manager),
            "staff" => Ok(Role::Staff),
            "client" => Ok(Role::Client),
            _ => Err(InvalidRole),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Manager => "manager",
            Role::Staff => "staff",
            Role::Client => "client",
        }
    }

    /// The word people see on pages.
    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Manager => "Manager",
            Role::Staff => "Staff",
            Role::Client => "Client",
        }
    }

    /// "Staff" in the practice's rule means everyone who works there: owners, managers, staff.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Client)
    }

    /// Whether this role may do `permission`. Acting on a particular person additionally needs
    /// both to be in one practice, which the use case checks by looking them up in it.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match (self, permission) {
            (Owner, ViewTeam | ViewAudit | ManageSecurity) => true,
            (Manager, ViewTeam | ViewAudit | ManageSecurity) => true,
            (Staff | Client, ViewTeam | ViewAudit | ManageSecurity) => false,

            (Owner, AddPerson { .. }) => true,
            (
                Manager,
                AddPerson {
                    role: Staff | Client,
                },
            ) => true,
            (
                Manager,
                AddPerson {
                    role: Owner | Manager,
                },
            ) => false,
            (Staff | Client, AddPerson { .. }) => false,

            (Owner, ActOnPerson { .. }) => true,
            (Manager, ActOnPerson { target: Owner }) => false,
            (Manager, ActOnPerson { .. }) => true,
            (Staff | Client, ActOnPerson { .. }) => false,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a role may or may not do in its practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the Team page and each person's security state.
    ViewTeam,
    /// Read the practice's security audit trail.
    ViewAudit,
    /// Change the practice's security settings.
    ManageSecurity,
    /// Add a person with this role.
    AddPerson { role: Role },
    /// Reset or unlock the two-factor step of a person with this role.
    ActOnPerson { target: Role },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_owners_add_owners_or_managers() {
        for role in [Role::Owner, Role::Manager] {
            assert!(Role::Owner.allows(Permission::AddPerson { role }));
            assert!(!Role::Manager.allows(Permission::AddPerson { role }));
        }
    }

    #[test]
    fn owners_and_managers_add_staff_and_clients() {
        for actor in [Role::Owner, Role::Manager] {
            for role in [Role::Staff, Role::Client] {
                assert!(actor.allows(Permission::AddPerson { role }));
            }
        }
    }

    #[test]
    fn staff_and_clients_administer_nothing() {
        for actor in [Role::Staff, Role::Client] {
            assert!(!actor.allows(Permission::ViewTeam));
            assert!(!actor.allows(Permission::ViewAudit));
            assert!(!actor.allows(Permission::ManageSecurity));
            for role in Role::ALL {
                assert!(!actor.allows(Permission::AddPerson { role }));
                assert!(!actor.allows(Permission::ActOnPerson { target: role }));
            }
        }
    }

    #[test]
    fn a_manager_cannot_act_on_an_owner() {
        assert!(!Role::Manager.allows(Permission::ActOnPerson {
            target: Role::Owner
        }));
        assert!(Role::Manager.allows(Permission::ActOnPerson {
            target: Role::Manager
        }));
        assert!(Role::Owner.allows(Permission::ActOnPerson {
            target: Role::Owner
        }));
    }

    #[test]
    fn roles_round_trip_through_their_names() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(Role::parse("admin"), Err(InvalidRole));
        assert_eq!(Role::parse("Owner"), Err(InvalidRole));
    }

    #[test]
    fn the_staff_rule_covers_everyone_but_clients() {
        assert!(Role::Owner.is_staff() && Role::Manager.is_staff() && Role::Staff.is_staff());
        assert!(!Role::Client.is_staff());
    }
}
