use super::*;

fn storage(id: Option<&str>, kind: &str, presign: bool, multipart: Option<bool>) -> StorageConfig {
    StorageConfig {
        blockstore_type: kind.into(),
        blockstore_namespace_example: String::new(),
        blockstore_namespace_validity_regex: String::new(),
        default_namespace_prefix: None,
        pre_sign_support: presign,
        pre_sign_support_ui: presign,
        import_support: false,
        import_validity_regex: String::new(),
        pre_sign_multipart_upload: multipart,
        blockstore_id: id.map(str::to_string),
        blockstore_description: None,
    }
}

#[test]
fn one_storage_serves_every_repository() {
    let config = Config {
        storage_config: Some(storage(Some(""), "s3", true, Some(true))),
        storage_config_list: Some(vec![]),
        ..Default::default()
    };
    let s = Storages::from_config(&config);
    assert!(!s.multi);
    assert_eq!(s.get(""), Some(&Capabilities { kind: "s3".into(), presign: true, multipart: true }));
}

#[test]
fn several_storages_are_found_by_id() {
    let config = Config {
        storage_config: None,
        storage_config_list: Some(vec![
            storage(Some("fast"), "s3", true, Some(true)),
            storage(Some("blob"), "azure", true, Some(false)),
            storage(Some("disk"), "local", false, None),
        ]),
        ..Default::default()
    };
    let s = Storages::from_config(&config);
    assert!(s.multi);
    assert_eq!(s.get("blob"), Some(&Capabilities { kind: "azure".into(), presign: true, multipart: false }));
    assert_eq!(s.get("disk").map(|c| (c.presign, c.multipart)), Some((false, false)));
    assert_eq!(s.get("fast").map(|c| c.multipart), Some(true));
    assert_eq!(s.get(""), None);
    assert!(s.describe().contains("blob=azure(presign: true, presigned multipart: false)"), "{}", s.describe());
}

#[test]
fn presigned_multipart_needs_presigning() {
    let c = Capabilities::from(&storage(None, "s3", false, Some(true)));
    assert!(!c.presign && !c.multipart);
}

#[test]
fn a_lakefs_without_storage_config_presigns_nothing() {
    let s = Storages::from_config(&Config::default());
    assert_eq!(s.get("").map(|c| c.presign), Some(false));
}

#[test]
fn presigned_multipart_waits_for_a_lakefs_with_per_part_urls() {
    let config = |version: &str| Config {
        version_config: Some(lakefs_api::dto::VersionConfig { version: Some(version.into()), ..Default::default() }),
        storage_config: Some(storage(Some(""), "s3", true, Some(true))),
        ..Default::default()
    };
    let old = Storages::from_config(&config("1.54.0"));
    assert_eq!(old.version, Some(Version(1, 54, 0)));
    assert_eq!(old.get("").map(|c| (c.presign, c.multipart)), Some((true, false)), "uploadPart arrived in v1.55.0");
    let new = Storages::from_config(&config("1.84.0"));
    assert_eq!(new.get("").map(|c| c.multipart), Some(true));
    let dev = Storages::from_config(&config("dev-0a1b2c"));
    assert_eq!((dev.version, dev.get("").map(|c| c.multipart)), (None, Some(true)));
}
