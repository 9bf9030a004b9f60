//! Parsing of SigV4 credentials: the `Authorization` header
//! (`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`) and presigned-URL query
//! parameters (`X-Amz-Algorithm`, `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`,
//! `X-Amz-SignedHeaders`, `X-Amz-Signature`), with S3's error codes for malformed input.

use crate::error::S3Result;
use crate::s3_err;

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
pub const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";
/// S3's limit for `X-Amz-Expires`: seven days.
pub const MAX_EXPIRES_SECS: u64 = 7 * 24 * 3600;

/// `<access key>/<date>/<region>/<service>/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub service: String,
}

impl CredentialScope {
    /// `<date>/<region>/<service>/aws4_request`.
    pub fn scope(&self) -> String {
        format!("{}/{}/{}/aws4_request", self.date, self.region, self.service)
    }

    /// The scope, when it is for `service`.
    fn expect(self, service: &str, malformed: impl Fn(String) -> crate::S3Error) -> S3Result<CredentialScope> {
        if self.service != service {
            return Err(malformed(format!("the credential is for service {:?}, expected {service:?}", self.service)));
        }
        Ok(self)
    }

    fn parse(value: &str, malformed: impl Fn(String) -> crate::S3Error) -> S3Result<CredentialScope> {
        let parts: Vec<&str> = value.rsplitn(5, '/').collect();
        if parts.len() != 5 || parts[0] != "aws4_request" || parts[4].is_empty() {
            return Err(malformed(format!(
                "the credential {value:?} is malformed; expected \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\""
            )));
        }
        if parts[3].len() != 8 || !parts[3].bytes().all(|b| b.is_ascii_digit()) {
            return Err(malformed(format!("invalid credential date {:?}", parts[3])));
        }
        Ok(CredentialScope {
            access_key_id: parts[4].to_string(),
            date: parts[3].to_string(),
            region: parts[2].to_string(),
            service: parts[1].to_string(),
        })
    }
}

/// What a request's SigV4 credentials say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParams {
    pub credential: CredentialScope,
    pub signed_headers: Vec<String>,
    pub signature: String,
    /// Presigned URLs: `X-Amz-Date` and `X-Amz-Expires` (seconds).
    pub presigned: Option<(String, u64)>,
}

fn parse_signed_headers(value: &str) -> Vec<String> {
    value.split(';').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect()
}

fn valid_signature(sig: &str) -> bool {
    sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 …` header value.
pub fn parse_authorization(value: &str) -> S3Result<AuthParams> {
    parse_authorization_for(value, "s3")
}

/// [`parse_authorization`] for a request to `service` (`s3`, or `sts` for lakegate's STS endpoint).
pub fn parse_authorization_for(value: &str, service: &str) -> S3Result<AuthParams> {
    let malformed = |m: String| s3_err!(AuthorizationHeaderMalformed, "{m}");
    let rest = value.strip_prefix(ALGORITHM).ok_or_else(|| malformed("unsupported authorization algorithm".into()))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        match part.split_once('=') {
            Some(("Credential", v)) => credential = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ if part.is_empty() => {}
            _ => return Err(malformed(format!("unexpected authorization component {part:?}"))),
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(malformed("the authorization header requires Credential, SignedHeaders and Signature".into()));
    };
    if !valid_signature(signature) {
        return Err(malformed("the signature must be 64 hexadecimal characters".into()));
    }
    Ok(AuthParams {
        credential: CredentialScope::parse(credential, malformed).and_then(|c| c.expect(service, malformed))?,
        signed_headers: parse_signed_headers(signed),
        signature: signature.to_ascii_lowercase(),
        presigned: None,
    })
}

/// Parses the `X-Amz-*` parameters of a presigned URL (already decoded).
pub fn parse_presigned(get: impl Fn(&str) -> Option<String>) -> S3Result<AuthParams> {
    parse_presigned_for(get, "s3")
}

/// [`parse_presigned`] for a request to `service`.
pub fn parse_presigned_for(get: impl Fn(&str) -> Option<String>, service: &str) -> S3Result<AuthParams> {
    let bad = |m: String| s3_err!(AuthorizationQueryParametersError, "{m}");
    let need = |name: &str| {
        get(name).ok_or_else(|| {
            bad("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.".into())
        })
    };
    let algorithm = need("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Err(bad(format!("X-Amz-Algorithm only supports \"{ALGORITHM}\"")));
    }
    let (credential, date, signed, signature) =
        (need("X-Amz-Credential")?, need("X-Amz-Date")?, need("X-Amz-SignedHeaders")?, need("X-Amz-Signature")?);
    let expires = need("X-Amz-Expires")?;
    if expires.parse::<i64>().is_ok_and(|v| v < 0) {
        return Err(bad("X-Amz-Expires must be non-negative".into()));
    }
    let expires: u64 = expires.parse().map_err(|_| bad("X-Amz-Expires should be a number".into()))?;
    if expires > MAX_EXPIRES_SECS {
        return Err(bad("X-Amz-Expires must be less than a week (in seconds) that is 604800".into()));
    }
    if !valid_signature(&signature) {
        return Err(bad("X-Amz-Signature must be 64 hexadecimal characters".into()));
    }
    Ok(AuthParams {
        credential: CredentialScope::parse(&credential, bad).and_then(|c| c.expect(service, bad))?,
        signed_headers: parse_signed_headers(&signed),
        signature: signature.to_ascii_lowercase(),
        presigned: Some((date, expires)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::S3ErrorCode;

    const SIG: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

    #[test]
    fn authorization_header_parses() {
        let v = format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={SIG}"
        );
        let p = parse_authorization(&v).unwrap();
        assert_eq!(p.credential.access_key_id, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(p.credential.scope(), "20130524/us-east-1/s3/aws4_request");
        assert_eq!(p.signed_headers, ["host", "range", "x-amz-content-sha256", "x-amz-date"]);
        let spaced = v.replace(",", ", ");
        assert_eq!(parse_authorization(&spaced).unwrap(), p);
        // Access key ids may contain '/'? No, but the scope is parsed from the right.
        let odd = v.replace("AKIAIOSFODNN7EXAMPLE", "AK/ID");
        assert_eq!(parse_authorization(&odd).unwrap().credential.access_key_id, "AK/ID");
    }

    #[test]
    fn malformed_authorization_headers() {
        let cases = [
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host".to_string(),
            format!("AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, SignedHeaders=host, Signature={SIG}"),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/2013/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={SIG}"
            ),
            format!(
                "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature={SIG}"
            ),
            "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=xyz"
                .to_string(),
            format!(
                "AWS4-HMAC-SHA256 Foo=bar, Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature={SIG}"
            ),
        ];
        for c in cases {
            assert_eq!(parse_authorization(&c).unwrap_err().code, S3ErrorCode::AuthorizationHeaderMalformed, "{c}");
        }
    }

    #[test]
    fn presigned_parameters() {
        let q = |over: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                if let Some((_, v)) = over.iter().find(|(k, _)| *k == name) {
                    return (!v.is_empty()).then(|| v.to_string());
                }
                Some(match name {
                    "X-Amz-Algorithm" => ALGORITHM.to_string(),
                    "X-Amz-Credential" => "AK/20130524/us-east-1/s3/aws4_request".to_string(),
                    "X-Amz-Date" => "20130524T000000Z".to_string(),
                    "X-Amz-Expires" => "86400".to_string(),
                    "X-Amz-SignedHeaders" => "host".to_string(),
                    "X-Amz-Signature" => SIG.to_string(),
                    _ => return None,
                })
            }
        };
        let ok = parse_presigned(q(&[])).unwrap();
        assert_eq!(ok.presigned, Some(("20130524T000000Z".to_string(), 86400)));
        for bad in [
            &[("X-Amz-Expires", "604801")][..],
            &[("X-Amz-Expires", "soon")],
            &[("X-Amz-Expires", "-1")],
            &[("X-Amz-Signature", "")],
            &[("X-Amz-Algorithm", "AWS4-HMAC-SHA1")],
        ] {
            assert_eq!(parse_presigned(q(bad)).unwrap_err().code, S3ErrorCode::AuthorizationQueryParametersError);
        }
    }
}
