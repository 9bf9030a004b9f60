//! Authorization of the embedded server, after lakeFS's RBAC policy engine (lakeFS
//! "Role-Based Access Control" docs, `pkg/permissions`, `pkg/auth` `Authorize`): a caller's
//! policies are statements of `effect` × `action`s × `resource` pattern; a request needs a set of
//! (action, resource ARN) permissions; for each, a matching `deny` wins over a matching `allow`,
//! and nothing matching means denied.
//!
//! lakeFS answers a denied request with **401** and its `Error` body (`authorize` in
//! `pkg/api/controller.go` writes `http.StatusUnauthorized` when the auth service reports an
//! authorization error such as "insufficient permissions").

use super::error::{ApiError, ApiResult};
use lakefs_api::auth_dto::Statement;

/// lakeFS's action names (`pkg/permissions/actions.go`), the subset the embedded server checks.
pub mod action {
    pub const READ_REPOSITORY: &str = "fs:ReadRepository";
    pub const CREATE_REPOSITORY: &str = "fs:CreateRepository";
    pub const DELETE_REPOSITORY: &str = "fs:DeleteRepository";
    pub const LIST_REPOSITORIES: &str = "fs:ListRepositories";
    pub const ATTACH_STORAGE_NAMESPACE: &str = "fs:AttachStorageNamespace";
    pub const READ_OBJECT: &str = "fs:ReadObject";
    pub const WRITE_OBJECT: &str = "fs:WriteObject";
    pub const DELETE_OBJECT: &str = "fs:DeleteObject";
    pub const LIST_OBJECTS: &str = "fs:ListObjects";
    pub const READ_BRANCH: &str = "fs:ReadBranch";
    pub const CREATE_BRANCH: &str = "fs:CreateBranch";
    pub const DELETE_BRANCH: &str = "fs:DeleteBranch";
    pub const LIST_BRANCHES: &str = "fs:ListBranches";
    pub const CREATE_COMMIT: &str = "fs:CreateCommit";
    pub const READ_COMMIT: &str = "fs:ReadCommit";
    pub const LIST_COMMITS: &str = "fs:ListCommits";
    pub const READ_CONFIG: &str = "fs:ReadConfig";
    pub const CREATE_TAG: &str = "fs:CreateTag";
    pub const DELETE_TAG: &str = "fs:DeleteTag";
    pub const READ_TAG: &str = "fs:ReadTag";
    pub const LIST_TAGS: &str = "fs:ListTags";
    pub const REVERT_BRANCH: &str = "fs:RevertBranch";
    pub const IMPORT_FROM_STORAGE: &str = "fs:ImportFromStorage";
    pub const IMPORT_CANCEL: &str = "fs:ImportCancel";
    pub const READ_PULL_REQUEST: &str = "pr:ReadPullRequest";
    pub const WRITE_PULL_REQUEST: &str = "pr:WritePullRequest";
    pub const LIST_PULL_REQUESTS: &str = "pr:ListPullRequests";
    pub const READ_USER: &str = "auth:ReadUser";
    pub const CREATE_USER: &str = "auth:CreateUser";
    pub const DELETE_USER: &str = "auth:DeleteUser";
    pub const LIST_USERS: &str = "auth:ListUsers";
    pub const READ_POLICY: &str = "auth:ReadPolicy";
    pub const CREATE_POLICY: &str = "auth:CreatePolicy";
    pub const DELETE_POLICY: &str = "auth:DeletePolicy";
    pub const LIST_POLICIES: &str = "auth:ListPolicies";
    pub const ATTACH_POLICY: &str = "auth:AttachPolicy";
    pub const DETACH_POLICY: &str = "auth:DetachPolicy";
    pub const READ_CREDENTIALS: &str = "auth:ReadCredentials";
    pub const CREATE_CREDENTIALS: &str = "auth:CreateCredentials";
    pub const DELETE_CREDENTIALS: &str = "auth:DeleteCredentials";
    pub const LIST_CREDENTIALS: &str = "auth:ListCredentials";
    pub const CREATE_EXTERNAL_PRINCIPAL: &str = "auth:CreateUserExternalPrincipal";
    pub const DELETE_EXTERNAL_PRINCIPAL: &str = "auth:DeleteUserExternalPrincipal";
    pub const READ_EXTERNAL_PRINCIPAL: &str = "auth:ReadExternalPrincipal";
}

/// lakeFS's resource ARNs (`pkg/permissions/arn.go`).
pub mod arn {
    /// Any resource.
    pub const ALL: &str = "*";

    pub fn repo(repo: &str) -> String {
        format!("arn:lakefs:fs:::repository/{repo}")
    }
    pub fn object(repo: &str, path: &str) -> String {
        format!("arn:lakefs:fs:::repository/{repo}/object/{path}")
    }
    pub fn branch(repo: &str, branch: &str) -> String {
        format!("arn:lakefs:fs:::repository/{repo}/branch/{branch}")
    }
    pub fn tag(repo: &str, tag: &str) -> String {
        format!("arn:lakefs:fs:::repository/{repo}/tag/{tag}")
    }
    pub fn namespace(ns: &str) -> String {
        format!("arn:lakefs:fs:::namespace/{ns}")
    }
    pub fn user(user: &str) -> String {
        format!("arn:lakefs:auth:::user/{user}")
    }
    pub fn policy(policy: &str) -> String {
        format!("arn:lakefs:auth:::policy/{policy}")
    }
    pub fn external_principal(id: &str) -> String {
        format!("arn:lakefs:auth:::externalPrincipal/{id}")
    }
}

/// One thing a request needs to be allowed to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    pub action: &'static str,
    pub resource: String,
}

impl Permission {
    pub fn new(action: &'static str, resource: impl Into<String>) -> Permission {
        Permission { action, resource: resource.into() }
    }
}

/// Whether `value` matches `pattern`, where `*` matches any run of characters (also none) and `?`
/// exactly one, as lakeFS's `wildcard.Match`.
pub fn wildcard_match(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was and which value position it is matched up to.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The authenticated user of a request and the statements of its policies.
#[derive(Debug, Clone, Default)]
pub struct Caller {
    /// The user id; empty for the unauthenticated operations (`login`, `healthCheck`, …).
    pub user: String,
    statements: Vec<Statement>,
}

/// What the statements say about one permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allow,
    Deny,
    Neutral,
}

impl Caller {
    pub fn new(user: String, statements: Vec<Statement>) -> Caller {
        Caller { user, statements }
    }

    fn verdict(&self, perm: &Permission) -> Verdict {
        let mut verdict = Verdict::Neutral;
        for st in &self.statements {
            let resource = st.resource.replace("${user}", &self.user);
            let hit =
                wildcard_match(&resource, &perm.resource) && st.action.iter().any(|a| wildcard_match(a, perm.action));
            match (hit, st.effect.as_str()) {
                (true, "deny") => return Verdict::Deny,
                (true, "allow") => verdict = Verdict::Allow,
                _ => {}
            }
        }
        verdict
    }

    /// Whether every permission in `perms` is allowed (and none denied).
    pub fn allowed(&self, perms: &[Permission]) -> bool {
        perms.iter().all(|p| self.verdict(p) == Verdict::Allow)
    }

    /// Whether some statement allows `action` on any resource, as lakeFS's
    /// `auth.HasActionOnAnyResource` (`pkg/auth/policy_filter.go`): the gate of `listRepositories`.
    pub fn has_action_on_any_resource(&self, action: &str) -> bool {
        self.statements.iter().any(|st| st.effect == "allow" && st.action.iter().any(|a| wildcard_match(a, action)))
    }

    /// lakeFS's denial (401 "insufficient permissions") unless every permission is allowed.
    pub fn require(&self, perms: &[Permission]) -> ApiResult<()> {
        match perms.iter().find(|p| self.verdict(p) != Verdict::Allow) {
            None => Ok(()),
            Some(p) => {
                tracing::debug!(user = %self.user, action = p.action, resource = %p.resource, "permission denied");
                Err(ApiError::Unauthorized("insufficient permissions".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(effect: &str, actions: &[&str], resource: &str) -> Statement {
        Statement {
            effect: effect.into(),
            resource: resource.into(),
            action: actions.iter().map(|a| a.to_string()).collect(),
            condition: None,
        }
    }

    #[test]
    fn wildcards_match_like_lakefs() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("fs:*", "fs:ReadObject"));
        assert!(!wildcard_match("fs:*", "auth:ReadUser"));
        assert!(wildcard_match("fs:Read*", "fs:ReadObject"));
        assert!(wildcard_match("arn:lakefs:fs:::repository/r/object/*", "arn:lakefs:fs:::repository/r/object/a/b"));
        assert!(!wildcard_match("arn:lakefs:fs:::repository/r/object/*", "arn:lakefs:fs:::repository/r2/object/a"));
        assert!(!wildcard_match("arn:lakefs:fs:::repository/r", "arn:lakefs:fs:::repository/r/object/a"));
        assert!(wildcard_match("a*b*c", "axxbyyc"));
        assert!(!wildcard_match("a*b*c", "axxbyy"));
        assert!(wildcard_match("a?c", "abc"));
        assert!(!wildcard_match("a?c", "ac"));
        assert!(wildcard_match("**", "anything"));
    }

    #[test]
    fn deny_wins_and_nothing_means_denied() {
        let read = Permission::new(action::READ_OBJECT, arn::object("r", "a"));
        let write = Permission::new(action::WRITE_OBJECT, arn::object("r", "a"));
        let c = Caller::new(
            "u".into(),
            vec![st("allow", &["fs:*"], "*"), st("deny", &["fs:WriteObject"], "arn:lakefs:fs:::repository/r/*")],
        );
        assert!(c.allowed(std::slice::from_ref(&read)));
        assert!(!c.allowed(std::slice::from_ref(&write)));
        assert!(matches!(c.require(&[read.clone(), write]), Err(ApiError::Unauthorized(_))));
        assert!(!Caller::new("u".into(), vec![]).allowed(std::slice::from_ref(&read)));
        assert!(Caller::default().require(&[]).is_ok());
    }

    #[test]
    fn user_variable_is_the_caller() {
        let c = Caller::new("bob".into(), vec![st("allow", &["auth:*Credentials"], "arn:lakefs:auth:::user/${user}")]);
        assert!(c.allowed(&[Permission::new(action::CREATE_CREDENTIALS, arn::user("bob"))]));
        assert!(!c.allowed(&[Permission::new(action::CREATE_CREDENTIALS, arn::user("alice"))]));
    }
}
