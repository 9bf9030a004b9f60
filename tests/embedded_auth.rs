//! The embedded server's identity API over real sockets: users and credentials (which then
//! authenticate as their user), policies and their enforcement (lakeFS answers a denied call with
//! 401), external principals, and `externalPrincipalLogin` against an STS stand-in (`sts_stub`).

mod common;

use common::sts_stub::{self, StsStub, identity_request};
use common::*;
use lakefs_api::LakeFsError;
use lakefs_api::client::{Credentials, ListObjectsParams, Upload};
use lakefs_api::dto::CommitCreation;
use serde_json::{Value, json};

fn admin(srv: &Server) -> String {
    basic(&srv.access_key_id, &srv.secret_access_key)
}

/// A user with one access key: `(basic auth value, access key id, secret)`.
async fn user_with_key(srv: &Server, id: &str) -> (String, String, String) {
    let (st, _) = call(srv, "POST", "/auth/users", Some(&admin(srv)), Some(json!({ "id": id }))).await;
    assert_eq!(st, 201);
    let (st, creds) = call(srv, "POST", &format!("/auth/users/{id}/credentials"), Some(&admin(srv)), None).await;
    assert_eq!(st, 201);
    let (ak, sk) = (creds["access_key_id"].as_str().unwrap(), creds["secret_access_key"].as_str().unwrap());
    (basic(ak, sk), ak.to_string(), sk.to_string())
}

/// An `uploadObject` of `data`.
fn upload_of(data: Vec<u8>) -> Upload {
    use http_body_util::BodyExt;
    let length = data.len() as u64;
    let body = http_body_util::Full::new(bytes::Bytes::from(data)).map_err(|never| match never {}).boxed_unsync();
    Upload { body, length, content_type: "text/plain".into(), metadata: Default::default(), if_absent: false }
}

fn status(r: Result<impl Sized, LakeFsError>) -> u16 {
    r.err().and_then(|e| e.status()).map_or(0, |s| s.as_u16())
}

#[tokio::test]
async fn users_and_credentials_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let a = admin(&srv);
    let (st, bob) = call(&srv, "POST", "/auth/users", Some(&a), Some(json!({"id": "bob"}))).await;
    assert_eq!((st, bob["id"].as_str()), (201, Some("bob")));
    assert!(bob["creation_date"].as_i64().unwrap() > 0);
    let (st, err) = call(&srv, "POST", "/auth/users", Some(&a), Some(json!({"id": "bob"}))).await;
    assert_eq!(st, 409);
    assert_eq!(err["message"], "Already exists");
    assert_eq!(call(&srv, "POST", "/auth/users", Some(&a), Some(json!({"id": ""}))).await.0, 400);
    assert_eq!(call(&srv, "GET", "/auth/users/bob", Some(&a), None).await.1["id"], "bob");
    assert_eq!(call(&srv, "GET", "/auth/users/nobody", Some(&a), None).await.0, 404);
    for id in ["carol", "dave"] {
        call(&srv, "POST", "/auth/users", Some(&a), Some(json!({ "id": id }))).await;
    }
    let (_, page) = call(&srv, "GET", "/auth/users?amount=2", Some(&a), None).await;
    let ids: Vec<&str> = page["results"].as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["admin", "bob"]);
    assert_eq!(page["pagination"]["has_more"], true);
    assert_eq!(page["pagination"]["next_offset"], "bob");
    let (_, page) = call(&srv, "GET", "/auth/users?after=bob&amount=2", Some(&a), None).await;
    assert_eq!(page["pagination"]["results"], 2);
    assert_eq!(page["pagination"]["has_more"], false);

    let (st, creds) = call(&srv, "POST", "/auth/users/bob/credentials", Some(&a), None).await;
    assert_eq!(st, 201);
    let (ak, sk) = (creds["access_key_id"].as_str().unwrap(), creds["secret_access_key"].as_str().unwrap());
    assert_eq!(call(&srv, "POST", "/auth/users/nobody/credentials", Some(&a), None).await.0, 404);
    let (_, list) = call(&srv, "GET", "/auth/users/bob/credentials", Some(&a), None).await;
    assert_eq!(list["results"], json!([{ "access_key_id": ak, "creation_date": creds["creation_date"] }]));
    let (st, one) = call(&srv, "GET", &format!("/auth/users/bob/credentials/{ak}"), Some(&a), None).await;
    assert_eq!((st, one.get("secret_access_key")), (200, None));
    assert_eq!(call(&srv, "GET", &format!("/auth/users/carol/credentials/{ak}"), Some(&a), None).await.0, 404);

    // The key authenticates as bob, by basic auth and through login.
    let (st, me) = call(&srv, "GET", "/user", Some(&basic(ak, sk)), None).await;
    assert_eq!((st, me["user"]["id"].as_str()), (200, Some("bob")));
    let logins = srv.state.login_count();
    let token = srv.client().login(ak, sk).await.unwrap();
    assert_eq!(srv.state.login_count(), logins + 1);
    let bearer = format!("Bearer {}", token.token);
    assert_eq!(call(&srv, "GET", "/user", Some(&bearer), None).await.1["user"]["id"], "bob");

    assert_eq!(call(&srv, "DELETE", &format!("/auth/users/bob/credentials/{ak}"), Some(&a), None).await.0, 204);
    assert_eq!(call(&srv, "GET", "/user", Some(&basic(ak, sk)), None).await.0, 401);
    assert_eq!(call(&srv, "DELETE", "/auth/users/bob", Some(&a), None).await.0, 204);
    assert_eq!(call(&srv, "GET", "/auth/users/bob", Some(&a), None).await.0, 404);
    let (st, err) = call(&srv, "GET", "/user", Some(&bearer), None).await;
    assert_eq!(
        (st, err["message"].as_str()),
        (401, Some("error authenticating request")),
        "a deleted user's token is void"
    );
    assert_eq!(call(&srv, "DELETE", "/auth/users/bob", Some(&a), None).await.0, 404);
    assert_eq!(call(&srv, "DELETE", "/auth/users/admin", Some(&a), None).await.0, 400);
    srv.stop().await;
}

#[tokio::test]
async fn read_only_user_reads_but_is_denied_writes() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let (a, c) = (admin(&srv), srv.client());
    c.create_repository(&repo_creation("ro-repo")).await.unwrap();
    c.create_repository(&repo_creation("other-repo")).await.unwrap();
    for repo in ["ro-repo", "other-repo"] {
        c.upload_object(repo, "main", "a.txt", upload_of(b"hello".to_vec())).await.unwrap();
    }
    let policy = json!({"id": "ReadRo", "statement": [
        {"effect": "allow", "action": ["fs:ReadObject"], "resource": "arn:lakefs:fs:::repository/ro-repo/object/*"},
        {"effect": "allow", "action": ["fs:ListObjects", "fs:ReadRepository"], "resource": "arn:lakefs:fs:::repository/ro-repo"},
    ]});
    let (st, created) = call(&srv, "POST", "/auth/policies", Some(&a), Some(policy.clone())).await;
    assert_eq!(st, 201);
    assert!(created["creation_date"].as_i64().is_some());
    assert_eq!(call(&srv, "POST", "/auth/policies", Some(&a), Some(policy)).await.0, 409);
    let (_, reader_ak, reader_sk) = user_with_key(&srv, "reader").await;
    let reader_basic = basic(&reader_ak, &reader_sk);
    assert_eq!(call(&srv, "PUT", "/auth/users/reader/policies/ReadRo", Some(&a), None).await.0, 201);
    let (_, listed) = call(&srv, "GET", "/auth/users/reader/policies", Some(&a), None).await;
    assert_eq!(listed["results"][0]["id"], "ReadRo");

    let r = srv.client_with(Credentials::Basic { access_key_id: reader_ak, secret_access_key: reader_sk });
    let listing = r.list_objects("ro-repo", "main", &ListObjectsParams::default()).await.unwrap();
    assert_eq!(listing.results.len(), 1);
    let stat = r.stat_object("ro-repo", "main", "a.txt", true).await.unwrap();
    let (st, _, data) = raw(&raw_client(), "GET", &stat.physical_address, &[], vec![]).await;
    assert_eq!((st, data), (200, b"hello".to_vec()), "presigned URLs need no user");
    let got = r.get_object("ro-repo", "main", "a.txt", None, false).await.unwrap();
    assert_eq!(got.status(), 200);
    let denied = r.upload_object("ro-repo", "main", "b.txt", upload_of(b"x".to_vec())).await;
    assert_eq!(status(denied), 401);
    assert_eq!(status(r.delete_object("ro-repo", "main", "a.txt").await), 401);
    assert_eq!(
        status(r.commit("ro-repo", "main", &CommitCreation { message: "m".into(), ..Default::default() }).await),
        401
    );
    assert_eq!(status(r.get_physical_address("ro-repo", "main", "b.txt", true).await), 401);
    assert_eq!(status(r.stat_object("other-repo", "main", "a.txt", false).await), 401);
    assert_eq!(status(r.list_repositories("", "", None).await), 401);
    list_repositories_is_filtered_by_policy(&srv, &r).await;
    let paths = lakefs_api::dto::PathList { paths: vec!["a.txt".into()] };
    let errors = r.delete_objects("ro-repo", "main", &paths).await.unwrap().errors;
    assert_eq!((errors.len(), errors[0].status_code), (1, 401));
    delete_objects_denial_is_lakefs_wire_answer(&srv, &reader_basic).await;
    let (st, err) = call(&srv, "GET", "/auth/users", Some(&basic(&srv.access_key_id, "wrong")), None).await;
    assert_eq!((st, err["message"].is_string()), (401, true));

    // Deny wins over allow.
    let deny = json!({"id": "NoSecrets", "statement": [
        {"effect": "deny", "action": ["fs:*"], "resource": "arn:lakefs:fs:::repository/ro-repo/object/secret*"}]});
    call(&srv, "POST", "/auth/policies", Some(&a), Some(deny)).await;
    call(&srv, "PUT", "/auth/users/reader/policies/NoSecrets", Some(&a), None).await;
    c.upload_object("ro-repo", "main", "secret.txt", upload_of(b"s".to_vec())).await.unwrap();
    assert_eq!(status(r.stat_object("ro-repo", "main", "secret.txt", false).await), 401);
    assert!(r.stat_object("ro-repo", "main", "a.txt", false).await.is_ok());

    // The admin keeps full access; detaching takes the grant away.
    c.upload_object("ro-repo", "main", "b.txt", upload_of(b"x".to_vec())).await.unwrap();
    c.commit("ro-repo", "main", &CommitCreation { message: "m".into(), ..Default::default() }).await.unwrap();
    assert_eq!(call(&srv, "DELETE", "/auth/users/reader/policies/ReadRo", Some(&a), None).await.0, 204);
    assert_eq!(status(r.stat_object("ro-repo", "main", "a.txt", false).await), 401);
    // lakeFS's open auth service detaches without looking: 204 again; an unknown policy is 404
    assert_eq!(call(&srv, "DELETE", "/auth/users/reader/policies/ReadRo", Some(&a), None).await.0, 204);
    assert_eq!(call(&srv, "DELETE", "/auth/users/reader/policies/NoSuch", Some(&a), None).await.0, 404);
    srv.stop().await;
}

#[tokio::test]
async fn policies_and_user_without_policy() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let a = admin(&srv);
    let (_, builtin) = call(&srv, "GET", "/auth/policies?prefix=FS", Some(&a), None).await;
    let ids: Vec<&str> = builtin["results"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec!["FSFullAccess", "FSReadAll", "FSReadWriteAll"]);
    let (_, admin_policies) = call(&srv, "GET", "/auth/users/admin/policies?effective=true", Some(&a), None).await;
    assert_eq!(admin_policies["pagination"]["results"], 2);
    let bad = json!({"id": "bad", "statement": [{"effect": "perhaps", "action": ["fs:ReadObject"], "resource": "*"}]});
    assert_eq!(call(&srv, "POST", "/auth/policies", Some(&a), Some(bad)).await.0, 400);
    assert_eq!(call(&srv, "POST", "/auth/policies", Some(&a), Some(json!({"id": "e", "statement": []}))).await.0, 400);
    assert_eq!(call(&srv, "GET", "/auth/policies/FSReadAll", Some(&a), None).await.1["statement"][0]["resource"], "*");
    assert_eq!(call(&srv, "GET", "/auth/policies/nope", Some(&a), None).await.0, 404);
    assert_eq!(call(&srv, "PUT", "/auth/users/admin/policies/nope", Some(&a), None).await.0, 404);

    let (nobody, _, _) = user_with_key(&srv, "nobody").await;
    assert_eq!(call(&srv, "GET", "/user", Some(&nobody), None).await.0, 200, "authentication needs no policy");
    assert_eq!(call(&srv, "GET", "/repositories", Some(&nobody), None).await.0, 401);
    let (st, err) = call(&srv, "GET", "/auth/users", Some(&nobody), None).await;
    assert_eq!((st, err["message"].as_str()), (401, Some("insufficient permissions")));
    let own = "/auth/users/nobody/credentials";
    assert_eq!(call(&srv, "GET", own, Some(&nobody), None).await.0, 401);
    call(&srv, "PUT", "/auth/users/nobody/policies/AuthManageOwnCredentials", Some(&a), None).await;
    assert_eq!(call(&srv, "GET", own, Some(&nobody), None).await.0, 200, "the ${{user}} variable names the caller");
    assert_eq!(call(&srv, "GET", "/auth/users/admin/credentials", Some(&nobody), None).await.0, 401);
    assert_eq!(call(&srv, "DELETE", "/auth/policies/AuthManageOwnCredentials", Some(&a), None).await.0, 204);
    assert_eq!(call(&srv, "GET", own, Some(&nobody), None).await.0, 401);
    srv.stop().await;
}

#[tokio::test]
async fn external_principals_crud() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let a = admin(&srv);
    call(&srv, "POST", "/auth/users", Some(&a), Some(json!({"id": "dev"}))).await;
    let arn = "arn:aws:sts::123456789012:assumed-role/Dev";
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    let path = format!("/auth/users/dev/external/principals?principalId={}", enc(arn));
    assert_eq!(call(&srv, "POST", &path, Some(&a), None).await.0, 201);
    assert_eq!(call(&srv, "POST", &path, Some(&a), None).await.0, 409);
    let with_body = format!("/auth/users/dev/external/principals?principalId={}", enc("arn:aws:iam::1:user/x"));
    let body = json!({"settings": [{"k": "v"}]});
    assert_eq!(call(&srv, "POST", &with_body, Some(&a), Some(body)).await.0, 201);
    let unknown_user = format!("/auth/users/ghost/external/principals?principalId={}", enc("arn:x"));
    assert_eq!(call(&srv, "POST", &unknown_user, Some(&a), None).await.0, 404);
    assert_eq!(call(&srv, "POST", "/auth/users/dev/external/principals", Some(&a), None).await.0, 400);

    let (st, got) =
        call(&srv, "GET", &format!("/auth/external/principals?principalId={}", enc(arn)), Some(&a), None).await;
    assert_eq!((st, got), (200, json!({"id": arn, "user_id": "dev"})));
    assert_eq!(call(&srv, "GET", "/auth/external/principals?principalId=arn%3Anope", Some(&a), None).await.0, 404);
    let (_, list) = call(&srv, "GET", "/auth/users/dev/external/principals/ls?amount=1", Some(&a), None).await;
    assert_eq!(list["results"], json!([{"id": "arn:aws:iam::1:user/x", "user_id": "dev"}]));
    assert_eq!(list["pagination"]["has_more"], true);
    let (_, list) =
        call(&srv, "GET", "/auth/users/dev/external/principals/ls?after=arn%3Aaws%3Aiam", Some(&a), None).await;
    assert_eq!(list["results"].as_array().unwrap().len(), 2);
    assert_eq!(call(&srv, "DELETE", &path, Some(&a), None).await.0, 204);
    assert_eq!(call(&srv, "DELETE", &path, Some(&a), None).await.0, 404);
    let (_, list) = call(&srv, "GET", "/auth/users/dev/external/principals/ls", Some(&a), None).await;
    assert_eq!(list["pagination"]["results"], 1);
    srv.stop().await;
}

#[tokio::test]
async fn external_principal_login_refusals() {
    let stub = StsStub::start("arn:aws:sts::1:assumed-role/Dev/s", Some(("AKIASTUB", "stub-secret"))).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.sts_allowed_hosts = vec![stub.host.clone()];
    cfg.server_id = Some("lakefs.test".into());
    let srv = Server::start_config(cfg).await;
    let a = admin(&srv);
    call(&srv, "POST", "/auth/users", Some(&a), Some(json!({"id": "dev"}))).await;
    let enc =
        percent_encoding::utf8_percent_encode("arn:aws:sts::1:assumed-role/Dev", percent_encoding::NON_ALPHANUMERIC);
    call(&srv, "POST", &format!("/auth/users/dev/external/principals?principalId={enc}"), Some(&a), None).await;
    let login = |body: Value| call(&srv, "POST", "/auth/external/principal/login", None, Some(body));

    let good = identity_request(&stub.host, Some("lakefs.test"), ("AKIASTUB", "stub-secret"));
    let (st, token) = login(json!({"identityRequest": good, "token_expiration_duration": 120})).await;
    assert_eq!(st, 200, "{token}");
    let other_host = identity_request("127.0.0.1:1", Some("lakefs.test"), ("AKIASTUB", "stub-secret"));
    // lakeFS maps its authentication service's refusals to these texts (the cause is logged)
    let invalid = (401, json!("invalid token format"));
    let (st, err) = login(json!({ "identityRequest": other_host })).await;
    assert_eq!((st, err["message"].clone()), invalid, "STS host not allowed");
    let unsigned = identity_request(&stub.host, None, ("AKIASTUB", "stub-secret"));
    assert_eq!(login(json!({ "identityRequest": unsigned })).await.0, 401);
    let wrong_id = identity_request(&stub.host, Some("other-lakefs"), ("AKIASTUB", "stub-secret"));
    let (st, err) = login(json!({ "identityRequest": wrong_id })).await;
    assert_eq!((st, err["message"].clone()), invalid, "STS refused");
    assert_eq!(login(json!({"identityRequest": {"identity_token": "%%%"}})).await.0, 401);
    let (st, err) = login(json!({"identityRequest": {}})).await;
    assert_eq!((st, err["message"].clone()), (400, json!("invalid request")));
    // An identity STS vouches for but bound to no user: GetExternalPrincipal's 404
    let stranger = StsStub::start("arn:aws:sts::1:assumed-role/Nobody/s", Some(("AKIASTUB", "stub-secret"))).await;
    srv.state.allow_sts_host(&stranger.host);
    let unbound = identity_request(&stranger.host, Some("lakefs.test"), ("AKIASTUB", "stub-secret"));
    let (st, err) = login(json!({ "identityRequest": unbound })).await;
    assert_eq!((st, err["message"].clone()), (404, json!("not found")));
    assert_eq!(srv.state.external_login_count(), 1);
    assert_eq!(stub.requests().len(), 2, "refusals before STS never reach it");
    srv.stop().await;

    // With no STS host allowed every external login is refused.
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let good = identity_request(&stub.host, Some(srv.state.server_id()), ("AKIASTUB", "stub-secret"));
    let (st, _) =
        call(&srv, "POST", "/auth/external/principal/login", None, Some(json!({ "identityRequest": good }))).await;
    assert_eq!(st, 401);
    srv.stop().await;
}

#[tokio::test]
async fn external_principal_login_issues_a_token_for_the_bound_user() {
    // An STS stand-in that checks no signature: the embedded server must not check it either.
    let stub = StsStub::start("arn:aws:sts::1:assumed-role/Dev/john", None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.sts_allowed_hosts = vec!["sts.example".into(), stub.host.to_uppercase()];
    let srv = Server::start_config(cfg).await;
    let a = admin(&srv);
    for (user, arn) in [("foo", "arn:aws:sts::1:assumed-role/Dev"), ("john", "arn:aws:sts::1:assumed-role/Dev/john")] {
        call(&srv, "POST", "/auth/users", Some(&a), Some(json!({ "id": user }))).await;
        let enc = percent_encoding::utf8_percent_encode(arn, percent_encoding::NON_ALPHANUMERIC);
        call(&srv, "POST", &format!("/auth/users/{user}/external/principals?principalId={enc}"), Some(&a), None).await;
    }
    let mut req = identity_request(&stub.host, Some(srv.state.server_id()), ("AKIAX", "whatever"));
    req = sts_stub::with_signature(req, "00badc0ffee0");
    let before = srv.state.login_count();
    let (st, token) =
        call(&srv, "POST", "/auth/external/principal/login", None, Some(json!({"identityRequest": req}))).await;
    assert_eq!(st, 200, "{token}");
    let exp = token["token_expiration"].as_i64().unwrap();
    let now = lakefs_embedded::catalog::now_unix();
    assert!((exp - now - 168 * 3600).abs() < 60, "default lifetime is lakeFS's login duration");
    let bearer = format!("Bearer {}", token["token"].as_str().unwrap());
    assert_eq!(call(&srv, "GET", "/user", Some(&bearer), None).await.1["user"]["id"], "john");
    assert_eq!((srv.state.login_count(), srv.state.external_login_count()), (before + 1, 1));

    let seen = stub.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].server_id.as_deref(), Some(srv.state.server_id()));
    assert_eq!(seen[0].method, "POST");
    assert!(seen[0].query.contains("Action=GetCallerIdentity"));
    assert!(seen[0].query.contains("X-Amz-Signature=00badc0ffee0"), "the signature is forwarded as given");

    srv.stop().await;
}

/// A user whose only policy allows `statements` (`(actions, resource)` pairs): its basic auth.
async fn user_allowed(srv: &Server, id: &str, statements: &[(&[&str], String)]) -> String {
    let statement: Vec<Value> =
        statements.iter().map(|(a, r)| json!({"effect": "allow", "action": a, "resource": r})).collect();
    let policy = json!({"id": format!("only-{id}"), "statement": statement});
    assert_eq!(call(srv, "POST", "/auth/policies", Some(&admin(srv)), Some(policy)).await.0, 201);
    let (auth, _, _) = user_with_key(srv, id).await;
    let attach = format!("/auth/users/{id}/policies/only-{id}");
    assert_eq!(call(srv, "PUT", &attach, Some(&admin(srv)), None).await.0, 201);
    auth
}

/// lakeFS's denial: 401 `insufficient permissions`.
fn denied((status, body): (u16, Value)) {
    assert_eq!((status, body["message"].as_str()), (401, Some("insufficient permissions")), "{body}");
}

/// Writes `path` on `branch` and commits it (as the admin).
async fn admin_commit(srv: &Server, repo: &str, branch: &str, path: &str) -> String {
    let c = srv.client();
    c.upload_object(repo, branch, path, upload_of(path.as_bytes().to_vec())).await.unwrap();
    c.commit(repo, branch, &CommitCreation { message: format!("add {path}"), ..Default::default() }).await.unwrap().id
}

/// Each operation needs exactly the permission node lakeFS's controller checks
/// (`pkg/api/controller.go` v1.84.0): a user allowed exactly that node succeeds, a user allowed
/// something close to it (another branch, a missing half of an `And` node) gets 401.
#[tokio::test]
async fn each_operation_checks_lakefs_permission_node() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    std::fs::write(source.join("in.txt"), "imported").unwrap();
    let mut cfg = config(&dir.path().join("data"), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.import_roots = vec![source.clone()];
    let srv = Server::start_config(cfg).await;
    let (a, c) = (admin(&srv), srv.client());
    let r = "perms";
    c.create_repository(&repo_creation(r)).await.unwrap();
    let arn = |rest: &str| format!("arn:lakefs:fs:::repository/{r}{rest}");
    let branch = json!({"name": "feature", "source": "main"});
    assert_eq!(call(&srv, "POST", &format!("/repositories/{r}/branches"), Some(&a), Some(branch)).await.0, 201);
    let first = admin_commit(&srv, r, "main", "a.txt").await;

    // mergeIntoBranch: fs:CreateCommit on the destination branch (nothing on the source)
    admin_commit(&srv, r, "feature", "f1.txt").await;
    let merge = format!("/repositories/{r}/refs/feature/merge/main");
    let no = user_allowed(&srv, "merge-no", &[(&["fs:CreateCommit"], arn("/branch/feature"))]).await;
    denied(call(&srv, "POST", &merge, Some(&no), Some(json!({}))).await);
    let yes = user_allowed(&srv, "merge-yes", &[(&["fs:CreateCommit"], arn("/branch/main"))]).await;
    assert_eq!(call(&srv, "POST", &merge, Some(&yes), Some(json!({}))).await.0, 200);

    // mergePullRequest: the pull request is read first (404 before any check), then
    // fs:CreateCommit on its destination branch and pr:WritePullRequest on the repository
    admin_commit(&srv, r, "feature", "f2.txt").await;
    let pr = json!({"title": "t", "source_branch": "feature", "destination_branch": "main"});
    let (st, created) = call(&srv, "POST", &format!("/repositories/{r}/pulls"), Some(&a), Some(pr)).await;
    assert_eq!(st, 201);
    let merge_pr = format!("/repositories/{r}/pulls/{}/merge", created["id"].as_str().unwrap());
    let repo_wide = [(&["pr:WritePullRequest", "fs:CreateCommit"][..], arn(""))];
    let no = user_allowed(&srv, "pr-no", &repo_wide).await;
    denied(call(&srv, "PUT", &merge_pr, Some(&no), None).await);
    let unknown = format!("/repositories/{r}/pulls/00000000000000000000/merge");
    assert_eq!(call(&srv, "PUT", &unknown, Some(&no), None).await.0, 404);
    let half = user_allowed(&srv, "pr-half", &[(&["fs:CreateCommit"], arn("/branch/main"))]).await;
    denied(call(&srv, "PUT", &merge_pr, Some(&half), None).await);
    let exact = [(&["fs:CreateCommit"][..], arn("/branch/main")), (&["pr:WritePullRequest"][..], arn(""))];
    let yes = user_allowed(&srv, "pr-yes", &exact).await;
    let (st, body) = call(&srv, "PUT", &merge_pr, Some(&yes), None).await;
    assert_eq!(st, 200, "{body}");

    // hardResetBranch: fs:RevertBranch on the branch
    let reset = format!("/repositories/{r}/branches/main/hard_reset?ref={first}");
    let no = user_allowed(&srv, "reset-no", &[(&["fs:RevertBranch"], arn("/branch/feature"))]).await;
    denied(call(&srv, "PUT", &reset, Some(&no), None).await);
    let yes = user_allowed(&srv, "reset-yes", &[(&["fs:RevertBranch"], arn("/branch/main"))]).await;
    assert_eq!(call(&srv, "PUT", &reset, Some(&yes), None).await.0, 204);

    // copyObject: fs:ReadObject on the source and fs:WriteObject on the destination
    let copy = format!("/repositories/{r}/branches/main/objects/copy?dest_path=copy.txt");
    let no = user_allowed(&srv, "copy-no", &[(&["fs:WriteObject"], arn("/object/copy.txt"))]).await;
    denied(call(&srv, "POST", &copy, Some(&no), Some(json!({"src_path": "a.txt"}))).await);
    let exact = [(&["fs:ReadObject"][..], arn("/object/a.txt")), (&["fs:WriteObject"][..], arn("/object/copy.txt"))];
    let yes = user_allowed(&srv, "copy-yes", &exact).await;
    assert_eq!(call(&srv, "POST", &copy, Some(&yes), Some(json!({"src_path": "a.txt"}))).await.0, 201);

    // linkPhysicalAddress (and getPhysicalAddress): fs:WriteObject on the object
    let yes = user_allowed(&srv, "link-yes", &[(&["fs:WriteObject"], arn("/object/linked.txt"))]).await;
    let backing = format!("/repositories/{r}/branches/main/staging/backing?path=linked.txt");
    let (st, loc) = call(&srv, "GET", &format!("{backing}&presign=true"), Some(&yes), None).await;
    assert_eq!(st, 200, "{loc}");
    let data = b"linked bytes".to_vec();
    let (st, headers, _) = raw(&raw_client(), "PUT", loc["presigned_url"].as_str().unwrap(), &[], data.clone()).await;
    assert_eq!(st, 200);
    let etag = headers["etag"].to_str().unwrap().trim_matches('"').to_string();
    let link = json!({"staging": {"physical_address": loc["physical_address"]}, "checksum": etag,
        "size_bytes": data.len()});
    let no = user_allowed(&srv, "link-no", &[(&["fs:WriteObject"], arn("/object/other.txt"))]).await;
    denied(call(&srv, "PUT", &backing, Some(&no), Some(link.clone())).await);
    let (st, body) = call(&srv, "PUT", &backing, Some(&yes), Some(link)).await;
    assert_eq!(st, 200, "{body}");

    // importStart: fs:WriteObject and fs:CreateCommit on the branch, fs:ImportFromStorage on each
    // source (a namespace ARN), fs:WriteObject on each destination (an object ARN)
    if test_s3().is_none() {
        c.commit(r, "main", &CommitCreation { message: "staged".into(), ..Default::default() }).await.unwrap();
        let src = format!("local://{}/", source.canonicalize().unwrap().display());
        let import = format!("/repositories/{r}/branches/main/import");
        let body = json!({"paths": [{"type": "common_prefix", "path": src, "destination": "imported/"}],
            "commit": {"message": ""}});
        // what the embedded server used to check
        let old = [(&["fs:ImportFromStorage"][..], "*".to_string()), (&["fs:CreateCommit"][..], arn("/branch/main"))];
        let no = user_allowed(&srv, "import-no", &old).await;
        denied(call(&srv, "POST", &import, Some(&no), Some(body.clone())).await);
        let exact = [
            (&["fs:WriteObject", "fs:CreateCommit"][..], arn("/branch/main")),
            (&["fs:ImportFromStorage"][..], format!("arn:lakefs:fs:::namespace/{src}")),
            (&["fs:WriteObject"][..], arn("/object/imported/")),
        ];
        let yes = user_allowed(&srv, "import-yes", &exact).await;
        let (st, started) = call(&srv, "POST", &import, Some(&yes), Some(body)).await;
        assert_eq!(st, 202, "{started}");
        let status = format!("{import}?id={}", started["id"].as_str().unwrap());
        loop {
            let (st, s) = call(&srv, "GET", &status, Some(&a), None).await;
            assert_eq!((st, s.get("error")), (200, None), "{s}");
            if s["completed"] == true {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    srv.stop().await;
}

/// The operations whose permission node is one fixed action on a resource named by the path (or,
/// for `createBranch` and `createRepository`, the body), as lakeFS's controller checks it
/// (`pkg/api/controller.go` v1.84.0). One row per operation: the request, a policy allowing
/// exactly lakeFS's node, one allowing something close to it (another branch, repository or
/// object, the wrong action, half of an `And` node), and the allowed caller's status. The close
/// policy gets 401 `insufficient permissions`, except `headObject` (401 without a body) and
/// `getConfig` (lakeFS logs the denial and answers 200 with the same config).
#[tokio::test]
async fn each_plain_operation_checks_lakefs_permission_node() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    std::fs::create_dir_all(&source).unwrap();
    let mut cfg = config(&dir.path().join("data"), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.import_roots = vec![source];
    let srv = Server::start_config(cfg).await;
    let (a, c) = (admin(&srv), srv.client());
    let r = "perms";
    c.create_repository(&repo_creation(r)).await.unwrap();
    let first = admin_commit(&srv, r, "main", "a.txt").await;
    for name in ["feature", "doomed"] {
        let branch = json!({"name": name, "source": "main"});
        assert_eq!(call(&srv, "POST", &format!("/repositories/{r}/branches"), Some(&a), Some(branch)).await.0, 201);
    }
    admin_commit(&srv, r, "feature", "f.txt").await;
    c.upload_object(r, "feature", "staged.txt", upload_of(b"staged".to_vec())).await.unwrap();
    c.upload_object(r, "main", "del.txt", upload_of(b"del".to_vec())).await.unwrap();
    let pr = json!({"title": "t", "source_branch": "feature", "destination_branch": "main"});
    let (st, created) = call(&srv, "POST", &format!("/repositories/{r}/pulls"), Some(&a), Some(pr.clone())).await;
    assert_eq!(st, 201);
    let pull = format!("/repositories/{r}/pulls/{}", created["id"].as_str().unwrap());
    let made = namespace("made");
    let made_ns = format!("arn:lakefs:fs:::namespace/{made}");

    let arn = |rest: &str| format!("arn:lakefs:fs:::repository/{r}{rest}");
    let other = || "arn:lakefs:fs:::repository/other".to_string();
    let rp = |rest: &str| format!("/repositories/{r}{rest}");
    type Node = (&'static [&'static str], String);
    type Row = (&'static str, &'static str, String, Option<Value>, Vec<Node>, Vec<Node>, u16);
    let one = |action: &'static [&'static str], resource: String| -> Vec<Node> { vec![(action, resource)] };
    #[rustfmt::skip]
    let table: Vec<Row> = vec![
        // (operation, method, path, body, exact node, close node, allowed status)
        ("importStatus", "GET", rp("/branches/main/import?id=none"), None,
            one(&["fs:ReadBranch"], arn("/branch/main")), one(&["fs:ReadBranch"], arn("/branch/feature")), 404),
        ("importCancel", "DELETE", rp("/branches/main/import?id=none"), None,
            one(&["fs:ImportCancel"], arn("/branch/main")), one(&["fs:ReadBranch"], arn("/branch/main")), 404),
        ("createPullRequest", "POST", rp("/pulls"), Some(pr),
            one(&["pr:WritePullRequest"], arn("")), one(&["pr:WritePullRequest"], other()), 201),
        ("updatePullRequest", "PATCH", pull.clone(), Some(json!({"title": "t2"})),
            one(&["pr:WritePullRequest"], arn("")), one(&["pr:ReadPullRequest"], arn("")), 200),
        ("getPullRequest", "GET", pull, None,
            one(&["pr:ReadPullRequest"], arn("")), one(&["pr:ListPullRequests"], arn("")), 200),
        ("listPullRequests", "GET", rp("/pulls"), None,
            one(&["pr:ListPullRequests"], arn("")), one(&["pr:ReadPullRequest"], arn("")), 200),
        ("deleteObject", "DELETE", rp("/branches/main/objects?path=del.txt"), None,
            one(&["fs:DeleteObject"], arn("/object/del.txt")), one(&["fs:DeleteObject"], arn("/object/a.txt")), 204),
        ("headObject", "HEAD", rp("/refs/main/objects?path=a.txt"), None,
            one(&["fs:ReadObject"], arn("/object/a.txt")), one(&["fs:ReadObject"], arn("/object/b.txt")), 200),
        ("commit", "POST", rp("/branches/feature/commits"), Some(json!({"message": "m"})),
            one(&["fs:CreateCommit"], arn("/branch/feature")), one(&["fs:CreateCommit"], arn("/branch/main")), 201),
        ("getCommit", "GET", rp(&format!("/commits/{first}")), None,
            one(&["fs:ReadCommit"], arn("")), one(&["fs:ListCommits"], arn("")), 200),
        ("logCommits", "GET", rp("/refs/main/commits"), None,
            one(&["fs:ReadBranch"], arn("/branch/main")), one(&["fs:ReadCommit"], arn("")), 200),
        ("createBranch", "POST", rp("/branches"), Some(json!({"name": "new", "source": "main"})),
            one(&["fs:CreateBranch"], arn("/branch/new")), one(&["fs:CreateBranch"], arn("/branch/main")), 201),
        ("getBranch", "GET", rp("/branches/main"), None,
            one(&["fs:ReadBranch"], arn("/branch/main")), one(&["fs:ReadBranch"], arn("/branch/feature")), 200),
        ("deleteBranch", "DELETE", rp("/branches/doomed"), None,
            one(&["fs:DeleteBranch"], arn("/branch/doomed")), one(&["fs:DeleteBranch"], arn("/branch/feature")), 204),
        ("listBranches", "GET", rp("/branches"), None,
            one(&["fs:ListBranches"], arn("")), one(&["fs:ListBranches"], other()), 200),
        ("createRepository", "POST", "/repositories".into(), Some(json!({"name": "made", "storage_namespace": made})),
            vec![(&["fs:CreateRepository"], "arn:lakefs:fs:::repository/made".into()), (&["fs:AttachStorageNamespace"], made_ns)],
            one(&["fs:CreateRepository"], "arn:lakefs:fs:::repository/made".into()), 201),
        ("getRepository", "GET", rp(""), None,
            one(&["fs:ReadRepository"], arn("")), one(&["fs:ReadRepository"], other()), 200),
        ("deleteRepository", "DELETE", "/repositories/made".into(), None,
            one(&["fs:DeleteRepository"], "arn:lakefs:fs:::repository/made".into()), one(&["fs:DeleteRepository"], arn("")), 204),
        ("getStorageConfig", "GET", "/config/storage".into(), None,
            one(&["fs:ReadConfig"], "*".into()), one(&["fs:ReadRepository"], "*".into()), 200),
        ("getConfig", "GET", "/config".into(), None,
            one(&["fs:ReadConfig"], "*".into()), one(&["fs:ReadRepository"], "*".into()), 200),
    ];
    for (op, method, path, body, exact, close, ok) in table {
        let send = |auth: String| {
            let (path, body) = (path.clone(), body.clone());
            let srv = &srv;
            async move {
                let headers = [("content-type", "application/json"), ("authorization", auth.as_str())];
                let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
                let url = format!("{}{path}", srv.api_endpoint);
                raw(&raw_client(), method, &url, &headers, bytes).await
            }
        };
        let near = user_allowed(&srv, &format!("{op}-close"), &close).await;
        let (st, headers, out) = send(near).await;
        let out_json = serde_json::from_slice(&out).unwrap_or(Value::Null);
        let yes = user_allowed(&srv, &format!("{op}-exact"), &exact).await;
        match op {
            "headObject" => {
                let length = headers.get("content-length").map(|v| v.to_str().unwrap().to_string());
                assert_eq!((st, length.as_deref().unwrap_or("0"), out.len()), (401, "0", 0), "{op}");
            }
            "getConfig" => {
                assert_eq!(st, 200, "{op}: {out_json}");
                let (st, _, allowed) = send(yes).await;
                assert_eq!(st, 200, "{op}");
                let allowed: Value = serde_json::from_slice(&allowed).unwrap();
                assert_eq!(out_json, allowed, "{op}: the denied caller gets the same config");
                // import roots are configured; the S3 blockstore (the SeaweedFS pass) imports nothing
                let local = common::test_s3().is_none();
                assert_eq!(allowed["storage_config"]["import_support"], local, "import support");
                continue;
            }
            _ => denied((st, out_json)),
        }
        let (st, _, out) = send(yes).await;
        assert_eq!(st, ok, "{op}: {}", String::from_utf8_lossy(&out));
    }
    // headObject's other errors are the status alone too (`handleApiErrorCallback`)
    let url = format!("{}{}", srv.api_endpoint, rp("/refs/main/objects?path=none"));
    let (st, headers, _) = raw(&raw_client(), "HEAD", &url, &[("authorization", a.as_str())], vec![]).await;
    let length = headers.get("content-length").map(|v| v.to_str().unwrap().to_string());
    assert_eq!((st, length.as_deref().unwrap_or("0")), (404, "0"));
    srv.stop().await;
}

/// lakeFS's `deleteObjects` with denied paths (`controller.go` `DeleteObjects`): each denial's
/// `authorize` writes a 401 `{"message"}`, the final `ObjectErrorList` is appended after them and
/// the 401 status stays. A path the caller may delete is deleted all the same.
async fn delete_objects_denial_is_lakefs_wire_answer(srv: &Server, reader: &str) {
    let a = basic(&srv.access_key_id, &srv.secret_access_key);
    let allow = json!({"id": "DelKeep", "statement": [
        {"effect": "allow", "action": ["fs:DeleteObject"], "resource": "arn:lakefs:fs:::repository/ro-repo/object/keep/*"}]});
    assert_eq!(call(srv, "POST", "/auth/policies", Some(&a), Some(allow)).await.0, 201);
    assert_eq!(call(srv, "PUT", "/auth/users/reader/policies/DelKeep", Some(&a), None).await.0, 201);
    let admin = srv.client();
    admin.upload_object("ro-repo", "main", "keep/x", upload_of(b"x".to_vec())).await.unwrap();
    let url = format!("{}/repositories/ro-repo/branches/main/objects/delete", srv.api_endpoint);
    let body = json!({"paths": ["a.txt", "keep/x", "b/none"]}).to_string().into_bytes();
    let headers = [("content-type", "application/json"), ("authorization", reader)];
    let (status, _, out) = raw(&raw_client(), "POST", &url, &headers, body).await;
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(status, 401, "{text}");
    assert_eq!(lines.len(), 3, "{text}");
    assert_eq!(lines[0], r#"{"message":"insufficient permissions"}"#);
    assert_eq!(lines[1], lines[0]);
    let list: serde_json::Value = serde_json::from_str(lines[2]).unwrap();
    let denied: Vec<&str> = list["errors"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert_eq!(denied, ["a.txt", "b/none"], "{text}");
    assert_eq!(list["errors"][0]["status_code"], 401);
    assert_eq!(list["errors"][0]["message"], "Unauthorized");
    let gone = admin.stat_object("ro-repo", "main", "keep/x", false).await.unwrap_err();
    assert_eq!(gone.status().unwrap(), 404, "the allowed path is deleted");
    assert!(admin.stat_object("ro-repo", "main", "a.txt", false).await.is_ok());
    call(srv, "DELETE", "/auth/users/reader/policies/DelKeep", Some(&a), None).await;
}

/// lakeFS v1.84's `listRepositories` (`controller.go` `ListRepositories`): 401 unless some policy
/// allows `fs:ListRepositories` on any resource (`auth.HasActionOnAnyResource`), then only the
/// repositories the policies allow, filtered before paging (`catalog.WithListReposPermissionFilter`).
async fn list_repositories_is_filtered_by_policy(srv: &Server, r: &lakefs_api::LakeFsClient) {
    let a = basic(&srv.access_key_id, &srv.secret_access_key);
    let ids = |l: lakefs_api::dto::RepositoryList| l.results.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = ids(srv.client().list_repositories("", "", None).await.unwrap());
    assert!(all.contains(&"other-repo".to_string()) && all.contains(&"ro-repo".to_string()), "{all:?}");
    let some = json!({"id": "ListRo", "statement": [
        {"effect": "allow", "action": ["fs:List*"], "resource": "arn:lakefs:fs:::repository/ro-*"}]});
    assert_eq!(call(srv, "POST", "/auth/policies", Some(&a), Some(some)).await.0, 201);
    assert_eq!(call(srv, "PUT", "/auth/users/reader/policies/ListRo", Some(&a), None).await.0, 201);
    assert_eq!(ids(r.list_repositories("", "", None).await.unwrap()), ["ro-repo"]);
    let page = r.list_repositories("", "", Some(1)).await.unwrap();
    assert_eq!((ids(page.clone()), page.pagination.has_more), (vec!["ro-repo".to_string()], false));
    assert!(r.list_repositories("", "ro-repo", None).await.unwrap().results.is_empty());
    let deny = json!({"id": "NoListRo", "statement": [
        {"effect": "deny", "action": ["fs:ListRepositories"], "resource": "arn:lakefs:fs:::repository/ro-repo"}]});
    call(srv, "POST", "/auth/policies", Some(&a), Some(deny)).await;
    call(srv, "PUT", "/auth/users/reader/policies/NoListRo", Some(&a), None).await;
    assert!(r.list_repositories("", "", None).await.unwrap().results.is_empty(), "deny wins, the gate still passes");
    for p in ["ListRo", "NoListRo"] {
        call(srv, "DELETE", &format!("/auth/users/reader/policies/{p}"), Some(&a), None).await;
    }
    assert_eq!(status(r.list_repositories("", "", None).await), 401);
}
