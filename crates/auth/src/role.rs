//! What a token may do: its [`Role`] (the first field of an auth-file line) and
//! the [`Permission`] a route asks for. Plain data; no parsing of files here.

use std::fmt;
use std::str::FromStr;

/// What one route needs: writing signals or reading them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Write any signal: OTLP, Zipkin, remote_write, Pyroscope pushes.
    Ingest,
    /// Read: the query APIs and the UI.
    Read,
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Permission::Ingest => "ingest",
            Permission::Read => "read",
        })
    }
}

/// The role of a token, as written in the auth file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// May write signals, nothing else (agents, SDKs, Prometheus remote_write).
    Ingest,
    /// May use the APIs and the UI, nothing else (Grafana, people).
    Read,
    /// Both.
    Admin,
}

impl Role {
    /// Every role, in the order the auth file documents them.
    pub const ALL: [Role; 3] = [Role::Ingest, Role::Read, Role::Admin];

    /// The role's name in the auth file.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Read => "read",
            Role::Admin => "admin",
        }
    }

    /// Whether a token of this role may do what `permission` guards.
    pub fn allows(self, permission: Permission) -> bool {
        matches!(
            (self, permission),
            (Role::Admin, _) | (Role::Ingest, Permission::Ingest) | (Role::Read, Permission::Read)
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not `ingest`, `read` or `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownRole;

impl FromStr for Role {
    type Err = UnknownRole;

    /// Exact, lower-case names only, as the auth file is written by `whyslow auth hash`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or(UnknownRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_allows_exactly_its_permissions() {
        assert!(Role::Ingest.allows(Permission::Ingest));
        assert!(!Role::Ingest.allows(Permission::Read));
        assert!(Role::Read.allows(Permission::Read));
        assert!(!Role::Read.allows(Permission::Ingest));
        assert!(Role::Admin.allows(Permission::Ingest));
        assert!(Role::Admin.allows(Permission::Read));
    }

    #[test]
    fn roles_parse_from_their_names_only() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse(), Ok(role));
        }
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole));
        assert_eq!("write".parse::<Role>(), Err(UnknownRole));
        assert_eq!("".parse::<Role>(), Err(UnknownRole));
    }
}
