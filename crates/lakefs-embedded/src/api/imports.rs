//! `importStart`, `importStatus`, `importCancel` of the embedded server (see
//! [`crate::catalog::import`] for the semantics): 202 with the job id at once, the walk
//! and the commit in the background.

use crate::Embedded;
use crate::authz::{Caller, Permission, action, arn};
use crate::catalog::import::{ImportJob, source_path, validate, walk};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, json_response, read_json, status_response};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::Commit;
use lakefs_api::workflow_dto::{ImportCreation, ImportCreationResponse, ImportStatus};
use std::sync::Arc;
use std::sync::atomic::Ordering;

fn id_param(req: &Request<Incoming>) -> ApiResult<String> {
    let q = Query::parse(req.uri().query());
    q.get("id").filter(|v| !v.is_empty()).map(str::to_string).ok_or_else(|| ApiError::bad_request("id: required"))
}

/// What `importStart` checks (lakeFS's `ImportStart`): `fs:WriteObject` and `fs:CreateCommit` on
/// the branch, and for each location `fs:ImportFromStorage` on its source as a namespace ARN and
/// `fs:WriteObject` on its destination as an object ARN.
fn start_permissions(repo: &str, branch: &str, body: &ImportCreation) -> Vec<Permission> {
    let mut perms = vec![
        Permission::new(action::WRITE_OBJECT, arn::branch(repo, branch)),
        Permission::new(action::CREATE_COMMIT, arn::branch(repo, branch)),
    ];
    for loc in &body.paths {
        perms.push(Permission::new(action::IMPORT_FROM_STORAGE, arn::namespace(&loc.path)));
        perms.push(Permission::new(action::WRITE_OBJECT, arn::object(repo, &loc.destination)));
    }
    perms
}

/// `importStart`.
pub async fn import_start(
    s: &Arc<Embedded>,
    (repo, branch): (String, String),
    c: &Caller,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let body: ImportCreation = read_json(req.into_body()).await?;
    c.require(&start_permissions(&repo, &branch, &body))?;
    validate(&body.paths)?;
    let (r, b) = (repo.clone(), branch.clone());
    s.db(move |m| m.get_branch(&r, &b)).await?;
    let (id, job) = s.imports.start();
    let (r, i, first) = (repo.clone(), id.clone(), job.status());
    if let Err(e) = s.db(move |m| m.create_import(&r, &i, &first)).await {
        s.imports.remove(&id);
        return Err(e);
    }
    let (state, user, import_id) = (s.clone(), c.user.clone(), id.clone());
    tokio::spawn(async move {
        let write = |status: ImportStatus| {
            let (r, i) = (repo.clone(), import_id.clone());
            state.db(move |m| m.write_import_status(&r, &i, &status))
        };
        let work = run(&state, (repo.clone(), branch), body, user, &job);
        tokio::pin!(work);
        // progress about every second, as lakeFS's `importStatusAsync`; a refused write means the
        // import was cancelled (or its repository deleted): stop walking
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.tick().await;
        let result = loop {
            tokio::select! {
                result = &mut work => break result,
                _ = tick.tick() => {
                    if !write(job.status()).await.unwrap_or(true) {
                        job.cancelled.store(true, Ordering::Relaxed);
                    }
                }
            }
        };
        job.finish(result);
        if let Err(e) = write(job.status()).await {
            tracing::error!(import = %import_id, %e, "writing the import status failed");
        }
        state.imports.remove(&import_id);
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
    if job.cancelled.load(Ordering::Relaxed) {
        return Err("Canceled".into());
    }
    let locations = body.paths;
    let commit = body.commit;
    s.db(move |m| m.import_commit(&repo, &branch, (&locations, files), &commit, &user)).await.map_err(|e| e.to_string())
}

/// `importStatus`: the status as last written in the catalog.
pub async fn import_status(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let id = id_param(&req)?;
    let status = s.db(move |m| m.import_status(&repo, &id)).await?;
    json_response(StatusCode::OK, &status)
}

/// `importCancel`: writes `Canceled` into the status; a job running here stops walking.
pub async fn import_cancel(s: &Arc<Embedded>, repo: String, req: Request<Incoming>) -> ApiResult<Response<Body>> {
    let id = id_param(&req)?;
    let i = id.clone();
    s.db(move |m| m.cancel_import(&repo, &i)).await?;
    if let Some(job) = s.imports.running(&id) {
        job.cancelled.store(true, Ordering::Relaxed);
    }
    Ok(status_response(StatusCode::NO_CONTENT))
}
