//! The lakeFS operations of [`LakeFsClient`], one method per REST call (lakeFS `api/swagger.yml`
//! operation names in snake case), grouped as the spec's tags are.

use super::*;

/// Health, config and auth.
impl LakeFsClient {
    /// `healthCheck` (`GET /healthcheck` → 204).
    pub async fn health_check(&self) -> Result<()> {
        let resp = self.send(Method::GET, "/healthcheck", || Ok(empty_body()), &[], Idempotent::Yes, false).await?;
        self.collect(resp).await.map(drop)
    }

    pub async fn get_config(&self) -> Result<Config> {
        self.get_json("/config").await
    }

    pub async fn get_storage_config(&self) -> Result<StorageConfig> {
        self.get_json("/config/storage").await
    }

    /// `login`: a JWT for an access key pair.
    pub async fn login(&self, access_key_id: &str, secret_access_key: &str) -> Result<AuthenticationToken> {
        let info =
            LoginInformation { access_key_id: access_key_id.into(), secret_access_key: secret_access_key.into() };
        let resp = self
            .send_once(Method::POST, "/auth/login", json_body(&info)?, &[json_header()], None, self.cfg.timeout)
            .await?;
        self.decode(resp).await
    }

    pub async fn get_current_user(&self) -> Result<CurrentUser> {
        self.get_json("/user").await
    }
}

/// Repositories, branches, commits.
impl LakeFsClient {
    pub async fn list_repositories(&self, prefix: &str, after: &str, amount: Option<u32>) -> Result<RepositoryList> {
        let q = query(&[
            ("prefix", nonempty(prefix)),
            ("after", nonempty(after)),
            ("amount", amount.map(|a| a.to_string())),
        ]);
        self.get_json(&format!("/repositories{q}")).await
    }

    pub async fn create_repository(&self, creation: &RepositoryCreation) -> Result<Repository> {
        self.send_json(Method::POST, "/repositories", creation, Idempotent::No).await
    }

    pub async fn get_repository(&self, repo: &str) -> Result<Repository> {
        self.get_json(&Self::repo_path(repo)).await
    }

    pub async fn delete_repository(&self, repo: &str) -> Result<()> {
        self.send_empty(Method::DELETE, &Self::repo_path(repo)).await
    }

    pub async fn list_branches(&self, repo: &str, prefix: &str, after: &str, amount: Option<u32>) -> Result<RefList> {
        let q = query(&[
            ("prefix", nonempty(prefix)),
            ("after", nonempty(after)),
            ("amount", amount.map(|a| a.to_string())),
        ]);
        self.get_json(&format!("{}/branches{q}", Self::repo_path(repo))).await
    }

    /// `createBranch`: the new branch's commit id (lakeFS answers it as plain text).
    pub async fn create_branch(&self, repo: &str, creation: &BranchCreation) -> Result<String> {
        let path = format!("{}/branches", Self::repo_path(repo));
        let resp =
            self.send(Method::POST, &path, || json_body(creation), &[json_header()], Idempotent::No, true).await?;
        let bytes = self.collect(resp).await?;
        String::from_utf8(bytes.to_vec()).map(|s| s.trim().to_string()).map_err(|e| LakeFsError::Decode(e.to_string()))
    }

    pub async fn get_branch(&self, repo: &str, branch: &str) -> Result<Ref> {
        self.get_json(&Self::branch_path(repo, branch)).await
    }

    pub async fn delete_branch(&self, repo: &str, branch: &str) -> Result<()> {
        self.send_empty(Method::DELETE, &Self::branch_path(repo, branch)).await
    }

    /// `diffBranch`: the branch's uncommitted changes.
    pub async fn diff_branch(&self, repo: &str, branch: &str, amount: Option<u32>) -> Result<DiffList> {
        let q = query(&[("amount", amount.map(|a| a.to_string()))]);
        self.get_json(&format!("{}/diff{q}", Self::branch_path(repo, branch))).await
    }

    pub async fn commit(&self, repo: &str, branch: &str, creation: &CommitCreation) -> Result<Commit> {
        let path = format!("{}/commits", Self::branch_path(repo, branch));
        self.send_json(Method::POST, &path, creation, Idempotent::No).await
    }

    pub async fn get_commit(&self, repo: &str, commit_id: &str) -> Result<Commit> {
        self.get_json(&format!("{}/commits/{}", Self::repo_path(repo), seg(commit_id))).await
    }

    pub async fn log_commits(
        &self,
        repo: &str,
        reference: &str,
        after: &str,
        amount: Option<u32>,
    ) -> Result<CommitList> {
        let q = query(&[("after", nonempty(after)), ("amount", amount.map(|a| a.to_string()))]);
        self.get_json(&format!("{}/commits{q}", Self::ref_path(repo, reference))).await
    }
}

/// Objects and staging.
impl LakeFsClient {
    pub async fn stat_object(&self, repo: &str, reference: &str, path: &str, presign: bool) -> Result<ObjectStats> {
        let q = query(&[("path", Some(path.into())), ("presign", presign.then(|| "true".into()))]);
        self.get_json(&format!("{}/objects/stat{q}", Self::ref_path(repo, reference))).await
    }

    pub async fn list_objects(
        &self,
        repo: &str,
        reference: &str,
        p: &ListObjectsParams<'_>,
    ) -> Result<ObjectStatsList> {
        let q = query(&[
            ("prefix", nonempty(p.prefix)),
            ("after", nonempty(p.after)),
            ("delimiter", nonempty(p.delimiter)),
            ("amount", p.amount.map(|a| a.to_string())),
            ("presign", p.presign.then(|| "true".into())),
            ("user_metadata", Some(p.user_metadata.to_string())),
        ]);
        self.get_json(&format!("{}/objects/ls{q}", Self::ref_path(repo, reference))).await
    }

    /// `getObject`: the streaming answer (200, 206, or 302 with `presign`); `range` is a `Range` value.
    pub async fn get_object(
        &self,
        repo: &str,
        reference: &str,
        path: &str,
        range: Option<&str>,
        presign: bool,
    ) -> Result<Response<Incoming>> {
        let q = query(&[("path", Some(path.into())), ("presign", presign.then(|| "true".into()))]);
        let mut headers = Vec::new();
        if let Some(r) = range {
            headers.push((header::RANGE, HeaderValue::from_str(r).map_err(|e| LakeFsError::Request(e.to_string()))?));
        }
        let p = format!("{}/objects{q}", Self::ref_path(repo, reference));
        self.send(Method::GET, &p, || Ok(empty_body()), &headers, Idempotent::Yes, true).await
    }

    /// `headObject`: status and headers only.
    pub async fn head_object(&self, repo: &str, reference: &str, path: &str) -> Result<Response<Incoming>> {
        let q = query(&[("path", Some(path.into()))]);
        let p = format!("{}/objects{q}", Self::ref_path(repo, reference));
        self.send(Method::HEAD, &p, || Ok(empty_body()), &[], Idempotent::Yes, true).await
    }

    /// `uploadObject` with an `application/octet-stream` body (bytes flow through lakeFS; not retried).
    pub async fn upload_object(&self, repo: &str, branch: &str, path: &str, upload: Upload) -> Result<ObjectStats> {
        let q = query(&[("path", Some(path.into()))]);
        let p = format!("{}/objects{q}", Self::branch_path(repo, branch));
        let bad = |e: http::header::InvalidHeaderValue| LakeFsError::Request(e.to_string());
        let mut headers = vec![
            (header::CONTENT_TYPE, HeaderValue::from_str(&upload.content_type).map_err(bad)?),
            (header::CONTENT_LENGTH, HeaderValue::from(upload.length)),
        ];
        for (k, v) in &upload.metadata {
            let name = header::HeaderName::from_bytes(format!("x-lakefs-meta-{}", k.to_ascii_lowercase()).as_bytes())
                .map_err(|e| LakeFsError::Request(e.to_string()))?;
            headers.push((name, HeaderValue::from_str(v).map_err(bad)?));
        }
        if upload.if_absent {
            headers.push((header::IF_NONE_MATCH, HeaderValue::from_static("*")));
        }
        let cell = std::sync::Mutex::new(Some(upload.body));
        let take = || {
            cell.lock().ok().and_then(|mut b| b.take()).ok_or_else(|| LakeFsError::Request("body already sent".into()))
        };
        let resp = self.send(Method::POST, &p, take, &headers, Idempotent::Slow, true).await?;
        self.decode(resp).await
    }

    /// `updateObjectUserMetadata`: replaces an object's user metadata (no data copy).
    pub async fn update_object_user_metadata(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        metadata: &ObjectUserMetadata,
    ) -> Result<()> {
        let q = query(&[("path", Some(path.into()))]);
        let p = format!("{}/objects/stat/user_metadata{q}", Self::branch_path(repo, branch));
        let body = serde_json::json!({ "set": metadata });
        let resp = self.send(Method::PUT, &p, || json_body(&body), &[json_header()], Idempotent::Yes, true).await?;
        self.collect(resp).await.map(drop)
    }

    pub async fn delete_object(&self, repo: &str, branch: &str, path: &str) -> Result<()> {
        let q = query(&[("path", Some(path.into()))]);
        self.send_empty(Method::DELETE, &format!("{}/objects{q}", Self::branch_path(repo, branch))).await
    }

    /// `deleteObjects`. When lakeFS denies some paths it answers 401 with one
    /// `{"message"}` per denial followed by the `ObjectErrorList` of the whole batch (the allowed
    /// paths were deleted): that list is the answer.
    pub async fn delete_objects(&self, repo: &str, branch: &str, paths: &PathList) -> Result<ObjectErrorList> {
        let p = format!("{}/objects/delete", Self::branch_path(repo, branch));
        match self.send_json(Method::POST, &p, paths, Idempotent::Yes).await {
            Err(LakeFsError::Api { status, message }) if status == http::StatusCode::UNAUTHORIZED => {
                trailing_error_list(&message).ok_or(LakeFsError::Api { status, message })
            }
            answer => answer,
        }
    }

    pub async fn copy_object(
        &self,
        repo: &str,
        branch: &str,
        dest_path: &str,
        creation: &ObjectCopyCreation,
    ) -> Result<ObjectStats> {
        let q = query(&[("dest_path", Some(dest_path.into()))]);
        let p = format!("{}/objects/copy{q}", Self::branch_path(repo, branch));
        self.send_json(Method::POST, &p, creation, Idempotent::No).await
    }

    pub async fn get_physical_address(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        presign: bool,
    ) -> Result<StagingLocation> {
        let q = query(&[("path", Some(path.into())), ("presign", presign.then(|| "true".into()))]);
        self.get_json(&format!("{}/staging/backing{q}", Self::branch_path(repo, branch))).await
    }

    /// `linkPhysicalAddress`; `if_absent` sends `If-None-Match: *` (412 when the path exists).
    pub async fn link_physical_address(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        meta: &StagingMetadata,
        if_absent: bool,
    ) -> Result<ObjectStats> {
        let q = query(&[("path", Some(path.into()))]);
        let p = format!("{}/staging/backing{q}", Self::branch_path(repo, branch));
        let mut headers = vec![json_header()];
        if if_absent {
            headers.push((header::IF_NONE_MATCH, HeaderValue::from_static("*")));
        }
        let idem = if if_absent { Idempotent::No } else { Idempotent::Yes };
        let resp = self.send(Method::PUT, &p, || json_body(meta), &headers, idem, true).await?;
        self.decode(resp).await
    }
}

/// Presigned multipart upload (`experimental`; lakeFS serves it only when its blockstore
/// reports `pre_sign_multipart_upload`).
impl LakeFsClient {
    /// `…/staging/pmpu/<upload id><suffix>?path=…`.
    fn pmpu_path(repo: &str, branch: &str, upload_id: &str, suffix: &str, path: &str) -> String {
        let q = query(&[("path", Some(path.into()))]);
        format!("{}/staging/pmpu/{}{suffix}{q}", Self::branch_path(repo, branch), seg(upload_id))
    }

    /// `createPresignMultipartUpload`; `parts` asks for presigned URLs of parts 1..=parts.
    pub async fn create_presign_multipart_upload(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        parts: Option<u32>,
    ) -> Result<PresignMultipartUpload> {
        let q = query(&[("path", Some(path.into())), ("parts", parts.map(|n| n.to_string()))]);
        let p = format!("{}/staging/pmpu{q}", Self::branch_path(repo, branch));
        let resp = self.send(Method::POST, &p, || Ok(empty_body()), &[], Idempotent::No, true).await?;
        self.decode(resp).await
    }

    /// `uploadPart`: a fresh presigned URL for part `part_number`.
    pub async fn upload_part(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        upload_id: &str,
        part_number: u32,
        from: &UploadPartFrom,
    ) -> Result<UploadTo> {
        let p = Self::pmpu_path(repo, branch, upload_id, &format!("/parts/{part_number}"), path);
        self.send_json(Method::PUT, &p, from, Idempotent::Yes).await
    }

    /// `uploadPartCopy`: copies (a range of) an object into part `part_number`; the part's ETag.
    pub async fn upload_part_copy(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        upload_id: &str,
        part_number: u32,
        from: &UploadPartCopyFrom,
    ) -> Result<String> {
        let p = Self::pmpu_path(repo, branch, upload_id, &format!("/parts/{part_number}/copy"), path);
        let resp = self.send(Method::PUT, &p, || json_body(from), &[json_header()], Idempotent::Yes, true).await?;
        let etag = resp.headers().get(header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        self.collect(resp).await?;
        Ok(etag)
    }

    /// `completePresignMultipartUpload`: assembles the parts and stages the object.
    pub async fn complete_presign_multipart_upload(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        upload_id: &str,
        complete: &CompletePresignMultipartUpload,
    ) -> Result<ObjectStats> {
        let p = Self::pmpu_path(repo, branch, upload_id, "", path);
        self.send_json(Method::PUT, &p, complete, Idempotent::Slow).await
    }

    /// `abortPresignMultipartUpload`: drops the upload and its parts.
    pub async fn abort_presign_multipart_upload(
        &self,
        repo: &str,
        branch: &str,
        path: &str,
        upload_id: &str,
        abort: &AbortPresignMultipartUpload,
    ) -> Result<()> {
        let p = Self::pmpu_path(repo, branch, upload_id, "", path);
        let resp = self.send(Method::DELETE, &p, || json_body(abort), &[json_header()], Idempotent::Yes, true).await?;
        self.collect(resp).await.map(drop)
    }
}

/// External principals (tags `auth`, `external`): gateway keys as lakeFS identities.
impl LakeFsClient {
    fn principals_path(user: &str, principal_id: &str) -> String {
        format!("/auth/users/{}/external/principals?principalId={}", seg(user), seg(principal_id))
    }

    /// `createUserExternalPrincipal` (201).
    pub async fn create_user_external_principal(&self, user: &str, principal_id: &str) -> Result<()> {
        let path = Self::principals_path(user, principal_id);
        let body = || json_body(&crate::auth_dto::ExternalPrincipalCreation::default());
        let resp = self.send(Method::POST, &path, body, &[json_header()], Idempotent::No, true).await?;
        self.collect(resp).await.map(drop)
    }

    /// `deleteUserExternalPrincipal` (204).
    pub async fn delete_user_external_principal(&self, user: &str, principal_id: &str) -> Result<()> {
        self.send_empty(Method::DELETE, &Self::principals_path(user, principal_id)).await
    }

    /// `listUserExternalPrincipals`.
    pub async fn list_user_external_principals(
        &self,
        user: &str,
        after: &str,
        amount: Option<u32>,
    ) -> Result<crate::auth_dto::ExternalPrincipalList> {
        let q = query(&[("after", nonempty(after)), ("amount", amount.map(|a| a.to_string()))]);
        self.get_json(&format!("/auth/users/{}/external/principals/ls{q}", seg(user))).await
    }

    /// `getExternalPrincipal`: the user a principal is attached to.
    pub async fn get_external_principal(&self, principal_id: &str) -> Result<crate::auth_dto::ExternalPrincipal> {
        self.get_json(&format!("/auth/external/principals?principalId={}", seg(principal_id))).await
    }

    /// `externalPrincipalLogin` (unauthenticated): a JWT for the user the identity maps to.
    pub async fn external_principal_login(
        &self,
        info: &crate::auth_dto::ExternalLoginInformation,
    ) -> Result<AuthenticationToken> {
        let path = "/auth/external/principal/login";
        let resp =
            self.send_once(Method::POST, path, json_body(info)?, &[json_header()], None, self.cfg.timeout).await?;
        self.decode(resp).await
    }

    /// `stsLogin` (no credentials; sent once: an authorization code is good for one exchange).
    pub async fn sts_login(&self, request: &crate::auth_dto::StsAuthRequest) -> Result<AuthenticationToken> {
        let resp = self
            .send_once(Method::POST, "/sts/login", json_body(request)?, &[json_header()], None, self.cfg.timeout)
            .await?;
        self.decode(resp).await
    }
}

/// Users and credentials (tag `auth`).
impl LakeFsClient {
    /// `createCredentials`: a new access key pair for `user` (the only time lakeFS shows the secret).
    pub async fn create_credentials(&self, user: &str) -> Result<crate::auth_dto::CredentialsWithSecret> {
        let path = format!("/auth/users/{}/credentials", seg(user));
        self.send_json(Method::POST, &path, &serde_json::json!({}), Idempotent::No).await
    }

    /// `deleteCredentials`.
    pub async fn delete_credentials(&self, user: &str, access_key_id: &str) -> Result<()> {
        self.send_empty(Method::DELETE, &format!("/auth/users/{}/credentials/{}", seg(user), seg(access_key_id))).await
    }
}

/// The `ObjectErrorList` that ends a 401 `deleteObjects` body of several JSON values, if any.
fn trailing_error_list(body: &str) -> Option<ObjectErrorList> {
    let last = serde_json::Deserializer::from_str(body).into_iter::<serde_json::Value>().last()?.ok()?;
    last.get("errors")?;
    serde_json::from_value(last).ok()
}
