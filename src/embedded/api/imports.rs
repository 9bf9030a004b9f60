//! `importStart`, `importStatus`, `importCancel` of the embedded server (see
//! [`crate::embedded::catalog::import`] for the semantics): 202 with the job id at once, the walk
//! and the commit in the background.

use crate::embedded::Embedded;
use crate::embedded::authz::Caller;
use crate::embedded::catalog::import::{ImportJob, source_path, validate, walk};
use crate::embedded::error::{ApiError, ApiResult};
use crate::embedded::http::{Body, Query, json_response, read_json, status_response};
use crate::lakefs::dto::Commit;
use crate::lakefs::workflow_dto::{ImportCreation, ImportCreationResponse};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use std::sync::Arc;

fn id_param(req: &Request<Incoming>) -> ApiResult<String> {
    let q = Query::parse(req.uri().query());
    q.get("id").filter(|v| !v.is_empty()).map(str::to_string).ok_or_else(|| ApiError::bad_request("id: required"))
}

/// `importStart`.
pub async fn import_start(
    s: &Arc<Embedded>,
    (repo, branch): (String, String),
    c: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: ImportCreation = read_json(req.into_body()).await?;
    validate(&body.paths)?;
    let (r, b) = (repo.clone(), branch.clone());
    s.db(move |m| m.get_branch(&r, &b)).await?;
    let (id, job) = s.imports.start();
    let (state, user) = (s.clone(), c.user.clone());
    tokio::spawn(async move {
        let result = run(&state, (repo, branch), body, user, &job).await;
        if !job.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
            job.finish(result);
        }
    });
    json_response(StatusCode::ACCEPTED, &ImportCreationResponse { id })
}

/// Walks every location, then commits what was found.
async fn run(
    s: &Arc<Embedded>,
    (repo, branch): (String, String),
    body: ImportCreation,
    user: String,
    job: &Arc<ImportJob>,
) -> Result<Commit, String> {
    if s.s3.is_some() {
        return Err("error on ingest: the embedded server imports from local:// sources only".into());
    }
    let (roots, locations, walker) = (s.import_roots.clone(), body.paths.clone(), job.clone());
    let files = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for loc in &locations {
            let src = source_path(&loc.path, &roots)
                .map_err(|e| format!("error on ingest: creating object-store walker on path {}: {e}", loc.path))?;
            all.extend(walk(loc, &src, &walker)?);
        }
        Ok::<_, String>(all)
    })
    .await
    .map_err(|e| e.to_string())??;
    if job.cancelled.load(std::sync::atomic::Ordering::Relaxed) {
        return Err("Canceled".into());
    }
    let locations = body.paths;
    let commit = body.commit;
    s.db(move |m| m.import_commit(&repo, &branch, (&locations, files), &commit, &user)).await.map_err(|e| e.to_string())
}

/// `importStatus`.
pub async fn import_status(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let job = s.imports.get(&id_param(&req)?)?;
    json_response(StatusCode::OK, &job.status())
}

/// `importCancel`.
pub async fn import_cancel(s: &Arc<Embedded>, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    s.imports.get(&id_param(&req)?)?.cancel()?;
    Ok(status_response(StatusCode::NO_CONTENT))
}
