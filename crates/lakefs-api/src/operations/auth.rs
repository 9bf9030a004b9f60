//! The auth operations of lakeFS's API (`/api/v1/auth/…`, tags `auth` and `external` of lakeFS
//! v1.84's `api/swagger.yml`): users, credentials, policies, external principals and
//! `externalPrincipalLogin`.

/// An auth operation with its path parameters (user id, access key id, policy id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthRoute {
    ListUsers,
    CreateUser,
    GetUser(String),
    DeleteUser(String),
    ListUserCredentials(String),
    CreateCredentials(String),
    GetCredentials(String, String),
    DeleteCredentials(String, String),
    ListPolicies,
    CreatePolicy,
    GetPolicy(String),
    DeletePolicy(String),
    ListUserPolicies(String),
    AttachPolicyToUser(String, String),
    DetachPolicyFromUser(String, String),
    CreateUserExternalPrincipal(String),
    DeleteUserExternalPrincipal(String),
    ListUserExternalPrincipals(String),
    GetExternalPrincipal,
    ExternalPrincipalLogin,
}

impl AuthRoute {
    /// The auth operation `method` on the decoded path segments after `/api/v1/`, if any.
    pub fn parse(method: &str, segs: &[&str]) -> Option<AuthRoute> {
        use AuthRoute::*;
        let o = |x: &str| x.to_string();
        Some(match (method, segs) {
            ("GET", ["auth", "users"]) => ListUsers,
            ("POST", ["auth", "users"]) => CreateUser,
            ("GET", ["auth", "users", u]) => GetUser(o(u)),
            ("DELETE", ["auth", "users", u]) => DeleteUser(o(u)),
            ("GET", ["auth", "users", u, "credentials"]) => ListUserCredentials(o(u)),
            ("POST", ["auth", "users", u, "credentials"]) => CreateCredentials(o(u)),
            ("GET", ["auth", "users", u, "credentials", k]) => GetCredentials(o(u), o(k)),
            ("DELETE", ["auth", "users", u, "credentials", k]) => DeleteCredentials(o(u), o(k)),
            ("GET", ["auth", "policies"]) => ListPolicies,
            ("POST", ["auth", "policies"]) => CreatePolicy,
            ("GET", ["auth", "policies", p]) => GetPolicy(o(p)),
            ("DELETE", ["auth", "policies", p]) => DeletePolicy(o(p)),
            ("GET", ["auth", "users", u, "policies"]) => ListUserPolicies(o(u)),
            ("PUT", ["auth", "users", u, "policies", p]) => AttachPolicyToUser(o(u), o(p)),
            ("DELETE", ["auth", "users", u, "policies", p]) => DetachPolicyFromUser(o(u), o(p)),
            ("POST", ["auth", "users", u, "external", "principals"]) => CreateUserExternalPrincipal(o(u)),
            ("DELETE", ["auth", "users", u, "external", "principals"]) => DeleteUserExternalPrincipal(o(u)),
            ("GET", ["auth", "users", u, "external", "principals", "ls"]) => ListUserExternalPrincipals(o(u)),
            ("GET", ["auth", "external", "principals"]) => GetExternalPrincipal,
            ("POST", ["auth", "external", "principal", "login"]) => ExternalPrincipalLogin,
            _ => return None,
        })
    }

    /// Operations lakeFS serves without credentials (`security: []`).
    pub fn is_public(&self) -> bool {
        matches!(self, AuthRoute::ExternalPrincipalLogin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_routes_follow_the_lakefs_spec() {
        let p = |m: &str, path: &str| {
            let segs: Vec<&str> = path.split('/').collect();
            AuthRoute::parse(m, &segs)
        };
        assert_eq!(p("GET", "auth/users"), Some(AuthRoute::ListUsers));
        assert_eq!(p("DELETE", "auth/users/bob"), Some(AuthRoute::DeleteUser("bob".into())));
        assert_eq!(
            p("GET", "auth/users/bob/credentials/AK"),
            Some(AuthRoute::GetCredentials("bob".into(), "AK".into()))
        );
        assert_eq!(
            p("PUT", "auth/users/bob/policies/ro"),
            Some(AuthRoute::AttachPolicyToUser("bob".into(), "ro".into()))
        );
        assert_eq!(
            p("GET", "auth/users/bob/external/principals/ls"),
            Some(AuthRoute::ListUserExternalPrincipals("bob".into()))
        );
        assert_eq!(p("GET", "auth/external/principals"), Some(AuthRoute::GetExternalPrincipal));
        assert_eq!(p("POST", "auth/external/principal/login"), Some(AuthRoute::ExternalPrincipalLogin));
        assert_eq!(p("PUT", "auth/policies/ro"), None);
        assert!(AuthRoute::ExternalPrincipalLogin.is_public() && !AuthRoute::ListUsers.is_public());
    }
}
