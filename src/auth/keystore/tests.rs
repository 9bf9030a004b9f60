use super::*;
use s3_wire::keys::SecretStore as _;
use std::os::unix::fs::PermissionsExt;

fn put(path: &Path, text: &str, mode: u32) {
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

const TWO_KEYS: &str = r#"
[[keys]]
access_key_id = "LGALICE000000000001"
secret_access_key = "alice-secret-0123456789"
user_id = "alice"

[[keys]]
access_key_id = "LGBOB00000000000002"
secret_access_key = "bob-secret-0123456789"
principal_id = "arn:aws:iam::1:role/bob"
mode = "lakefs-key"
lakefs_access_key_id = "AKIALAKEFS"
lakefs_secret_access_key = "lakefs-secret"
"#;

#[test]
fn a_valid_file_gives_every_key_its_principal_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keys.toml");
    put(&p, TWO_KEYS, 0o600);
    let store = KeyStore::open(&p, ModeName::Principal).unwrap();
    let alice = store.lookup("LGALICE000000000001").unwrap();
    assert_eq!(alice.principal_id, "arn:lakegate:iam::key/LGALICE000000000001");
    assert_eq!(alice.mode, KeyMode::Principal);
    assert_eq!(alice.secret_access_key, "alice-secret-0123456789");
    let bob = store.lookup("LGBOB00000000000002").unwrap();
    assert_eq!(bob.principal_id, "arn:aws:iam::1:role/bob");
    assert_eq!(
        bob.mode,
        KeyMode::LakeFsKey { access_key_id: "AKIALAKEFS".into(), secret_access_key: "lakefs-secret".into() }
    );
    assert!(store.lookup("LGNOBODY").is_none());
    let service = KeyStore::open(&p, ModeName::Service).unwrap();
    assert_eq!(service.lookup("LGALICE000000000001").unwrap().mode, KeyMode::Service);
}

#[test]
fn files_others_can_read_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keys.toml");
    for mode in [0o644, 0o604, 0o620, 0o602] {
        put(&p, TWO_KEYS, mode);
        let err = KeyStore::open(&p, ModeName::Principal).err().expect("refused");
        assert!(matches!(err, KeyFileError::Permissions { .. }), "{mode:o}: {err}");
        assert!(err.to_string().contains("chmod 600"));
    }
    put(&p, TWO_KEYS, 0o640);
    assert!(KeyStore::open(&p, ModeName::Principal).is_ok(), "group read is allowed (Kubernetes fsGroup)");
}

#[test]
fn every_problem_is_reported_at_once_and_no_secret_is_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keys.toml");
    let text = r#"
[[keys]]
access_key_id = "A B"
secret_access_key = "short"
[[keys]]
access_key_id = "LGDUP"
secret_access_key = "dup-secret-123456"
mode = "lakefs-key"
[[keys]]
access_key_id = "LGDUP"
secret_access_key = "dup-secret-123456"
lakefs_access_key_id = "x"
"#;
    put(&p, text, 0o600);
    let err = KeyStore::open(&p, ModeName::Principal).err().unwrap();
    let KeyFileError::Invalid { problems, .. } = &err else { panic!("{err}") };
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert!(!err.to_string().contains("dup-secret"));
    put(&p, "[[keys]]\naccess_key_id = \"LGX\"\nsecret_access_key = \"0123456789\"\nextra = 1\n", 0o600);
    assert!(matches!(KeyStore::open(&p, ModeName::Principal), Err(KeyFileError::Syntax { .. })));
    assert!(matches!(KeyStore::open(&dir.path().join("none"), ModeName::Principal), Err(KeyFileError::Io { .. })));
}

#[test]
fn edits_are_picked_up_and_broken_edits_keep_the_old_keys() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("keys.toml");
    put(&p, TWO_KEYS, 0o600);
    let store = KeyStore::open(&p, ModeName::Principal).unwrap();
    let mut file = read(&p, ModeName::Principal).unwrap();
    file.keys[0].secret_access_key = "alice-rotated-0123456789".into();
    file.keys.remove(1);
    write(&p, &file).unwrap();
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    std::thread::sleep(RELOAD_CHECK + Duration::from_millis(100));
    assert_eq!(store.lookup("LGALICE000000000001").unwrap().secret_access_key, "alice-rotated-0123456789");
    assert!(store.lookup("LGBOB00000000000002").is_none(), "deleted key is gone");
    put(&p, "not toml [[[", 0o600);
    std::thread::sleep(RELOAD_CHECK + Duration::from_millis(100));
    assert!(store.lookup("LGALICE000000000001").is_some(), "a broken file keeps the previous keys");
}

#[test]
fn generated_pairs_are_valid_and_distinct() {
    let (a, s) = generate_key_pair();
    let (b, _) = generate_key_pair();
    assert!(a.starts_with("LG") && a.len() == 20 && valid_access_key_id(&a));
    assert!(s.len() == 40 && valid_secret(&s));
    assert_ne!(a, b);
}
