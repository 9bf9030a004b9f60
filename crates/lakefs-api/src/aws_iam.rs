//! The client side of lakeFS's AWS IAM external-principal login (`externalPrincipalLogin`; lakeFS
//! `pkg/authentication/externalidp/awsiam`): a presigned STS `GetCallerIdentity` request (POST,
//! SigV4 in the query, `host` and `X-LakeFS-Server-ID` signed) encoded as the base64 JSON
//! `AWSIdentityTokenInfo` lakeFS expects in `identityRequest.identity_token`.
//!
//! lakeFS (or the embedded server) replays that request against the STS host named in the token
//! and maps the caller's `Arn` to a lakeFS user. lakegate signs these tokens for its gateway keys
//! (addressed to its own STS endpoint) and, for its own identity, with AWS credentials.

use super::auth_dto::AwsIdentityTokenInfo;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
use aws_sigv4::sign::v4;
use base64::Engine;
use std::time::{Duration, SystemTime};

/// The header binding an identity token to one lakeFS server.
pub const SERVER_ID_HEADER: &str = "x-lakefs-server-id";
/// How long a signed identity token stays good (lakeFS's default maximum age is 15 minutes).
pub const TOKEN_VALIDITY: Duration = Duration::from_secs(15 * 60);

/// Who signs, for which STS host and which lakeFS server.
#[derive(Clone)]
pub struct IdentitySigner<'a> {
    /// The STS `host[:port]` lakeFS will send the request to.
    pub sts_host: &'a str,
    pub region: &'a str,
    /// The `X-LakeFS-Server-ID` value lakeFS requires.
    pub server_id: &'a str,
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot sign the identity token: {0}")]
pub struct SignError(String);

impl IdentitySigner<'_> {
    /// lakeFS's `identityRequest`: `{"identity_token": base64(JSON AWSIdentityTokenInfo)}`.
    pub fn identity_request(&self, now: SystemTime) -> Result<serde_json::Map<String, serde_json::Value>, SignError> {
        let info = self.token_info(now)?;
        let json = serde_json::to_vec(&info).map_err(|e| SignError(e.to_string()))?;
        let mut map = serde_json::Map::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode(json);
        map.insert("identity_token".into(), serde_json::Value::String(encoded));
        Ok(map)
    }

    /// The parts of the presigned `GetCallerIdentity` request.
    pub fn token_info(&self, now: SystemTime) -> Result<AwsIdentityTokenInfo, SignError> {
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id,
            self.secret_access_key,
            self.session_token.map(str::to_string),
            None,
            "lakegate",
        )
        .into();
        let mut settings = SigningSettings::default();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(TOKEN_VALIDITY);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name("sts")
            .time(now)
            .settings(settings)
            .build()
            .map_err(|e| SignError(e.to_string()))?
            .into();
        let url = format!("http://{}/?Action=GetCallerIdentity&Version=2011-06-15", self.sts_host);
        let headers = [("host", self.sts_host), (SERVER_ID_HEADER, self.server_id)];
        let signable = SignableRequest::new("POST", &url, headers.into_iter(), SignableBody::Bytes(b""))
            .map_err(|e| SignError(e.to_string()))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| SignError(e.to_string()))?.into_parts();
        let (_, query) = instructions.into_parts();
        let get = |name: &str| query.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string()).unwrap_or_default();
        Ok(AwsIdentityTokenInfo {
            method: "POST".into(),
            host: self.sts_host.into(),
            region: self.region.into(),
            action: "GetCallerIdentity".into(),
            date: get("X-Amz-Date"),
            expiration_duration: get("X-Amz-Expires"),
            access_key_id: self.access_key_id.into(),
            signature: get("X-Amz-Signature"),
            signed_headers: get("X-Amz-SignedHeaders").split(';').map(str::to_string).collect(),
            version: "2011-06-15".into(),
            algorithm: get("X-Amz-Algorithm"),
            security_token: self.session_token.unwrap_or_default().into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_carry_the_presigned_request_lakefs_replays() {
        let signer = IdentitySigner {
            sts_host: "127.0.0.1:9000",
            region: "us-east-1",
            server_id: "lakefs.example.com",
            access_key_id: "LGAK",
            secret_access_key: "secret-0123456789",
            session_token: None,
        };
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let t = signer.token_info(now).unwrap();
        assert_eq!(t.date, "20231114T221320Z");
        assert_eq!(t.expiration_duration, "900");
        assert_eq!(t.signed_headers, ["host", "x-lakefs-server-id"]);
        assert_eq!(t.algorithm, "AWS4-HMAC-SHA256");
        assert_eq!(t.signature.len(), 64);
        let other = IdentitySigner { server_id: "other", ..signer.clone() }.token_info(now).unwrap();
        assert_ne!(t.signature, other.signature, "the server id is signed");
        let req = signer.identity_request(now).unwrap();
        let raw = base64::engine::general_purpose::STANDARD.decode(req["identity_token"].as_str().unwrap()).unwrap();
        assert_eq!(serde_json::from_slice::<AwsIdentityTokenInfo>(&raw).unwrap(), t);
    }
}
