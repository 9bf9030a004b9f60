//! The gateway's own AWS credentials for `--lakefs-aws-iam`, from the AWS SDK's default provider
//! chain (`aws-config`): in this order the environment (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), the shared config and credentials files
//! (`~/.aws/config`, `~/.aws/credentials`, `AWS_PROFILE`; role assumption, `credential_process`),
//! a web identity token file (EKS IRSA: `AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN` → STS
//! `AssumeRoleWithWebIdentity`), the container credentials endpoint (ECS, EKS Pod Identity:
//! `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` / `AWS_CONTAINER_CREDENTIALS_FULL_URI` with
//! `AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE]`) and EC2 instance metadata (IMDSv2).
//!
//! The SDK's HTTP calls (STS, the container endpoint, IMDS) go through lakegate's own outbound
//! client ([`lakegate_net::outbound`]: `--ca-file` roots, the proxy variables, `NO_PROXY`), so no second
//! TLS stack is built. Credentials are reused until shortly before they expire.

use aws_config::environment::EnvironmentVariableRegionProvider;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::region::ProfileFileRegionProvider;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use std::time::{Duration, SystemTime};
use tokio::sync::{Mutex, OnceCell};

/// The sources of the default chain, in the order the SDK tries them (for error messages).
pub const CHAIN: &str = "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), \
     shared config/credentials files (~/.aws/config, ~/.aws/credentials, AWS_PROFILE), \
     web identity token file (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN), \
     container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or \
     AWS_CONTAINER_CREDENTIALS_FULL_URI), \
     EC2 instance metadata (IMDSv2)";
/// Fetch new credentials this long before the current ones expire.
const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);
/// How long one fetch through the chain may take (the SDK bounds each call; this bounds them all).
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long credentials without an expiry (static keys) are reused before the chain is asked again.
const NO_EXPIRY_REUSE: Duration = Duration::from_secs(15 * 60);

/// Why no credentials were had: one line naming the chain or the source's failure.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct AwsCredentialsError(String);

/// The default chain with a cache in front.
pub struct AwsCredentialChain {
    provider: SharedCredentialsProvider,
    cached: Mutex<Option<(Credentials, SystemTime)>>,
}

impl std::fmt::Debug for AwsCredentialChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AwsCredentialChain(default chain)")
    }
}

static PROCESS_CHAIN: OnceCell<AwsCredentialChain> = OnceCell::const_new();

impl AwsCredentialChain {
    /// The process's chain (built at first use from the process environment). Its region (for
    /// STS calls: web identity, profile roles) is `AWS_REGION`/`AWS_DEFAULT_REGION`, else the
    /// profile's, else `fallback_region`; never looked up in instance metadata, so building the
    /// chain makes no network call.
    pub async fn process(fallback_region: &str) -> &'static AwsCredentialChain {
        PROCESS_CHAIN
            .get_or_init(|| async {
                let region = RegionProviderChain::first_try(EnvironmentVariableRegionProvider::new())
                    .or_else(ProfileFileRegionProvider::new())
                    .or_else(Region::new(fallback_region.to_string()));
                let http = OutboundHttpClient(lakegate_net::outbound::Outbound::global());
                let loader = aws_config::defaults(BehaviorVersion::latest()).region(region).http_client(http);
                AwsCredentialChain::load(loader).await
            })
            .await
    }

    /// The default chain of a configured SDK loader (its region, environment, HTTP client).
    pub async fn load(loader: aws_config::ConfigLoader) -> AwsCredentialChain {
        let provider = loader.load().await.credentials_provider().unwrap_or_else(|| {
            // `load` always sets the default chain unless told otherwise; never reached.
            SharedCredentialsProvider::new(NoCredentials)
        });
        AwsCredentialChain { provider, cached: Mutex::new(None) }
    }

    /// Credentials good for a while yet: the cached ones, else fresh ones from the chain.
    pub async fn credentials(&self) -> Result<Credentials, AwsCredentialsError> {
        let mut cached = self.cached.lock().await;
        let now = SystemTime::now();
        if let Some((creds, refresh_at)) = cached.as_ref()
            && now < *refresh_at
        {
            return Ok(creds.clone());
        }
        let creds = tokio::time::timeout(FETCH_TIMEOUT, self.provider.provide_credentials())
            .await
            .map_err(|_| {
                AwsCredentialsError(format!(
                    "AWS credentials from the default chain: no answer within {FETCH_TIMEOUT:?}"
                ))
            })?
            .map_err(|e| describe(&e))?;
        let refresh_at = match creds.expiry() {
            Some(expiry) => expiry.checked_sub(REFRESH_MARGIN).unwrap_or(now),
            None => now + NO_EXPIRY_REUSE,
        };
        *cached = Some((creds.clone(), refresh_at));
        Ok(creds)
    }
}

/// One line: the chain tried when no source had credentials, else the failing source's error
/// with its causes.
fn describe(err: &CredentialsError) -> AwsCredentialsError {
    if let CredentialsError::CredentialsNotLoaded(_) = err {
        return AwsCredentialsError(format!("no AWS credentials found; tried, in order: {CHAIN}"));
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    AwsCredentialsError(format!("AWS credentials from the default chain: {line}"))
}

#[derive(Debug)]
struct NoCredentials;

impl ProvideCredentials for NoCredentials {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
            "no provider",
        )))
    }
}

/// The SDK's HTTP client on lakegate's outbound settings.
#[derive(Debug, Clone)]
pub struct OutboundHttpClient(pub lakegate_net::outbound::Outbound);

impl HttpClient for OutboundHttpClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        let connect = settings.connect_timeout().unwrap_or(lakegate_net::outbound::CONNECT_TIMEOUT);
        let http = self.0.clone().with_connect_timeout(connect).client::<SdkBody>();
        SharedHttpConnector::new(OutboundConnector { http, read_timeout: settings.read_timeout() })
    }
}

struct OutboundConnector {
    http: lakegate_net::outbound::HttpClient<SdkBody>,
    read_timeout: Option<Duration>,
}

impl std::fmt::Debug for OutboundConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboundConnector").field("read_timeout", &self.read_timeout).finish()
    }
}

impl HttpConnector for OutboundConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let http = self.http.clone();
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let request = request.try_into_http1x().map_err(|e| ConnectorError::user(e.into()))?;
            let answer = http.request(request);
            let answer = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, answer)
                    .await
                    .map_err(|_| ConnectorError::timeout(format!("no answer within {limit:?}").into()))?,
                None => answer.await,
            };
            let answer = answer.map_err(|e| ConnectorError::io(e.into()))?;
            HttpResponse::try_from(answer.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An HTTP client whose every call fails at once (no IMDS, no endpoint).
    #[derive(Debug)]
    struct Offline;

    impl HttpClient for Offline {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            SharedHttpConnector::new(OfflineConnector)
        }
    }

    #[derive(Debug)]
    struct OfflineConnector;

    impl HttpConnector for OfflineConnector {
        fn call(&self, _: HttpRequest) -> HttpConnectorFuture {
            HttpConnectorFuture::ready(Err(ConnectorError::io("connection refused (offline test)".into())))
        }
    }

    #[tokio::test]
    async fn with_no_source_at_all_the_error_is_one_line_naming_the_chain() {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .empty_test_environment()
            .region(Region::new("us-east-1"))
            .http_client(Offline);
        let chain = AwsCredentialChain::load(loader).await;
        let started = std::time::Instant::now();
        let err = chain.credentials().await.unwrap_err().to_string();
        assert!(!err.contains('\n'), "{err}");
        assert!(err.starts_with("no AWS credentials found; tried, in order: environment"), "{err}");
        for source in ["AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "IMDSv2", "~/.aws/config"] {
            assert!(err.contains(source), "{source} missing in {err}");
        }
        assert!(started.elapsed() < Duration::from_secs(20), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn credentials_are_reused_until_shortly_before_they_expire() {
        let fresh = Credentials::new("AK", "SK", Some("T".into()), Some(SystemTime::now() + 3 * REFRESH_MARGIN), "t");
        let chain =
            AwsCredentialChain { provider: SharedCredentialsProvider::new(fresh.clone()), cached: Mutex::new(None) };
        assert_eq!(chain.credentials().await.unwrap().access_key_id(), "AK");
        let refresh_at = chain.cached.lock().await.as_ref().unwrap().1;
        assert!(refresh_at > SystemTime::now() + REFRESH_MARGIN, "kept while good");
        let expiring = Credentials::new("AK2", "SK", None, Some(SystemTime::now() + REFRESH_MARGIN / 2), "t");
        let chain = AwsCredentialChain { provider: SharedCredentialsProvider::new(expiring), cached: Mutex::new(None) };
        chain.credentials().await.unwrap();
        assert!(chain.cached.lock().await.as_ref().unwrap().1 <= SystemTime::now(), "asked again next time");
    }

    #[test]
    fn provider_failures_are_one_line_with_their_causes() {
        let err = CredentialsError::provider_error("STS said:\nAccessDenied");
        let text = describe(&err).to_string();
        assert_eq!(
            text,
            "AWS credentials from the default chain: an error occurred while loading credentials: STS said: AccessDenied"
        );
    }
}
