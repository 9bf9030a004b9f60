//! `lakegate creds oidc`: temporary S3 credentials from an OIDC single sign-on, printed in the AWS
//! CLI's `credential_process` format (AWS SDKs and Tools Reference Guide, "Sourcing credentials
//! with an external process": `Version` 1, `AccessKeyId`, `SecretAccessKey`, `SessionToken`,
//! `Expiration`). It signs in through the browser ([`oidc`]), sends the code to the gateway's
//! login endpoint ([`crate::gateway::oidc_login`]) and caches the answer until shortly before it
//! expires, so every AWS command in between reuses it without a browser.

pub mod fetch;
pub mod oidc;

use crate::auth::session_token::TempCredentials;
use lakegate_net::util::now_unix;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::time::Duration;

/// `lakegate creds …`.
#[derive(Debug, clap::Subcommand)]
pub enum CredsCommand {
    /// Sign in with OpenID Connect (browser, PKCE) and print temporary S3 credentials for
    /// `credential_process`.
    Oidc(OidcArgs),
}

/// `lakegate creds oidc`.
#[derive(Debug, Clone, clap::Args)]
pub struct OidcArgs {
    /// The OpenID Connect issuer URL (the one lakeFS's authentication service trusts).
    #[arg(long, env = "LAKEGATE_OIDC_ISSUER")]
    pub issuer: String,
    /// The OAuth client id to sign in with.
    #[arg(long, env = "LAKEGATE_OIDC_CLIENT_ID")]
    pub client_id: String,
    /// The lakegate S3 endpoint that mints the credentials.
    #[arg(long, env = "LAKEGATE_URL", default_value = "http://127.0.0.1:8000")]
    pub lakegate: String,
    /// Lifetime of the credentials in seconds (the gateway and lakeFS cap it; lakeFS at 12 hours).
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(i64).range(1..=43_200))]
    pub ttl_seconds: i64,
    /// Scopes asked for.
    #[arg(long, default_value = "openid email profile")]
    pub scope: String,
    /// Do not use PKCE (for a lakeFS whose authentication service does not pass the
    /// `code_verifier` to the token endpoint).
    #[arg(long)]
    pub no_pkce: bool,
    /// Do not start a browser; only print the sign-in URL (on stderr).
    #[arg(long)]
    pub no_browser: bool,
    /// Port of the local redirect listener on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    pub redirect_port: u16,
    /// Seconds to wait for the sign-in.
    #[arg(long, default_value_t = 300)]
    pub timeout_secs: u64,
    /// Where credentials are cached (default: `$XDG_CACHE_HOME/lakegate/creds` or
    /// `~/.cache/lakegate/creds`).
    #[arg(long, env = "LAKEGATE_CREDS_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Neither read nor write the cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Extra PEM CA certificates to trust for https:// (besides the system's).
    #[arg(long)]
    pub ca_bundle: Option<PathBuf>,
}

/// A cache file.
#[derive(Serialize, Deserialize)]
struct Cached {
    issued_at: i64,
    credentials: TempCredentials,
}

/// Unix seconds of an RFC 3339 UTC time (`2026-11-21T10:00:00Z`, fractions allowed).
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let s = s.split('.').next()?;
    let compact: String = s.chars().filter(|c| *c != '-' && *c != ':').collect();
    let t = lakegate_net::util::parse_amz_date(&format!("{compact}Z"))?;
    Some(t.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64)
}

/// Whether cached credentials are still good: more than a fifth of their lifetime (at most
/// five minutes) left.
fn still_good(c: &Cached, now: i64) -> bool {
    let Some(expires) = parse_rfc3339(&c.credentials.expiration) else { return false };
    let margin = ((expires - c.issued_at) / 5).clamp(1, 300);
    expires - now > margin
}

impl OidcArgs {
    fn cache_file(&self) -> Option<PathBuf> {
        if self.no_cache {
            return None;
        }
        let dir = self.cache_dir.clone().or_else(|| {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
            Some(base.join("lakegate").join("creds"))
        })?;
        let id = [&self.issuer, &self.client_id, &self.lakegate, &self.scope, &self.ttl_seconds.to_string()]
            .map(|s| s.as_str())
            .join("\0");
        Some(dir.join(format!("{}.json", &hex::encode(Sha256::digest(id.as_bytes()))[..32])))
    }
}

fn read_cache(file: &std::path::Path) -> Option<Cached> {
    let cached: Cached = serde_json::from_slice(&std::fs::read(file).ok()?).ok()?;
    still_good(&cached, now_unix()).then_some(cached)
}

fn write_cache(file: &std::path::Path, cached: &Cached) -> Result<(), String> {
    let dir = file.parent().ok_or("cache file has no directory")?;
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    let json = serde_json::to_vec(cached).map_err(|e| e.to_string())?;
    lakegate_net::util::write_private(&tmp, &json)
        .and_then(|_| std::fs::rename(&tmp, file))
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// `<Code>` and `<Message>` of an S3 error document.
fn s3_error_text(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let field = |tag: &str| {
        let start = text.find(&format!("<{tag}>"))? + tag.len() + 2;
        let end = text[start..].find(&format!("</{tag}>"))?;
        Some(
            quick_xml::escape::unescape(&text[start..start + end])
                .map_or_else(|_| text[start..start + end].to_string(), |s| s.into_owned()),
        )
    };
    match (field("Code"), field("Message")) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        _ => text.chars().take(500).collect(),
    }
}

/// Sends the code to the gateway's login endpoint.
async fn exchange(args: &OidcArgs, cb: oidc::Callback) -> Result<TempCredentials, String> {
    let url = format!("{}{}", args.lakegate.trim_end_matches('/'), crate::gateway::oidc_login::PATH);
    let body = serde_json::json!({
        "code": cb.code, "state": cb.state, "redirect_uri": cb.redirect_uri,
        "ttl_seconds": args.ttl_seconds, "code_verifier": cb.code_verifier,
    });
    let body = serde_json::to_vec(&body).map_err(|e| e.to_string())?;
    let answer = fetch::fetch(http::Method::POST, &url, Some(body), args.ca_bundle.as_deref()).await?;
    if !answer.status.is_success() {
        return Err(format!("lakegate refused the sign-in ({}): {}", answer.status, s3_error_text(&answer.body)));
    }
    serde_json::from_slice(&answer.body).map_err(|e| format!("{url}: unexpected answer: {e}"))
}

/// Runs `lakegate creds …`.
pub async fn run(cmd: CredsCommand) -> Result<(), String> {
    let CredsCommand::Oidc(args) = cmd;
    let cache = args.cache_file();
    let cached = cache.as_deref().and_then(read_cache);
    let credentials = match cached {
        Some(c) => c.credentials,
        None => {
            let flow = oidc::Flow {
                issuer: &args.issuer,
                client_id: &args.client_id,
                scope: &args.scope,
                pkce: !args.no_pkce,
                open_browser: !args.no_browser,
                redirect_port: args.redirect_port,
                timeout: Duration::from_secs(args.timeout_secs),
                ca_bundle: args.ca_bundle.as_deref(),
            };
            let issued_at = now_unix();
            let callback = oidc::sign_in(&flow).await?;
            let credentials = exchange(&args, callback).await?;
            if let Some(file) = &cache
                && let Err(e) = write_cache(file, &Cached { issued_at, credentials: credentials.clone() })
            {
                eprintln!("lakegate: not cached: {e}");
            }
            credentials
        }
    };
    println!("{}", serde_json::to_string(&credentials).map_err(|e| e.to_string())?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cached(issued_at: i64, expiration: &str) -> Cached {
        let credentials = TempCredentials {
            version: 1,
            access_key_id: "ASIA".into(),
            secret_access_key: "s".into(),
            session_token: "t".into(),
            expiration: expiration.into(),
        };
        Cached { issued_at, credentials }
    }

    #[test]
    fn rfc3339_round_trips() {
        assert_eq!(parse_rfc3339(&lakegate_net::util::format_rfc3339(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2026-11-21T10:00:00.123Z"), parse_rfc3339("2026-11-21T10:00:00Z"));
        assert_eq!(parse_rfc3339("2026-11-21 10:00:00"), None);
    }

    #[test]
    fn cache_is_used_until_shortly_before_expiry() {
        let exp = 1_700_003_600;
        let c = cached(exp - 3600, &lakegate_net::util::format_rfc3339(exp));
        assert!(still_good(&c, exp - 3600));
        assert!(still_good(&c, exp - 301));
        assert!(!still_good(&c, exp - 300), "five minutes before the end: sign in again");
        let short = cached(exp - 60, &lakegate_net::util::format_rfc3339(exp));
        assert!(still_good(&short, exp - 13));
        assert!(!still_good(&short, exp - 12), "a fifth of a minute");
        assert!(!still_good(&cached(0, "garbage"), 0));
    }

    #[test]
    fn error_documents_are_summarised() {
        let xml = b"<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code><Message>no &amp; never</Message></Error>";
        assert_eq!(s3_error_text(xml), "AccessDenied: no & never");
        assert_eq!(s3_error_text(b"plain"), "plain");
    }
}
