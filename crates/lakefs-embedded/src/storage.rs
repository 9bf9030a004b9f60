//! The storages of the embedded server and what `getConfig` says about them.
//!
//! One storage is lakeFS OSS's single `blockstore`: its id is `""`, every repository's `storage_id`
//! is `""`, `storage_config.blockstore_id` is `""` and `storage_config_list` is empty
//! (`getStorageConfigs` in `pkg/api/controller.go`). With [`ExtraStorage`]s the server behaves like
//! lakeFS Enterprise's multiple storage backends (`blockstores.stores`): `storage_config_list` lists
//! every storage with its id, `createRepository` takes a `storage_id` (unknown → 400 "storage id:
//! invalid value: validation error"), and each repository is presigned (or not) by its own storage.
//! The primary storage keeps the id `""` and takes repositories created without a `storage_id`, as
//! a `backward_compatible` store does.
//!
//! Extra storages are local blob stores. They keep their bytes in the same `blobs/` directory as the
//! primary local store: storage namespaces are unique across repositories, so they never collide.

use super::error::{ApiError, ApiResult};
use lakefs_api::dto::{Repository, StorageConfig};

/// lakeFS `config.SingleBlockstoreID`.
pub const SINGLE_BLOCKSTORE_ID: &str = "";

/// A further storage of the embedded server: a local blob store with its own id and abilities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraStorage {
    /// Its `storage_id`/`blockstore_id` (non-empty, unique).
    pub id: String,
    /// Its `blockstore_description`.
    pub description: String,
    /// Whether it presigns URLs (`pre_sign_support`); off, it behaves like lakeFS's local blockstore.
    pub presign: bool,
    /// Whether it offers presigned multipart uploads (`pre_sign_multipart_upload`; needs `presign`).
    pub presign_multipart: bool,
}

/// Where a storage keeps bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Local,
    S3 { bucket: String },
}

/// One storage as the server runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Storage {
    pub id: String,
    pub description: String,
    pub kind: Kind,
    pub presign: bool,
    pub presign_multipart: bool,
    /// Whether `importStart` may import into its repositories (local: import roots configured).
    pub import: bool,
}

impl Storage {
    /// The scheme of its namespaces and addresses.
    pub fn scheme(&self) -> &'static str {
        match self.kind {
            Kind::Local => super::blob::SCHEME,
            Kind::S3 { .. } => super::s3store::SCHEME,
        }
    }

    fn blockstore_type(&self) -> &'static str {
        match self.kind {
            Kind::Local => "local",
            Kind::S3 { .. } => "s3",
        }
    }

    /// lakeFS `pre_sign_multipart_upload`: the S3 adapter offers it only when it presigns.
    pub fn presign_multipart_upload(&self) -> bool {
        self.presign && self.presign_multipart
    }

    /// The text of lakeFS's adapter when asked to presign and it cannot (`GetPreSignedURL`:
    /// `block.ErrOperationNotSupported`, wrapped by the local adapter).
    pub fn no_presign(&self) -> String {
        match self.kind {
            Kind::Local => "local adapter presigned URL: operation not supported".into(),
            Kind::S3 { .. } => "operation not supported".into(),
        }
    }

    /// What `getConfig`/`getStorageConfig` say about it (lakeFS `getStorageConfig` and the
    /// adapters' `GetStorageNamespaceInfo`: `DefaultStorageNamespaceInfo(type)`, the local
    /// adapter's `local://` default prefix, `pre_sign_support_ui` off by default).
    pub fn config(&self) -> StorageConfig {
        let kind = self.blockstore_type();
        let regex = format!("^{kind}://");
        StorageConfig {
            blockstore_type: kind.into(),
            blockstore_namespace_example: format!("{kind}://example-bucket/"),
            blockstore_namespace_validity_regex: regex.clone(),
            default_namespace_prefix: Some(if self.kind == Kind::Local { "local://".into() } else { String::new() }),
            pre_sign_support: self.presign,
            pre_sign_support_ui: false,
            import_support: self.import,
            import_validity_regex: regex,
            pre_sign_multipart_upload: Some(self.presign_multipart_upload()),
            blockstore_id: Some(self.id.clone()),
            blockstore_description: Some(self.description.clone()),
        }
    }

    /// A storage namespace must be `<scheme><path>` on this storage (`local://…`, or
    /// `s3://<its bucket>/<prefix>`), with path segments that cannot escape it.
    pub fn validate_namespace(&self, ns: &str) -> ApiResult<()> {
        let scheme = self.scheme();
        let rest = ns.strip_prefix(scheme).unwrap_or("");
        let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        let ok = !rest.trim_matches('/').is_empty()
            && segments.iter().all(|p| !p.is_empty() && *p != "." && *p != ".." && !p.contains(['\\', '\0', ',']))
            && match &self.kind {
                Kind::S3 { bucket } => segments.len() >= 2 && segments[0] == bucket,
                Kind::Local => true,
            };
        if ok {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "storage namespace {ns:?} is not valid for this blockstore (expected {scheme}…)"
            )))
        }
    }
}

/// Every storage of the server; the first is the primary one (id `""`).
#[derive(Debug, Clone)]
pub struct Storages(Vec<Storage>);

impl Storages {
    /// `primary` plus local blob stores for `extra` (ids must be non-empty and unique).
    pub fn new(primary: Storage, extra: &[ExtraStorage]) -> ApiResult<Storages> {
        let mut all = vec![primary];
        for e in extra {
            if e.id.is_empty() || all.iter().any(|s| s.id == e.id) {
                return Err(ApiError::bad_request(format!("storage id {:?}: must be non-empty and unique", e.id)));
            }
            all.push(Storage {
                id: e.id.clone(),
                description: e.description.clone(),
                kind: Kind::Local,
                presign: e.presign,
                presign_multipart: e.presign_multipart,
                import: false,
            });
        }
        Ok(Storages(all))
    }

    pub fn primary(&self) -> &Storage {
        &self.0[0]
    }

    pub fn by_id(&self, id: &str) -> Option<&Storage> {
        self.0.iter().find(|s| s.id == id)
    }

    /// The storage of `repo` (lakeFS `config.ErrNoStorageConfig` → 404 "no storage config").
    pub fn of(&self, repo: &Repository) -> ApiResult<&Storage> {
        self.by_id(repo.storage_id.as_deref().unwrap_or(SINGLE_BLOCKSTORE_ID))
            .ok_or_else(|| ApiError::not_found("no storage config"))
    }

    /// `storage_config` and `storage_config_list` of `getConfig`: the list is empty when the only
    /// storage is the single blockstore (id `""`).
    pub fn configs(&self) -> (StorageConfig, Vec<StorageConfig>) {
        let list = if self.0.len() == 1 && self.0[0].id == SINGLE_BLOCKSTORE_ID {
            Vec::new()
        } else {
            self.0.iter().map(Storage::config).collect()
        };
        (self.primary().config(), list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(id: &str, presign: bool) -> Storage {
        Storage {
            id: id.into(),
            description: String::new(),
            kind: Kind::Local,
            presign,
            presign_multipart: true,
            import: false,
        }
    }

    fn repo(storage_id: Option<&str>) -> Repository {
        Repository {
            id: "r".into(),
            creation_date: 0,
            default_branch: "main".into(),
            storage_namespace: "local://r".into(),
            storage_id: storage_id.map(Into::into),
            read_only: None,
        }
    }

    #[test]
    fn a_single_storage_is_lakefs_oss() {
        let s = Storages::new(local("", true), &[]).unwrap();
        let (cfg, list) = s.configs();
        assert!(list.is_empty());
        assert_eq!(cfg.blockstore_id.as_deref(), Some(""));
        assert_eq!(cfg.default_namespace_prefix.as_deref(), Some("local://"));
        assert_eq!(cfg.blockstore_namespace_example, "local://example-bucket/");
        assert_eq!(s.of(&repo(None)).unwrap().id, "");
        assert_eq!(s.of(&repo(Some(""))).unwrap().id, "");
        assert_eq!(s.of(&repo(Some("x"))).unwrap_err().status(), 404);
    }

    #[test]
    fn extra_storages_are_listed_with_their_ids() {
        let extra =
            ExtraStorage { id: "cold".into(), description: "d".into(), presign: false, presign_multipart: true };
        let s = Storages::new(local("", true), std::slice::from_ref(&extra)).unwrap();
        let (cfg, list) = s.configs();
        assert_eq!(cfg.blockstore_id.as_deref(), Some(""));
        let ids: Vec<_> = list.iter().map(|c| c.blockstore_id.clone().unwrap()).collect();
        assert_eq!(ids, ["", "cold"]);
        assert_eq!((list[1].pre_sign_support, list[1].pre_sign_multipart_upload), (false, Some(false)));
        assert!(Storages::new(local("", true), &[extra.clone(), extra]).is_err());
        let empty =
            ExtraStorage { id: String::new(), description: String::new(), presign: true, presign_multipart: true };
        assert!(Storages::new(local("", true), &[empty]).is_err());
    }

    #[test]
    fn namespaces_must_fit_the_storage() {
        let s3 = Storage { kind: Kind::S3 { bucket: "b".into() }, ..local("", true) };
        assert!(s3.validate_namespace("s3://b/repo").is_ok());
        assert!(s3.validate_namespace("s3://other/repo").is_err());
        assert!(s3.validate_namespace("local://repo").is_err());
        assert!(local("", true).validate_namespace("local://a/b").is_ok());
        assert!(local("", true).validate_namespace("local://a/../b").is_err());
    }
}
