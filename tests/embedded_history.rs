//! An object's versions read from history over real sockets, as lakeFS v1.84.0's `logCommits`
//! answers them: `objects`/`prefixes` keep the single-parent commits that changed the path,
//! newest first, and `next_offset` pages through them; each listed commit reads that version.

mod common;

use common::*;
use serde_json::Value;

struct Api<'a> {
    srv: &'a Server,
    auth: String,
}

impl Api<'_> {
    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, doc) = call(self.srv, method, path, Some(&self.auth), body).await;
        assert!((200..300).contains(&status), "{method} {path}: {status} {doc}");
        doc
    }

    async fn upload(&self, repo: &str, branch: &str, path: &str, data: &[u8]) {
        let url = format!("{}/repositories/{repo}/branches/{branch}/objects?path={path}", self.srv.api_endpoint);
        let headers = [("authorization", self.auth.as_str()), ("content-type", "application/octet-stream")];
        let (status, _, body) = raw(&raw_client(), "POST", &url, &headers, data.to_vec()).await;
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    }

    async fn commit(&self, repo: &str, branch: &str, message: &str) -> String {
        let body = serde_json::json!({ "message": message });
        let doc = self.json("POST", &format!("/repositories/{repo}/branches/{branch}/commits"), Some(body)).await;
        doc["id"].as_str().unwrap().to_string()
    }

    /// Every commit id of `repo`'s `main` log for `query`, paging `amount` at a time through
    /// `next_offset`; and how many pages that took.
    async fn log_all(&self, repo: &str, query: &str, amount: usize) -> (Vec<String>, usize) {
        let (mut ids, mut after, mut pages) = (Vec::new(), String::new(), 0);
        loop {
            let path = format!("/repositories/{repo}/refs/main/commits?{query}&amount={amount}&after={after}");
            let doc = self.json("GET", &path, None).await;
            pages += 1;
            let results = doc["results"].as_array().unwrap();
            assert!(results.len() <= amount);
            ids.extend(results.iter().map(|c| c["id"].as_str().unwrap().to_string()));
            if !doc["pagination"]["has_more"].as_bool().unwrap() {
                assert_eq!(doc["pagination"]["next_offset"], "");
                return (ids, pages);
            }
            after = doc["pagination"]["next_offset"].as_str().unwrap().to_string();
            assert_eq!(&after, ids.last().unwrap());
        }
    }
}

/// 30 commits on `hist`'s main: `docs/k` changes in every third, `docs/other` in the rest; one
/// identical re-upload of `docs/k` rides along a commit of `docs/other` (no change of `docs/k`).
/// Returns `docs/k`'s versions `(commit id, content)` and every commit id, newest first.
async fn history(api: &Api<'_>) -> (Vec<(String, String)>, Vec<String>) {
    api.json("POST", "/repositories", Some(serde_json::to_value(repo_creation("hist")).unwrap())).await;
    let mut versions = Vec::new(); // (commit id, content of docs/k), newest last
    let mut all = Vec::new();
    for i in 0..30 {
        if i % 3 == 0 {
            let data = format!("version {i}");
            api.upload("hist", "main", "docs/k", data.as_bytes()).await;
            let id = api.commit("hist", "main", &format!("k {i}")).await;
            versions.push((id.clone(), data));
            all.push(id);
        } else {
            if i == 4 {
                api.upload("hist", "main", "docs/k", versions.last().unwrap().1.as_bytes()).await;
            }
            api.upload("hist", "main", "docs/other", format!("other {i}").as_bytes()).await;
            all.push(api.commit("hist", "main", &format!("other {i}")).await);
        }
    }
    versions.reverse();
    all.reverse();
    (versions, all)
}

#[tokio::test]
async fn an_objects_versions_are_read_from_history_page_by_page() {
    let dir = tempfile::tempdir().unwrap();
    let srv = Server::start(dir.path()).await;
    let api = Api { srv: &srv, auth: basic(&srv.access_key_id, &srv.secret_access_key) };
    let (versions, all) = history(&api).await;
    let expected: Vec<String> = versions.iter().map(|(id, _)| id.clone()).collect();
    let (ids, pages) = api.log_all("hist", "objects=docs/k", 3).await;
    assert_eq!((ids, pages), (expected.clone(), 4));
    // the commit listed for each version reads that version
    for (id, data) in &versions {
        let url = format!("{}/repositories/hist/refs/{id}/objects?path=docs/k", srv.api_endpoint);
        let (status, _, body) = raw(&raw_client(), "GET", &url, &[("authorization", api.auth.as_str())], vec![]).await;
        assert_eq!((status, String::from_utf8(body).unwrap()), (200, data.clone()));
    }
    // a prefix matches both objects: every commit but the repository's first
    let (ids, _) = api.log_all("hist", "prefixes=docs/", 7).await;
    assert_eq!(ids, all);
    let (ids, _) = api.log_all("hist", "prefixes=nothing/&objects=docs/k", 100).await;
    assert_eq!(ids, expected);
    // `limit` with `amount`: the newest versions only, and no next page
    let path = "/repositories/hist/refs/main/commits?objects=docs/k&amount=2&limit=true";
    let doc = api.json("GET", path, None).await;
    let newest: Vec<&str> = doc["results"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!((newest, doc["pagination"]["has_more"].as_bool()), (vec![&*expected[0], &*expected[1]], Some(false)));
    srv.stop().await;
}
