//! Wire types of lakeFS's auth API (`api/swagger.yml`, lakeFS v1.84, tags `auth` and `external`):
//! users, credentials, policies and external principals, named as lakeFS names them.
//!
//! Shared, like [`super::dto`], by the typed client and the embedded server. Optional fields are
//! skipped when absent, as lakeFS's Go server omits them.

use super::dto::{Pagination, User};
use serde::{Deserialize, Serialize};

/// `UserCreation`: body of `createUser`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserCreation {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_user: Option<bool>,
}

/// `UserList`: answer of `listUsers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserList {
    pub pagination: Pagination,
    pub results: Vec<User>,
}

/// `Credentials`: an access key without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    pub access_key_id: String,
    pub creation_date: i64,
}

/// `CredentialsList`: answer of `listUserCredentials`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsList {
    pub pagination: Pagination,
    pub results: Vec<Credentials>,
}

/// `CredentialsWithSecret`: answer of `createCredentials`, the only time a secret is returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CredentialsWithSecret {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub creation_date: i64,
}

/// `Statement`: one rule of a policy: `effect` (`allow`/`deny`) of `action`s on a `resource`
/// pattern (`*` wildcards).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    pub effect: String,
    pub resource: String,
    pub action: Vec<String>,
    /// `PolicyCondition`s by operator; the embedded server accepts none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<serde_json::Map<String, serde_json::Value>>,
}

/// `Policy`: body of `createPolicy` and answer of `getPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_date: Option<i64>,
    pub statement: Vec<Statement>,
}

/// `PolicyList`: answer of `listPolicies` and `listUserPolicies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyList {
    pub pagination: Pagination,
    pub results: Vec<Policy>,
}

/// `ExternalPrincipal`: an external identity (e.g. an AWS IAM role ARN) bound to a lakeFS user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPrincipal {
    pub id: String,
    pub user_id: String,
}

/// `ExternalPrincipalList`: answer of `listUserExternalPrincipals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPrincipalList {
    pub pagination: Pagination,
    pub results: Vec<ExternalPrincipal>,
}

/// `ExternalPrincipalCreation`: optional body of `createUserExternalPrincipal` (its `settings` are
/// for a remote authenticator; lakeFS keeps only the id and the user).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalPrincipalCreation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settings: Option<serde_json::Value>,
}

/// `ExternalLoginInformation`: body of `externalPrincipalLogin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLoginInformation {
    /// For AWS IAM: `{"identity_token": base64(JSON AWSIdentityTokenInfo)}`.
    #[serde(rename = "identityRequest")]
    pub identity_request: serde_json::Map<String, serde_json::Value>,
    /// Requested token lifetime in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration_duration: Option<i64>,
}

/// `StsAuthRequest`: body of `stsLogin` (`POST /sts/login`), an OIDC authorization code to
/// exchange for a lakeFS token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsAuthRequest {
    pub code: String,
    pub state: String,
    pub redirect_uri: String,
    /// Lifetime of the token (lakeFS: default 3600, at most 12 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_seconds: Option<i64>,
    /// lakegate's extension (not in lakeFS's spec, which ignores unknown fields): the PKCE
    /// `code_verifier` the code was requested with, sent along with the code to the token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_verifier: Option<String>,
}

impl std::fmt::Debug for StsAuthRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StsAuthRequest")
            .field("redirect_uri", &self.redirect_uri)
            .field("ttl_seconds", &self.ttl_seconds)
            .finish_non_exhaustive()
    }
}

/// lakeFS's `AWSIdentityTokenInfo` (`pkg/authentication/externalidp/awsiam`): the parts of a
/// presigned STS `GetCallerIdentity` URL, base64-encoded as the `identity_token`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AwsIdentityTokenInfo {
    pub method: String,
    pub host: String,
    pub region: String,
    pub action: String,
    pub date: String,
    pub expiration_duration: String,
    pub access_key_id: String,
    pub signature: String,
    pub signed_headers: Vec<String>,
    pub version: String,
    pub algorithm: String,
    #[serde(default)]
    pub security_token: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_information_uses_lakefs_field_names() {
        let raw = r#"{"identityRequest":{"identity_token":"abc"},"token_expiration_duration":60}"#;
        let info: ExternalLoginInformation = serde_json::from_str(raw).unwrap();
        assert_eq!(info.identity_request["identity_token"], "abc");
        assert_eq!(info.token_expiration_duration, Some(60));
        assert_eq!(serde_json::to_string(&info).unwrap(), raw);
    }

    #[test]
    fn statements_round_trip_without_condition() {
        let raw = r#"{"id":"p","statement":[{"effect":"allow","resource":"*","action":["fs:*"]}]}"#;
        let p: Policy = serde_json::from_str(raw).unwrap();
        assert_eq!(p.statement[0].action, vec!["fs:*"]);
        assert_eq!(serde_json::to_string(&p).unwrap(), raw);
    }
}
