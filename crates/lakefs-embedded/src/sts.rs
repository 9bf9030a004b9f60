//! Verification of `externalPrincipalLogin`'s AWS IAM identity (lakeFS `externalPrincipalLogin`,
//! `api/swagger.yml`; client side in lakeFS `pkg/authentication/externalidp/awsiam`): the
//! `identityRequest` is `{"identity_token": base64(JSON AWSIdentityTokenInfo)}`, the parts of an STS
//! `GetCallerIdentity` URL the caller presigned with its AWS credentials, `host` and
//! `X-LakeFS-Server-ID` among the signed headers.
//!
//! As lakeFS Enterprise's verifier does, the server rebuilds that presigned request, adds the
//! `X-LakeFS-Server-ID` value it requires (so a token signed for another server fails at STS),
//! sends it to the STS host (only hosts on the configured allow-list, plain `http://`), and takes
//! the caller's `Arn` from the answer. The signature is never checked here: the STS host does that.

use super::error::{ApiError, ApiResult};
use super::http::QUERY_VALUE;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use lakefs_api::auth_dto::AwsIdentityTokenInfo;
use percent_encoding::utf8_percent_encode;
use std::time::{Duration, SystemTime};

/// The header that binds an identity token to one lakeFS server.
pub const SERVER_ID_HEADER: &str = "X-LakeFS-Server-ID";
/// lakeFS Enterprise's `get_caller_identity_max_age` default (AWS caps presigned STS at 15 min).
pub const MAX_AGE: Duration = Duration::from_secs(15 * 60);
/// lakeFS Enterprise's `http_client.timeout` default.
const STS_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest STS answer read (a GetCallerIdentity answer is well under 1 KiB).
const MAX_ANSWER: usize = 64 << 10;
/// How far in the future a token's date may lie (clock skew).
const MAX_SKEW: Duration = Duration::from_secs(5 * 60);

fn refused(msg: impl Into<String>) -> ApiError {
    ApiError::Unauthorized(msg.into())
}

/// Checks identity tokens against an STS host.
pub struct StsVerifier {
    /// STS hosts (`host[:port]`) tokens may name; empty refuses every token.
    allowed_hosts: std::sync::RwLock<Vec<String>>,
    /// The `X-LakeFS-Server-ID` value tokens must have been signed with.
    server_id: String,
    http: super::http::OutboundClient,
}

/// Decodes `{"identity_token": base64(JSON)}` (401 "invalid token format" as lakeFS when it is not).
pub fn decode_identity(request: &serde_json::Map<String, serde_json::Value>) -> ApiResult<AwsIdentityTokenInfo> {
    let token = request
        .get("identity_token")
        .and_then(|v| v.as_str())
        .ok_or_else(|| ApiError::bad_request("identityRequest: identity_token is required"))?;
    let json = STANDARD.decode(token.trim()).map_err(|_| refused("invalid token format"))?;
    serde_json::from_slice(&json).map_err(|_| refused("invalid token format"))
}

/// The query of the presigned `GetCallerIdentity` request a token describes.
pub fn presigned_query(t: &AwsIdentityTokenInfo) -> String {
    let scope_date = t.date.get(..8).unwrap_or("");
    let credential = format!("{}/{scope_date}/{}/sts/aws4_request", t.access_key_id, t.region);
    let signed_headers = t.signed_headers.join(";");
    let mut pairs = vec![
        ("Action", t.action.as_str()),
        ("Version", t.version.as_str()),
        ("X-Amz-Algorithm", t.algorithm.as_str()),
        ("X-Amz-Credential", credential.as_str()),
        ("X-Amz-Date", t.date.as_str()),
        ("X-Amz-Expires", t.expiration_duration.as_str()),
        ("X-Amz-SignedHeaders", signed_headers.as_str()),
    ];
    if !t.security_token.is_empty() {
        pairs.push(("X-Amz-Security-Token", t.security_token.as_str()));
    }
    pairs.push(("X-Amz-Signature", t.signature.as_str()));
    let enc = |v: &str| utf8_percent_encode(v, QUERY_VALUE).to_string();
    pairs.iter().map(|(k, v)| format!("{k}={}", enc(v))).collect::<Vec<_>>().join("&")
}

/// The `Arn` of an STS `GetCallerIdentityResponse`.
pub fn parse_caller_arn(xml: &[u8]) -> ApiResult<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut in_arn = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => in_arn = e.local_name().as_ref() == b"Arn",
            Ok(Event::Text(t)) if in_arn => {
                let arn = t.unescape().map_err(|_| refused("STS answer: invalid Arn"))?.trim().to_string();
                return if arn.is_empty() { Err(refused("STS answer: empty Arn")) } else { Ok(arn) };
            }
            Ok(Event::End(_)) => in_arn = false,
            Ok(Event::Eof) | Err(_) => return Err(refused("STS answer carries no caller Arn")),
            Ok(_) => {}
        }
    }
}

impl StsVerifier {
    pub fn new(allowed_hosts: Vec<String>, server_id: String) -> StsVerifier {
        let http = super::http::outbound_client();
        StsVerifier { allowed_hosts: std::sync::RwLock::new(allowed_hosts), server_id, http }
    }

    /// Adds an STS host to the allow-list (`lakegate dev` trusts its own gateway's STS endpoint).
    pub fn allow_host(&self, host: &str) {
        let mut hosts = self.allowed_hosts.write().unwrap_or_else(|p| p.into_inner());
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            hosts.push(host.to_string());
        }
    }

    /// The `X-LakeFS-Server-ID` value tokens must be signed with.
    pub fn server_id(&self) -> &str {
        &self.server_id
    }

    /// The AWS identity (ARN) an `identityRequest` proves, as the STS host confirms it.
    pub async fn caller_arn(
        &self,
        request: &serde_json::Map<String, serde_json::Value>,
        now: SystemTime,
    ) -> ApiResult<String> {
        let token = decode_identity(request)?;
        self.check(&token, now)?;
        let (status, body) = self.send(&token).await?;
        if status != http::StatusCode::OK {
            tracing::debug!(host = %token.host, %status, "STS refused an identity token");
            return Err(refused(format!("STS refused the identity token ({status})")));
        }
        parse_caller_arn(&body)
    }

    /// Everything checkable without STS: the request shape, the signed headers, the host
    /// allow-list and the token's age.
    pub fn check(&self, t: &AwsIdentityTokenInfo, now: SystemTime) -> ApiResult<()> {
        let shape = [
            (t.method.eq_ignore_ascii_case("POST"), "method"),
            (t.action == "GetCallerIdentity", "action"),
            (t.version == "2011-06-15", "version"),
            (t.algorithm == "AWS4-HMAC-SHA256", "algorithm"),
            (!t.access_key_id.is_empty() && !t.signature.is_empty() && !t.region.is_empty(), "credentials"),
        ];
        if let Some((_, what)) = shape.iter().find(|(ok, _)| !ok) {
            return Err(refused(format!("invalid token format: {what}")));
        }
        let signed = |h: &str| t.signed_headers.iter().any(|s| s.eq_ignore_ascii_case(h));
        if !signed("host") || !signed(SERVER_ID_HEADER) {
            return Err(refused(format!("identity token must sign the host and {SERVER_ID_HEADER} headers")));
        }
        if let Some(h) = t
            .signed_headers
            .iter()
            .find(|h| !h.eq_ignore_ascii_case("host") && !h.eq_ignore_ascii_case(SERVER_ID_HEADER))
        {
            return Err(refused(format!("identity token signs unsupported header {h:?}")));
        }
        let allowed = self
            .allowed_hosts
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|h| h.eq_ignore_ascii_case(&t.host));
        if !allowed {
            return Err(refused(format!("STS host {:?} is not allowed", t.host)));
        }
        check_age(t, now)
    }

    /// Sends the rebuilt presigned request to the STS host: `(status, body)`.
    async fn send(&self, t: &AwsIdentityTokenInfo) -> ApiResult<(http::StatusCode, Bytes)> {
        let url = format!("http://{}/?{}", t.host, presigned_query(t));
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(&url)
            .header(SERVER_ID_HEADER, &self.server_id)
            .body(Full::new(Bytes::new()))
            .map_err(|_| refused("invalid token format: host"))?;
        super::http::call_bounded(&self.http, req, MAX_ANSWER, STS_TIMEOUT)
            .await
            .map_err(|e| ApiError::Internal(format!("STS host {}: {e}", t.host)))
    }
}

/// A token is good from its `date` for its `expiration_duration`, at most [`MAX_AGE`].
fn check_age(t: &AwsIdentityTokenInfo, now: SystemTime) -> ApiResult<()> {
    let date = lakegate_net::util::parse_amz_date(&t.date).ok_or_else(|| refused("invalid token format: date"))?;
    let expires: u64 = t.expiration_duration.parse().map_err(|_| refused("invalid token format: expiration"))?;
    let valid_for = Duration::from_secs(expires).min(MAX_AGE);
    if date > now + MAX_SKEW {
        return Err(refused("identity token is dated in the future"));
    }
    if now > date + valid_for {
        return Err(refused("identity token expired"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(host: &str) -> AwsIdentityTokenInfo {
        AwsIdentityTokenInfo {
            method: "POST".into(),
            host: host.into(),
            region: "us-east-1".into(),
            action: "GetCallerIdentity".into(),
            date: "20250102T030405Z".into(),
            expiration_duration: "60".into(),
            access_key_id: "AKIA1".into(),
            signature: "ab12".into(),
            signed_headers: vec!["host".into(), "x-lakefs-server-id".into()],
            version: "2011-06-15".into(),
            algorithm: "AWS4-HMAC-SHA256".into(),
            security_token: "a/b+c=".into(),
        }
    }

    fn at(t: &AwsIdentityTokenInfo, secs: u64) -> SystemTime {
        lakegate_net::util::parse_amz_date(&t.date).unwrap() + Duration::from_secs(secs)
    }

    #[test]
    fn tokens_are_checked_before_sts() {
        let v = StsVerifier::new(vec!["127.0.0.1:9".into()], "lakefs-1".into());
        let t = token("127.0.0.1:9");
        assert!(v.check(&t, at(&t, 30)).is_ok());
        assert!(matches!(v.check(&t, at(&t, 61)), Err(ApiError::Unauthorized(_))));
        assert!(v.check(&token("sts.amazonaws.com"), at(&t, 1)).is_err());
        let unsigned = AwsIdentityTokenInfo { signed_headers: vec!["host".into()], ..t.clone() };
        assert!(v.check(&unsigned, at(&t, 1)).is_err());
        let extra = AwsIdentityTokenInfo {
            signed_headers: vec!["host".into(), "x-lakefs-server-id".into(), "x-a".into()],
            ..t.clone()
        };
        assert!(v.check(&extra, at(&t, 1)).is_err());
        assert!(v.check(&AwsIdentityTokenInfo { action: "AssumeRole".into(), ..t.clone() }, at(&t, 1)).is_err());
        assert!(StsVerifier::new(vec![], "x".into()).check(&t, at(&t, 1)).is_err());
    }

    #[test]
    fn identity_tokens_decode_and_rebuild_the_presigned_query() {
        let t = token("h");
        let encoded = STANDARD.encode(serde_json::to_vec(&t).unwrap());
        let req = serde_json::json!({ "identity_token": encoded });
        assert_eq!(decode_identity(req.as_object().unwrap()).unwrap(), t);
        let bad = serde_json::json!({ "identity_token": "!!" });
        assert!(matches!(decode_identity(bad.as_object().unwrap()), Err(ApiError::Unauthorized(_))));
        assert!(matches!(decode_identity(&serde_json::Map::new()), Err(ApiError::BadRequest(_))));
        let q = presigned_query(&t);
        assert!(q.starts_with("Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256"));
        assert!(q.contains("X-Amz-Credential=AKIA1%2F20250102%2Fus-east-1%2Fsts%2Faws4_request"));
        assert!(q.contains("X-Amz-SignedHeaders=host%3Bx-lakefs-server-id&X-Amz-Security-Token=a%2Fb%2Bc%3D"));
        assert!(q.ends_with("X-Amz-Signature=ab12"));
    }

    #[test]
    fn caller_arn_comes_from_the_sts_answer() {
        let xml = br#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <GetCallerIdentityResult><Arn>arn:aws:sts::1:assumed-role/Dev/s</Arn><UserId>AROA:s</UserId>
          <Account>1</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"#;
        assert_eq!(parse_caller_arn(xml).unwrap(), "arn:aws:sts::1:assumed-role/Dev/s");
        assert!(parse_caller_arn(b"<Error><Code>x</Code></Error>").is_err());
        assert!(parse_caller_arn(b"not xml <<<").is_err());
    }
}
