//! The OAuth 2.0 authorization-code flow of `lakegate creds oidc` for a native app (RFC 8252):
//! PKCE with S256 (RFC 7636), a redirect listener on `http://127.0.0.1:<port>/callback`, the
//! browser opened on the issuer's authorization endpoint (OpenID Connect Discovery 1.0), and the
//! `state` (and, when sent, RFC 9207's `iss`) checked on the way back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The largest callback request head read.
const MAX_HEAD: usize = 16 << 10;

/// A code the browser brought back.
#[derive(Debug)]
pub struct Callback {
    pub code: String,
    pub state: String,
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
}

/// What the flow needs.
pub struct Flow<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub scope: &'a str,
    pub pkce: bool,
    pub open_browser: bool,
    pub redirect_port: u16,
    pub timeout: Duration,
    pub ca_bundle: Option<&'a std::path::Path>,
}

fn random_token(bytes: usize) -> String {
    let v: Vec<u8> = (0..bytes).map(|_| rand::random::<u8>()).collect();
    B64.encode(v)
}

/// The S256 challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    B64.encode(Sha256::digest(verifier.as_bytes()))
}

/// The issuer's authorization endpoint (discovery).
async fn authorization_endpoint(flow: &Flow<'_>) -> Result<String, String> {
    let url = format!("{}/.well-known/openid-configuration", flow.issuer.trim_end_matches('/'));
    let answer = super::fetch::fetch(http::Method::GET, &url, None, flow.ca_bundle).await?;
    if !answer.status.is_success() {
        return Err(format!("OIDC discovery: GET {url} answered {}", answer.status));
    }
    let doc: serde_json::Value =
        serde_json::from_slice(&answer.body).map_err(|e| format!("OIDC discovery: GET {url}: {e}"))?;
    doc.get("authorization_endpoint")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| format!("OIDC discovery: {url} names no authorization_endpoint"))
}

/// Opens `url` with `$BROWSER` (`:`-separated commands, `%s` replaced or the URL appended),
/// else `xdg-open` / `open`; false when none started.
fn open_browser(url: &str) -> bool {
    let configured = std::env::var("BROWSER").ok().filter(|b| !b.trim().is_empty());
    let commands: Vec<String> = match configured {
        Some(b) => b.split(':').map(str::to_string).collect(),
        None => vec!["xdg-open".into(), "open".into()],
    };
    for command in commands {
        let mut words: Vec<String> = command.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            continue;
        }
        if words.iter().any(|w| w.contains("%s")) {
            words.iter_mut().for_each(|w| *w = w.replace("%s", url));
        } else {
            words.push(url.to_string());
        }
        let spawned = std::process::Command::new(&words[0])
            .args(&words[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null()) // stdout is credential_process's channel
            .spawn();
        if spawned.is_ok() {
            return true;
        }
    }
    false
}

fn page(status: &str, text: &str) -> String {
    let body = format!("<!doctype html><title>lakegate</title><p>{text}</p>");
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// The query of a `GET /callback?…` request head, if it is one.
fn callback_query(head: &str) -> Option<Vec<(String, String)>> {
    let line = head.lines().next()?;
    let mut words = line.split(' ');
    let (Some("GET"), Some(target)) = (words.next(), words.next()) else { return None };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (path == "/callback").then(|| form_urlencoded::parse(query.as_bytes()).into_owned().collect())
}

/// Waits for the browser's redirect: its query parameters.
async fn wait_callback(listener: &TcpListener) -> Result<Vec<(String, String)>, String> {
    loop {
        let (mut conn, _) = listener.accept().await.map_err(|e| format!("redirect listener: {e}"))?;
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        match callback_query(&String::from_utf8_lossy(&head)) {
            Some(params) => {
                let failed = params.iter().any(|(k, _)| k == "error");
                let text = if failed {
                    "Sign-in failed; see the terminal."
                } else {
                    "Signed in to lakegate. You can close this tab."
                };
                let _ = conn.write_all(page("200 OK", text).as_bytes()).await;
                return Ok(params);
            }
            None => {
                let _ = conn.write_all(page("404 Not Found", "Not the sign-in callback.").as_bytes()).await;
            }
        }
    }
}

/// Runs the flow up to the code.
pub async fn sign_in(flow: &Flow<'_>) -> Result<Callback, String> {
    let endpoint = authorization_endpoint(flow).await?;
    let listener = TcpListener::bind(("127.0.0.1", flow.redirect_port))
        .await
        .map_err(|e| format!("redirect listener on 127.0.0.1:{}: {e}", flow.redirect_port))?;
    let port = listener.local_addr().map_err(|e| e.to_string())?.port();
    let redirect_uri = format!("http://127.0.0.1:{port}/callback");
    let state = random_token(16);
    let verifier = flow.pkce.then(|| random_token(48));
    let mut params = vec![
        ("response_type", "code".to_string()),
        ("client_id", flow.client_id.to_string()),
        ("redirect_uri", redirect_uri.clone()),
        ("scope", flow.scope.to_string()),
        ("state", state.clone()),
    ];
    if let Some(v) = &verifier {
        params.push(("code_challenge", challenge(v)));
        params.push(("code_challenge_method", "S256".into()));
    }
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(&params).finish();
    let sep = if endpoint.contains('?') { '&' } else { '?' };
    let url = format!("{endpoint}{sep}{query}");
    eprintln!("lakegate: sign in at {url}");
    if flow.open_browser && !open_browser(&url) {
        eprintln!("lakegate: no browser could be started; open the URL above");
    }
    let got = tokio::time::timeout(flow.timeout, wait_callback(&listener))
        .await
        .map_err(|_| format!("no sign-in within {:?}", flow.timeout))??;
    let get = |k: &str| got.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if let Some(error) = get("error") {
        return Err(format!(
            "the identity provider refused: {error}: {}",
            get("error_description").unwrap_or_default()
        ));
    }
    if get("state").as_deref() != Some(state.as_str()) {
        return Err("the sign-in callback's state does not match (another sign-in?)".into());
    }
    if let Some(iss) = get("iss")
        && iss.trim_end_matches('/') != flow.issuer.trim_end_matches('/')
    {
        return Err(format!("the sign-in callback names issuer {iss:?}, not {:?}", flow.issuer));
    }
    let code = get("code").filter(|c| !c.is_empty()).ok_or("the sign-in callback carries no code")?;
    Ok(Callback { code, state, redirect_uri, code_verifier: verifier })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_appendix_b() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn only_the_callback_path_is_taken() {
        let q = callback_query("GET /callback?code=a%2Fb&state=s HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(q, vec![("code".to_string(), "a/b".to_string()), ("state".to_string(), "s".to_string())]);
        assert!(callback_query("GET /favicon.ico HTTP/1.1\r\n\r\n").is_none());
        assert!(callback_query("POST /callback?code=a HTTP/1.1\r\n\r\n").is_none());
    }
}
