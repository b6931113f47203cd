//! Who is asking, and what they may do: `ApiUser` objects with a password
//! (HTTP Basic) or a client certificate CN, and their `permissions`.

use base64::Engine as _;
use picket_lang::Value;
use picket_model::Registry;
use picket_pki::tls::Peer;

/// One entry of `permissions`: a pattern such as `objects/query/*`, and
/// optionally a function that restricts the objects it grants.
#[derive(Debug, Clone)]
struct Grant {
    /// As configured, for display.
    shown: String,
    /// Lowercased, for matching.
    pattern: String,
    filter: Option<Value>,
}

/// An authenticated API user.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    grants: Vec<Grant>,
}

/// What a user may do with one permission.
#[derive(Debug, Clone)]
pub enum Access {
    Denied,
    All,
    /// Only objects for which one of these functions returns true.
    Filtered(Vec<Value>),
}

impl Access {
    pub fn allowed(&self) -> bool {
        !matches!(self, Access::Denied)
    }
}

impl User {
    fn from_object(object: &picket_model::ConfigObject) -> User {
        let mut grants = Vec::new();
        if let Some(Value::Array(items)) = object.get("permissions") {
            for item in items.to_vec() {
                match &item {
                    Value::Dict(d) => {
                        let shown = d
                            .get("permission")
                            .map(|p| p.to_display())
                            .unwrap_or_default();
                        grants.push(Grant {
                            pattern: shown.to_lowercase(),
                            shown,
                            filter: d.get("filter").filter(|f| matches!(f, Value::Function(_))),
                        })
                    }
                    other => grants.push(Grant {
                        shown: other.to_display(),
                        pattern: other.to_display().to_lowercase(),
                        filter: None,
                    }),
                }
            }
        }
        User {
            name: object.name(),
            grants,
        }
    }

    /// Icinga's rule: every grant whose pattern matches counts; if any of
    /// them has a filter the access is restricted to the union of those
    /// filters, even when another matching grant has none.
    pub fn access(&self, permission: &str) -> Access {
        let required = permission.to_lowercase();
        let mut found = false;
        let mut filters = Vec::new();
        for g in &self.grants {
            if !picket_lang::wildcard::wildcard_match(&g.pattern, &required) {
                continue;
            }
            found = true;
            if let Some(f) = &g.filter {
                filters.push(f.clone());
            }
        }
        match (found, filters.is_empty()) {
            (false, _) => Access::Denied,
            (true, true) => Access::All,
            (true, false) => Access::Filtered(filters),
        }
    }

    /// The permission patterns, as configured (for the `/v1` page).
    pub fn permission_names(&self) -> Vec<String> {
        self.grants.iter().map(|g| g.shown.clone()).collect()
    }

    pub fn may(&self, permission: &str) -> bool {
        self.access(permission).allowed()
    }
}

/// Constant-time equality, so that response times do not tell how much
/// of a password was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

/// The user of a request: the `ApiUser` whose `client_cn` is the verified
/// certificate's CN, else the one named in HTTP Basic credentials whose
/// password matches. An empty password never matches.
pub fn authenticate(registry: &Registry, peer: &Peer, authorization: Option<&str>) -> Option<User> {
    let users = registry.committed("ApiUser");
    if let Some(cn) = peer.authenticated_cn() {
        if let Some(u) = users.iter().find(|u| u.get_str("client_cn") == cn) {
            return Some(User::from_object(u));
        }
    }
    let encoded = authorization?.trim().strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8_lossy(&decoded);
    let (name, password) = text.split_once(':').unwrap_or((&text, ""));
    let user = users.iter().find(|u| u.name() == name)?;
    let expected = user.get_str("password");
    (!password.is_empty() && same_secret(expected.as_bytes(), password.as_bytes()))
        .then(|| User::from_object(user))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(patterns: &[&str]) -> User {
        User {
            name: "u".into(),
            grants: patterns
                .iter()
                .map(|p| Grant {
                    shown: p.to_string(),
                    pattern: p.to_lowercase(),
                    filter: None,
                })
                .collect(),
        }
    }

    #[test]
    fn patterns_match_case_insensitively_with_wildcards() {
        let u = user(&["objects/query/*", "Actions/Process-Check-Result"]);
        assert!(u.may("objects/query/Host"));
        assert!(u.may("actions/process-check-result"));
        assert!(!u.may("objects/create/Host"));
        assert!(user(&["*"]).may("anything/at/all"));
    }

    #[test]
    fn secrets_compare_by_content_and_length() {
        assert!(same_secret(b"abc", b"abc"));
        assert!(!same_secret(b"abc", b"abd"));
        assert!(!same_secret(b"abc", b"abcd"));
    }
}
