//! The gateway's lakeFS client tolerates what a lakeFS server may add or leave out: real answers of
//! the embedded server for every operation the gateway uses, replayed to the real
//! [`LakeFsClient`] from a loopback server after mutating them by lakeFS's OpenAPI spec
//! (`../shared/reference/lakefs-swagger.yml` beside the checkout, or `$LAKEGATE_LAKEFS_SWAGGER`):
//! unknown fields added at every object level, and every field the spec marks optional removed
//! (optional scalars only, with optional objects kept and thinned recursively; then every optional
//! field). The client must decode each variant.

mod common;

use bytes::Bytes;
use common::sts_stub::{self, StsStub, identity_request};
use common::*;
use http_body_util::Full;
use lakefs_api::auth_dto::ExternalLoginInformation;
use lakefs_api::client::{ClientConfig, Credentials, LakeFsClient, ListObjectsParams};
use lakefs_api::dto::{CompletePresignMultipartUpload, StagingLocation, StagingMetadata, UploadPart};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

// ---- the spec's schemas (a reader for the layout of lakeFS's swagger.yml) -----------------------

/// Where a property's value points.
#[derive(Debug, Clone)]
enum Kind {
    Obj(String),
    Arr(String),
}

#[derive(Debug, Default)]
struct Schema {
    required: BTreeSet<String>,
    props: BTreeMap<String, Kind>,
    /// an array schema's item schema (`StorageConfigList`)
    items: Option<String>,
    /// has `properties` (a map such as `ObjectUserMetadata` has none: unknown keys are its data)
    has_properties: bool,
}

fn spec_path() -> PathBuf {
    match std::env::var_os("LAKEGATE_LAKEFS_SWAGGER") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/reference/lakefs-swagger.yml"),
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn ref_name(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("$ref:")?.trim().trim_matches('"').trim_matches('\'');
    Some(rest.strip_prefix("#/components/schemas/")?.to_string())
}

/// `components.schemas` of the spec: required fields, properties that hold schemas, array items.
fn load_schemas() -> BTreeMap<String, Schema> {
    let path = spec_path();
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "lakeFS OpenAPI spec not readable at {} ({e}): this test needs lakeFS v1.84.0's swagger.yml at \
             ../shared/reference/lakefs-swagger.yml beside the checkout (or LAKEGATE_LAKEFS_SWAGGER)",
            path.display()
        )
    });
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|l| *l == "components:").expect("components:");
    let start = start + lines[start..].iter().position(|l| *l == "  schemas:").expect("schemas:") + 1;
    let mut out = BTreeMap::new();
    let mut i = start;
    while i < lines.len() {
        let l = lines[i];
        if !l.trim().is_empty() && indent(l) < 4 {
            break;
        }
        if indent(l) == 4 && l.trim_end().ends_with(':') && !l.trim().starts_with('#') {
            let name = l.trim().trim_end_matches(':').to_string();
            let mut s = Schema::default();
            let mut j = i + 1;
            let mut section = "";
            let mut prop: Option<String> = None;
            let mut in_items = false;
            while j < lines.len() && (lines[j].trim().is_empty() || indent(lines[j]) > 4) {
                let m = lines[j];
                let t = m.trim();
                match indent(m) {
                    6 => {
                        section = t.trim_end_matches(':');
                        s.has_properties |= section == "properties";
                        prop = None;
                        in_items = section == "items";
                    }
                    8 if section == "required" => {
                        if let Some(f) = t.strip_prefix("- ") {
                            s.required.insert(f.trim().trim_matches('"').to_string());
                        }
                    }
                    8 if section == "properties" => prop = Some(t.trim_end_matches(':').to_string()),
                    8 if in_items => s.items = ref_name(t).or(s.items.take()),
                    10 if section == "properties" => {
                        if let (Some(p), Some(r)) = (&prop, ref_name(t)) {
                            s.props.insert(p.clone(), Kind::Obj(r));
                        }
                    }
                    12 if section == "properties" => {
                        if let (Some(p), Some(r)) = (&prop, ref_name(t)) {
                            s.props.insert(p.clone(), Kind::Arr(r));
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            out.insert(name, s);
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

// ---- mutations --------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// every field kept, unknown ones added
    Extra,
    /// optional scalars removed, optional objects kept (thinned), unknown fields added
    ThinDeep,
    /// every optional field removed, unknown fields added
    Minimal,
}

fn mutate(v: &mut Value, schema: &str, mode: Mode, schemas: &BTreeMap<String, Schema>) {
    let Some(s) = schemas.get(schema) else { panic!("schema {schema} not in the spec") };
    if let Some(item) = &s.items {
        if let Value::Array(items) = v {
            for it in items {
                mutate(it, item, mode, schemas);
            }
        }
        return;
    }
    let Value::Object(obj) = v else { return };
    let keys: Vec<String> = obj.keys().cloned().collect();
    for k in keys {
        let kind = s.props.get(&k).cloned();
        if let Some(kind) = &kind {
            let child = obj.get_mut(&k).unwrap();
            match kind {
                Kind::Obj(n) => mutate(child, n, mode, schemas),
                Kind::Arr(n) => {
                    if let Value::Array(items) = child {
                        for it in items {
                            mutate(it, n, mode, schemas);
                        }
                    }
                }
            }
        }
        let optional = !s.required.contains(&k);
        let drop = match mode {
            Mode::Extra => false,
            Mode::ThinDeep => optional && kind.is_none(),
            Mode::Minimal => optional,
        };
        if drop {
            obj.remove(&k);
        }
    }
    if !s.has_properties {
        return;
    }
    obj.insert("lakegate_unknown_field".into(), json!({"nested": [1, {"x": null}], "s": "future"}));
    obj.insert("zz_unknown_scalar".into(), json!(42));
}

// ---- a loopback server answering what the test sets -------------------------------------------

#[derive(Default)]
struct Answer {
    /// the request path must contain this (the operation the client is expected to call)
    path_has: String,
    status: u16,
    body: String,
    seen: Vec<String>,
}

async fn replay_server(answer: Arc<Mutex<Answer>>) -> String {
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let answer = answer.clone();
                    async move {
                        let mut a = answer.lock().unwrap();
                        let target = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
                        a.seen.push(format!("{} {target}", req.method()));
                        let (status, body) = if target.contains(&a.path_has) {
                            (a.status, a.body.clone())
                        } else {
                            (404, json!({"message": format!("replay: unexpected {target}")}).to_string())
                        };
                        Ok::<_, std::convert::Infallible>(
                            http::Response::builder()
                                .status(status)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(conn), svc).await;
            });
        }
    });
    format!("http://{addr}/api/v1")
}

// ---- the real answers -------------------------------------------------------------------------

/// One recorded answer: operation, spec schema of its body, status and body.
struct Recorded {
    op: &'static str,
    schema: &'static str,
    status: u16,
    body: Value,
}

async fn ok(srv: &Server, method: &str, path: &str, auth: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let (st, v) = call(srv, method, path, auth, body).await;
    assert!((200..300).contains(&st), "{method} {path}: {st} {v}");
    (st, v)
}

async fn record(srv: &Server, stub_host: &str) -> Vec<Recorded> {
    let a = basic(&srv.access_key_id, &srv.secret_access_key);
    let a = Some(a.as_str());
    let mut out = Vec::new();
    let mut rec = |op, schema, (status, body): (u16, Value)| out.push(Recorded { op, schema, status, body });

    rec("getConfig", "Config", ok(srv, "GET", "/config", a, None).await);
    let name = "extra";
    let creation = serde_json::to_value(repo_creation(name)).unwrap();
    ok(srv, "POST", "/repositories", a, Some(creation)).await;
    rec("getRepository", "Repository", ok(srv, "GET", &format!("/repositories/{name}"), a, None).await);

    // getPhysicalAddress → PUT the bytes → linkPhysicalAddress
    let staging = format!("/repositories/{name}/branches/main/staging/backing?path=dir/a.txt");
    let got = ok(srv, "GET", &format!("{staging}&presign=true"), a, None).await;
    let loc: StagingLocation = serde_json::from_value(got.1.clone()).unwrap();
    rec("getPhysicalAddress", "StagingLocation", got);
    let data = b"hello extra fields".to_vec();
    let (st, _, _) = raw(&raw_client(), "PUT", loc.presigned_url.as_deref().unwrap(), &[], data.clone()).await;
    assert!((200..300).contains(&st), "presigned PUT: {st}");
    let meta = json!({
        "staging": {"physical_address": loc.physical_address},
        "checksum": md5_hex(&data),
        "size_bytes": data.len(),
        "user_metadata": {"k": "v"},
        "content_type": "text/plain",
    });
    rec("linkPhysicalAddress", "ObjectStats", ok(srv, "PUT", &staging, a, Some(meta)).await);
    let reff = format!("/repositories/{name}/refs/main/objects");
    rec(
        "statObject",
        "ObjectStats",
        ok(srv, "GET", &format!("{reff}/stat?path=dir/a.txt&presign=true"), a, None).await,
    );
    let listed = ok(srv, "GET", &format!("{reff}/ls?delimiter=/&user_metadata=true"), a, None).await;
    assert!(!listed.1["results"].as_array().unwrap().is_empty());
    rec("listObjects", "ObjectStatsList", listed);
    rec("listObjects", "ObjectStatsList", ok(srv, "GET", &format!("{reff}/ls?user_metadata=true"), a, None).await);

    // presigned multipart upload of one part
    let pmpu = format!("/repositories/{name}/branches/main/staging/pmpu");
    let created = ok(srv, "POST", &format!("{pmpu}?path=big.bin&parts=1"), a, None).await;
    let (upload_id, address) = (
        created.1["upload_id"].as_str().unwrap().to_string(),
        created.1["physical_address"].as_str().unwrap().to_string(),
    );
    let part_url = created.1["presigned_urls"][0].as_str().unwrap().to_string();
    rec("createPresignMultipartUpload", "PresignMultipartUpload", created);
    let part = ok(
        srv,
        "PUT",
        &format!("{pmpu}/{upload_id}/parts/1?path=big.bin"),
        a,
        Some(json!({"physical_address": address})),
    )
    .await;
    rec("uploadPart", "UploadTo", part);
    let (st, headers, _) = raw(&raw_client(), "PUT", &part_url, &[], pattern(1000, 3)).await;
    assert!((200..300).contains(&st), "part PUT: {st}");
    let etag = headers.get("etag").unwrap().to_str().unwrap().trim_matches('"').to_string();
    let complete = json!({"physical_address": address, "parts": [{"part_number": 1, "etag": etag}]});
    let done = ok(srv, "PUT", &format!("{pmpu}/{upload_id}?path=big.bin"), a, Some(complete)).await;
    rec("completePresignMultipartUpload", "ObjectStats", done);

    rec("getCurrentUser", "CurrentUser", ok(srv, "GET", "/user", a, None).await);

    // externalPrincipalLogin against the STS stand-in
    ok(srv, "POST", "/auth/users", a, Some(json!({"id": "john"}))).await;
    let arn = percent_encoding::utf8_percent_encode(
        "arn:aws:sts::1:assumed-role/Dev/john",
        percent_encoding::NON_ALPHANUMERIC,
    );
    ok(srv, "POST", &format!("/auth/users/john/external/principals?principalId={arn}"), a, None).await;
    let req = sts_stub::with_signature(
        identity_request(stub_host, Some(srv.state.server_id()), ("AKIAX", "whatever")),
        "00badc0ffee0",
    );
    let login = ok(srv, "POST", "/auth/external/principal/login", None, Some(json!({"identityRequest": req}))).await;
    rec("externalPrincipalLogin", "AuthenticationToken", login);
    out
}

/// Calls the client method of `op`; the path fragment the replay server must see.
async fn call_op(c: &LakeFsClient, op: &str) -> (&'static str, Result<String, lakefs_api::LakeFsError>) {
    fn dbg<T: std::fmt::Debug>(r: Result<T, lakefs_api::LakeFsError>) -> Result<String, lakefs_api::LakeFsError> {
        r.map(|v| format!("{v:?}"))
    }
    let complete = CompletePresignMultipartUpload {
        physical_address: "data/x".into(),
        parts: vec![UploadPart { part_number: 1, etag: "e".into() }],
        ..Default::default()
    };
    let meta = StagingMetadata {
        staging: StagingLocation { physical_address: Some("data/x".into()), ..Default::default() },
        checksum: "c".into(),
        size_bytes: 1,
        user_metadata: None,
        content_type: None,
        mtime: None,
        force: None,
    };
    match op {
        "getConfig" => ("/config", dbg(c.get_config().await)),
        "getRepository" => ("/repositories/r", dbg(c.get_repository("r").await)),
        "statObject" => ("/objects/stat", dbg(c.stat_object("r", "main", "p", true).await)),
        "listObjects" => {
            let p = ListObjectsParams { delimiter: "/", user_metadata: true, ..Default::default() };
            ("/objects/ls", dbg(c.list_objects("r", "main", &p).await))
        }
        "getPhysicalAddress" => ("/staging/backing", dbg(c.get_physical_address("r", "main", "p", true).await)),
        "linkPhysicalAddress" => {
            ("/staging/backing", dbg(c.link_physical_address("r", "main", "p", &meta, false).await))
        }
        "createPresignMultipartUpload" => {
            ("/staging/pmpu", dbg(c.create_presign_multipart_upload("r", "main", "p", Some(1)).await))
        }
        "uploadPart" => {
            let from = lakefs_api::dto::UploadPartFrom { physical_address: "data/x".into() };
            ("/parts/1", dbg(c.upload_part("r", "main", "p", "u", 1, &from).await))
        }
        "completePresignMultipartUpload" => {
            ("/staging/pmpu/u", dbg(c.complete_presign_multipart_upload("r", "main", "p", "u", &complete).await))
        }
        "getCurrentUser" => ("/user", dbg(c.get_current_user().await)),
        "externalPrincipalLogin" => {
            let info =
                ExternalLoginInformation { identity_request: serde_json::Map::new(), token_expiration_duration: None };
            ("/auth/external/principal/login", dbg(c.external_principal_login(&info).await))
        }
        other => panic!("no client call for {other}"),
    }
}

#[tokio::test]
async fn the_client_decodes_answers_with_unknown_fields_and_without_optional_ones() {
    let schemas = load_schemas();
    for n in ["Config", "StorageConfig", "ObjectStats", "ObjectStatsList", "Pagination", "CurrentUser"] {
        assert!(schemas.contains_key(n), "schema {n} read from the spec");
    }
    assert!(schemas["ObjectStats"].required.contains("mtime"), "{:?}", schemas["ObjectStats"]);
    assert!(
        matches!(schemas["Config"].props.get("storage_config_list"), Some(Kind::Obj(n)) if n == "StorageConfigList")
    );
    assert_eq!(schemas["StorageConfigList"].items.as_deref(), Some("StorageConfig"));
    assert!(matches!(schemas["ObjectStatsList"].props.get("results"), Some(Kind::Arr(n)) if n == "ObjectStats"));

    let stub = StsStub::start("arn:aws:sts::1:assumed-role/Dev/john", None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path(), Some(lakefs_embedded::PRESIGN_EXPIRY));
    cfg.sts_allowed_hosts = vec![stub.host.clone()];
    let srv = Server::start_config(cfg).await;
    let recorded = record(&srv, &stub.host).await;
    srv.stop().await;

    let answer = Arc::new(Mutex::new(Answer::default()));
    let endpoint = replay_server(answer.clone()).await;
    let creds = Credentials::Basic { access_key_id: "AKIAREPLAY".into(), secret_access_key: "secret".into() };
    let client = LakeFsClient::new(ClientConfig::new(&endpoint, creds)).unwrap();

    let mut failures = Vec::new();
    let mut checked = 0;
    for r in &recorded {
        for mode in [Mode::Extra, Mode::ThinDeep, Mode::Minimal] {
            let mut body = r.body.clone();
            mutate(&mut body, r.schema, mode, &schemas);
            {
                let mut a = answer.lock().unwrap();
                a.status = r.status;
                a.body = body.to_string();
                a.path_has = String::new();
            }
            let (expect, got) = call_op(&client, r.op).await;
            let seen = answer.lock().unwrap().seen.pop().unwrap_or_default();
            assert!(seen.contains(expect), "{}: the client called {seen}, expected a path with {expect}", r.op);
            checked += 1;
            if let Err(e) = got {
                failures.push(format!("{} {:?}: {e}\n    answer: {body}", r.op, mode));
            }
        }
    }
    assert!(failures.is_empty(), "the client refused {} answer(s):\n{}", failures.len(), failures.join("\n"));
    assert_eq!(checked, 3 * recorded.len());
    // every operation the gateway uses was recorded
    let ops: BTreeSet<&str> = recorded.iter().map(|r| r.op).collect();
    assert_eq!(ops.len(), 11, "{ops:?}");
}

#[test]
fn mutations_follow_the_spec() {
    let schemas = load_schemas();
    let stats = json!({"pagination": {"has_more": false, "next_offset": "", "results": 1, "max_per_page": 1000},
        "results": [{"path": "a", "path_type": "object", "physical_address": "p", "checksum": "c", "mtime": 1,
                     "size_bytes": 3, "metadata": {"k": "v"}, "content_type": "t"}]});
    let mut v = stats.clone();
    mutate(&mut v, "ObjectStatsList", Mode::Minimal, &schemas);
    let item = &v["results"][0];
    assert!(item.get("size_bytes").is_none() && item.get("metadata").is_none() && item.get("content_type").is_none());
    assert_eq!(item["mtime"], 1);
    assert_eq!(item["zz_unknown_scalar"], 42);
    assert_eq!(v["pagination"]["zz_unknown_scalar"], 42);
    assert_eq!(v["zz_unknown_scalar"], 42);
    let mut v = stats.clone();
    mutate(&mut v, "ObjectStatsList", Mode::Extra, &schemas);
    assert_eq!(v["results"][0]["metadata"], json!({"k": "v"}), "a map gets no unknown keys");

    let cfg = json!({"version_config": {"version": "1.84.0"}, "storage_config": {"blockstore_type": "local",
        "blockstore_id": ""}, "storage_config_list": [{"blockstore_type": "s3", "blockstore_id": "b"}]});
    let mut thin = cfg.clone();
    mutate(&mut thin, "Config", Mode::ThinDeep, &schemas);
    assert!(thin["storage_config"].get("blockstore_id").is_none());
    assert_eq!(thin["storage_config"]["blockstore_type"], "local");
    assert_eq!(thin["storage_config_list"][0]["zz_unknown_scalar"], 42);
    assert!(thin["storage_config_list"][0].get("blockstore_id").is_none());
    assert!(thin["version_config"].get("version").is_none());
    let mut min = cfg;
    mutate(&mut min, "Config", Mode::Minimal, &schemas);
    assert_eq!(min.as_object().unwrap().len(), 2, "{min}");
}
