//! The embedded server's identity operations over real sockets, as lakeFS v1.84.0 answers them
//! (docs/lakefs-fidelity.md, "Identity"): the permission node each auth operation checks, and
//! `stsLogin` against a small OpenID Connect issuer (discovery, JWKS, token endpoint; ES256).

mod common;

use common::*;
use serde_json::{Value, json};

fn admin(srv: &Server) -> String {
    basic(&srv.access_key_id, &srv.secret_access_key)
}

/// A user whose only policy allows `statements` (`(actions, resource)` pairs): its basic auth.
async fn user_allowed(srv: &Server, id: &str, statements: &[(&[&str], String)]) -> String {
    let a = admin(srv);
    assert_eq!(call(srv, "POST", "/auth/users", Some(&a), Some(json!({ "id": id }))).await.0, 201);
    let (_, creds) = call(srv, "POST", &format!("/auth/users/{id}/credentials"), Some(&a), None).await;
    if !statements.is_empty() {
        let statement: Vec<Value> =
            statements.iter().map(|(a, r)| json!({"effect": "allow", "action": a, "resource": r})).collect();
        let policy = json!({"id": format!("only-{id}"), "statement": statement});
        assert_eq!(call(srv, "POST", "/auth/policies", Some(&a), Some(policy)).await.0, 201);
        let attach = format!("/auth/users/{id}/policies/only-{id}");
        assert_eq!(call(srv, "PUT", &attach, Some(&a), None).await.0, 201);
    }
    basic(creds["access_key_id"].as_str().unwrap(), creds["secret_access_key"].as_str().unwrap())
}

/// A new access key of `user`: its id.
async fn new_key(srv: &Server, user: &str) -> String {
    let (st, creds) = call(srv, "POST", &format!("/auth/users/{user}/credentials"), Some(&admin(srv)), None).await;
    assert_eq!(st, 201);
    creds["access_key_id"].as_str().unwrap().to_string()
}

type Node = (&'static [&'static str], String);
type Row = (&'static str, &'static str, String, Option<Value>, Node, Node, u16);

fn user_arn(u: &str) -> String {
    format!("arn:lakefs:auth:::user/{u}")
}

fn policy_arn(p: &str) -> String {
    format!("arn:lakefs:auth:::policy/{p}")
}

/// The user and credentials operations with lakeFS's permission node (`pkg/api/controller.go`
/// v1.84.0): the request, a policy allowing exactly that node, one allowing something close to
/// it, and the status the allowed caller gets.
fn user_rows(ak_read: &str, ak_delete: &str) -> Vec<Row> {
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("listUsers", "GET", "/auth/users".into(), None,
            (&["auth:ListUsers"], "*".into()), (&["auth:ReadUser"], "*".into()), 200),
        ("createUser", "POST", "/auth/users".into(), Some(json!({"id": "made"})),
            (&["auth:CreateUser"], user_arn("made")), (&["auth:CreateUser"], user_arn("other")), 201),
        ("getUser", "GET", "/auth/users/target".into(), None,
            (&["auth:ReadUser"], user_arn("target")), (&["auth:ReadUser"], user_arn("other")), 200),
        ("deleteUser", "DELETE", "/auth/users/doomed".into(), None,
            (&["auth:DeleteUser"], user_arn("doomed")), (&["auth:DeleteUser"], user_arn("target")), 204),
        ("listUserCredentials", "GET", "/auth/users/target/credentials".into(), None,
            (&["auth:ListCredentials"], user_arn("target")), (&["auth:ReadCredentials"], user_arn("target")), 200),
        ("createCredentials", "POST", "/auth/users/target/credentials".into(), None,
            (&["auth:CreateCredentials"], user_arn("target")), (&["auth:ListCredentials"], user_arn("target")), 201),
        ("getCredentials", "GET", format!("/auth/users/target/credentials/{ak_read}"), None,
            (&["auth:ReadCredentials"], user_arn("target")), (&["auth:ListCredentials"], user_arn("target")), 200),
        ("deleteCredentials", "DELETE", format!("/auth/users/target/credentials/{ak_delete}"), None,
            (&["auth:DeleteCredentials"], user_arn("target")), (&["auth:DeleteCredentials"], user_arn("other")), 204),
    ];
    rows
}

/// The policy and external principal operations, as [`user_rows`]; in order (attach before
/// detach, create before delete).
fn policy_and_principal_rows() -> Vec<Row> {
    let pid = "principalId=arn%3Ap1";
    let principal = "arn:lakefs:auth:::externalPrincipal/arn:p1".to_string();
    let ext = format!("/auth/users/target/external/principals?{pid}");
    #[rustfmt::skip]
    let rows: Vec<Row> = vec![
        ("listPolicies", "GET", "/auth/policies".into(), None,
            (&["auth:ListPolicies"], "*".into()), (&["auth:ReadPolicy"], "*".into()), 200),
        ("createPolicy", "POST", "/auth/policies".into(),
            Some(json!({"id": "made-p", "statement": [{"effect": "allow", "action": ["fs:ReadObject"], "resource": "*"}]})),
            (&["auth:CreatePolicy"], policy_arn("made-p")), (&["auth:CreatePolicy"], policy_arn("other")), 201),
        ("getPolicy", "GET", "/auth/policies/target-p".into(), None,
            (&["auth:ReadPolicy"], policy_arn("target-p")), (&["auth:ReadPolicy"], policy_arn("other")), 200),
        ("deletePolicy", "DELETE", "/auth/policies/doomed-p".into(), None,
            (&["auth:DeletePolicy"], policy_arn("doomed-p")), (&["auth:DeletePolicy"], policy_arn("target-p")), 204),
        ("listUserPolicies", "GET", "/auth/users/target/policies".into(), None,
            (&["auth:ReadUser"], user_arn("target")), (&["auth:ListPolicies"], "*".into()), 200),
        ("attachPolicyToUser", "PUT", "/auth/users/target/policies/target-p".into(), None,
            (&["auth:AttachPolicy"], user_arn("target")), (&["auth:AttachPolicy"], policy_arn("target-p")), 201),
        ("detachPolicyFromUser", "DELETE", "/auth/users/target/policies/target-p".into(), None,
            (&["auth:DetachPolicy"], user_arn("target")), (&["auth:AttachPolicy"], user_arn("target")), 204),
        ("createUserExternalPrincipal", "POST", ext.clone(), None,
            (&["auth:CreateUserExternalPrincipal"], user_arn("target")),
            (&["auth:CreateUserExternalPrincipal"], user_arn("other")), 201),
        ("getExternalPrincipal", "GET", format!("/auth/external/principals?{pid}"), None,
            (&["auth:ReadExternalPrincipal"], principal),
            (&["auth:ReadExternalPrincipal"], "arn:lakefs:auth:::externalPrincipal/arn:p2".into()), 200),
        ("listUserExternalPrincipals", "GET", "/auth/users/target/external/principals/ls".into(), None,
            (&["auth:ReadUser"], user_arn("target")), (&["auth:ReadExternalPrincipal"], "*".into()), 200),
        ("deleteUserExternalPrincipal", "DELETE", ext, None,
            (&["auth:DeleteUserExternalPrincipal"], user_arn("target")),
            (&["auth:CreateUserExternalPrincipal"], user_arn("target")), 204),
    ];
    rows
}

/// Each auth operation needs exactly lakeFS's permission node: a user allowed a close node gets
/// 401 `insufficient permissions…`, a user allowed exactly that node gets the operation's answer.
/// `getCurrentUser` and `getLakeFSVersion` need a user and no permission.
#[tokio::test]
async fn each_identity_operation_checks_lakefs_permission_node() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let a = admin(&srv);
    for id in ["target", "doomed"] {
        assert_eq!(call(&srv, "POST", "/auth/users", Some(&a), Some(json!({ "id": id }))).await.0, 201);
    }
    for id in ["target-p", "doomed-p"] {
        let p = json!({"id": id, "statement": [{"effect": "allow", "action": ["fs:ReadObject"], "resource": "*"}]});
        assert_eq!(call(&srv, "POST", "/auth/policies", Some(&a), Some(p)).await.0, 201);
    }
    let (ak_read, ak_delete) = (new_key(&srv, "target").await, new_key(&srv, "target").await);
    let table = user_rows(&ak_read, &ak_delete).into_iter().chain(policy_and_principal_rows());
    for (op, method, path, body, exact, close, ok) in table {
        let near = user_allowed(&srv, &format!("{op}-close"), &[close]).await;
        let (st, out) = call(&srv, method, &path, Some(&near), body.clone()).await;
        let message = out["message"].as_str().unwrap_or("");
        assert!(st == 401 && message.starts_with("insufficient permissions"), "{op}: {st} {out}");
        let yes = user_allowed(&srv, &format!("{op}-exact"), &[exact]).await;
        let (st, out) = call(&srv, method, &path, Some(&yes), body).await;
        assert_eq!(st, ok, "{op}: {out}");
    }
    let nobody = user_allowed(&srv, "nobody", &[]).await;
    let (st, me) = call(&srv, "GET", "/user", Some(&nobody), None).await;
    assert_eq!(
        (st, me["user"]["id"].as_str(), me["user"]["friendly_name"].as_str()),
        (200, Some("nobody"), Some("nobody"))
    );
    assert_eq!(call(&srv, "GET", "/config/version", Some(&nobody), None).await.0, 200);
    srv.stop().await;
}

mod issuer {
    //! A minimal OpenID Connect issuer: discovery, a one-key JWKS, and a token endpoint that
    //! answers code `sub-<s>` with an ID token for subject `<s>` and refuses any other code.
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use bytes::Bytes;
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::{Value, json};
    use std::sync::Arc;

    pub const CLIENT_ID: &str = "lakegate";

    struct Issuer {
        url: String,
        key: EcdsaKeyPair,
    }

    impl Issuer {
        fn jwk(&self) -> Value {
            let public = self.key.public_key().as_ref();
            json!({"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
                "x": B64.encode(&public[1..33]), "y": B64.encode(&public[33..])})
        }

        fn id_token(&self, sub: &str) -> String {
            let now = lakefs_embedded::catalog::now_unix();
            let claims = json!({"iss": self.url, "aud": CLIENT_ID, "sub": sub, "iat": now, "exp": now + 300});
            let header = json!({"alg": "ES256", "kid": "k1", "typ": "JWT"});
            let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
            let sig = self.key.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
            format!("{input}.{}", B64.encode(sig.as_ref()))
        }

        fn discovery(&self) -> Value {
            let url = &self.url;
            json!({"issuer": url, "token_endpoint": format!("{url}/token"), "jwks_uri": format!("{url}/jwks")})
        }

        fn answer(&self, path: &str, form: &str) -> (u16, Value) {
            match path {
                "/.well-known/openid-configuration" => (200, self.discovery()),
                "/jwks" => (200, json!({"keys": [self.jwk()]})),
                "/token" => {
                    let code = form_urlencoded::parse(form.as_bytes()).find(|(k, _)| k == "code").map(|(_, v)| v);
                    match code.as_deref().and_then(|c| c.strip_prefix("sub-")) {
                        Some(sub) => (200, json!({"id_token": self.id_token(sub), "token_type": "Bearer"})),
                        None => (400, json!({"error": "invalid_grant"})),
                    }
                }
                _ => (404, json!({})),
            }
        }
    }

    /// Starts an issuer on `127.0.0.1:0`: its URL.
    pub async fn start() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
        let issuer = Arc::new(Issuer { url: url.clone(), key });
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let issuer = issuer.clone();
                let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let issuer = issuer.clone();
                    async move {
                        let path = req.uri().path().to_string();
                        let form = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
                        let (status, body) = issuer.answer(&path, &String::from_utf8_lossy(&form));
                        let resp = hyper::Response::builder()
                            .status(status)
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(body.to_string())))
                            .unwrap();
                        Ok::<_, std::convert::Infallible>(resp)
                    }
                });
                tokio::spawn(
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service),
                );
            }
        });
        url
    }
}

/// An `stsLogin` body for `code`.
fn login(code: &str, ttl: Option<i64>) -> Value {
    let mut body = json!({"code": code, "state": "s", "redirect_uri": "http://127.0.0.1:1/callback"});
    if let Some(t) = ttl {
        body["ttl_seconds"] = json!(t);
    }
    body
}

/// `min(ttl_seconds, 12 h)`, default 1 h, never refused: 0 gives a token expired at once.
async fn token_lifetimes_follow_lakefs(srv: &Server) {
    let now = lakefs_embedded::catalog::now_unix();
    for (ttl, lifetime) in [(None, 3600), (Some(60), 60), (Some(50_000), 43_200)] {
        let (st, token) = call(srv, "POST", "/sts/login", None, Some(login("sub-alice", ttl))).await;
        assert_eq!(st, 200, "{token}");
        let exp = token["token_expiration"].as_i64().unwrap();
        assert!((exp - now - lifetime).abs() < 30, "ttl {ttl:?}: {exp}");
        let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
        assert_eq!(call(srv, "GET", "/user", Some(&bearer), None).await.1["user"]["id"], "alice");
    }
    let (st, token) = call(srv, "POST", "/sts/login", None, Some(login("sub-alice", Some(0)))).await;
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    assert_eq!(st, 200, "ttl 0 is not refused");
    assert_eq!(call(srv, "GET", "/user", Some(&bearer), None).await.0, 401, "the token is expired at once");
}

/// `stsLogin` as lakeFS's `StsLogin`: 501 `Not Implemented` without an authentication service, 401
/// `Unauthorized` for a refused code, 404 `not found` when no user has the subject as external id,
/// a lifetime of `min(ttl_seconds, 12 h)` (default 1 h) that is never refused.
#[tokio::test]
async fn sts_login_answers_as_lakefs() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let (st, out) = call(&srv, "POST", "/sts/login", None, Some(login("sub-alice", None))).await;
    assert_eq!((st, out["message"].as_str()), (501, Some("Not Implemented")), "no issuer");
    srv.stop().await;

    let issuer = issuer::start().await;
    let mut cfg = config(dir.path(), None);
    let users = [("alice", "alice"), ("gone", "gone-user")].map(|(s, u)| (s.to_string(), u.to_string()));
    cfg.oidc = Some(lakefs_embedded::oidc::OidcSettings {
        issuer,
        client_id: issuer::CLIENT_ID.into(),
        users: users.to_vec(),
        ..Default::default()
    });
    let srv = Server::start_config(cfg).await;
    token_lifetimes_follow_lakefs(&srv).await;
    let message = |(st, out): (u16, Value)| (st, out["message"].as_str().unwrap_or("").to_string());
    let refused = call(&srv, "POST", "/sts/login", None, Some(login("spent", None))).await;
    assert_eq!(message(refused), (401, "Unauthorized".into()));
    let stranger = call(&srv, "POST", "/sts/login", None, Some(login("sub-stranger", None))).await;
    assert_eq!(message(stranger), (404, "not found".into()));
    assert_eq!(call(&srv, "DELETE", "/auth/users/gone-user", Some(&admin(&srv)), None).await.0, 204);
    let gone = call(&srv, "POST", "/sts/login", None, Some(login("sub-gone", None))).await;
    assert_eq!(message(gone), (404, "not found".into()));
    let empty = call(&srv, "POST", "/sts/login", None, Some(login("", None))).await;
    assert_eq!(message(empty), (400, "invalid authentication response: invalid request".into()));
    srv.stop().await;
}
