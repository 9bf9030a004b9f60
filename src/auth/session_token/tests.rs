use super::*;
use s3_wire::S3ErrorCode;

const ONE: &str = "k1 0123456789abcdef0123456789abcdef\n";
const TWO: &str = "k2 fedcba9876543210fedcba9876543210\nk1 0123456789abcdef0123456789abcdef\n";

fn claims(expires: i64) -> SessionClaims {
    SessionClaims { lakefs_token: "jwt.of.alice".into(), user: "alice".into(), expires }
}

#[test]
fn minted_credentials_open_to_the_same_identity() {
    let keys = SessionKeys::from_text(ONE).unwrap();
    let creds = keys.mint(&claims(2_000)).unwrap();
    assert_eq!(creds.version, 1);
    assert!(creds.access_key_id.starts_with("ASIA") && creds.access_key_id.len() == 20, "{}", creds.access_key_id);
    assert_eq!(creds.secret_access_key.len(), 40);
    assert_eq!(creds.expiration, "1970-01-01T00:33:20Z");
    let (c, entry) = keys.open(&creds.session_token, 1_000).unwrap();
    assert_eq!(c, claims(2_000));
    assert_eq!(entry.access_key_id, creds.access_key_id);
    assert_eq!(entry.secret_access_key, creds.secret_access_key);
    assert_eq!(entry.mode, KeyMode::Session { lakefs_token: "jwt.of.alice".into(), user: "alice".into() });
    // the lakeFS token is not readable in the session token
    assert!(!String::from_utf8_lossy(&B64.decode(&creds.session_token).unwrap()).contains("jwt.of.alice"));
    // two mints differ (random nonce), so do their keys
    let again = keys.mint(&claims(2_000)).unwrap();
    assert_ne!(again.session_token, creds.session_token);
    assert_ne!(again.access_key_id, creds.access_key_id);
    assert!(!format!("{creds:?}").contains(&creds.secret_access_key));
}

#[test]
fn expired_tokens_are_expired_token() {
    let keys = SessionKeys::from_text(ONE).unwrap();
    let creds = keys.mint(&claims(2_000)).unwrap();
    assert_eq!(keys.open(&creds.session_token, 2_000).unwrap_err().code, S3ErrorCode::ExpiredToken);
}

#[test]
fn altered_foreign_and_garbage_tokens_are_invalid_token() {
    let keys = SessionKeys::from_text(ONE).unwrap();
    let token = keys.mint(&claims(2_000)).unwrap().session_token;
    let mut raw = B64.decode(&token).unwrap();
    let last = raw.len() - 20;
    raw[last] ^= 1;
    let flipped = B64.encode(&raw);
    // same key id, another secret
    let other = SessionKeys::from_text("k1 ffffffffffffffffffffffffffffffff\n").unwrap();
    let foreign = other.mint(&claims(2_000)).unwrap().session_token;
    for bad in [flipped, foreign, "not base64!".into(), String::new(), B64.encode([1u8, 2, b'k', b'1'])] {
        assert_eq!(keys.open(&bad, 1_000).unwrap_err().code, S3ErrorCode::InvalidToken, "{bad}");
    }
}

#[test]
fn rotation_seals_with_the_first_key_and_opens_with_all() {
    let old = SessionKeys::from_text(ONE).unwrap();
    let old_token = old.mint(&claims(2_000)).unwrap().session_token;
    let rotated = SessionKeys::from_text(TWO).unwrap();
    let new_token = rotated.mint(&claims(2_000)).unwrap().session_token;
    assert!(rotated.open(&old_token, 1_000).is_ok());
    assert!(rotated.open(&new_token, 1_000).is_ok());
    assert_eq!(old.open(&new_token, 1_000).unwrap_err().code, S3ErrorCode::InvalidToken);
}

#[test]
fn key_files_are_checked() {
    for (text, want) in [
        ("", "no key"),
        ("# only a comment\n", "no key"),
        ("k1 short\n", "at least 32"),
        ("k1\n", "expected `ID SECRET`"),
        ("k/1 0123456789abcdef0123456789abcdef\n", "key id"),
        ("k1 0123456789abcdef0123456789abcdef\nk1 0123456789abcdef0123456789abcdeX\n", "twice"),
    ] {
        let err = SessionKeys::from_text(text).err().unwrap();
        assert!(err.contains(want), "{text:?}: {err}");
    }
}

#[test]
fn the_file_is_created_private_and_reloaded_on_change() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("session.keys");
    let keys = SessionKeys::load_or_init(&file).unwrap();
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let token = keys.mint(&claims(2_000)).unwrap().session_token;
    // a second gateway reading the same file opens it
    assert!(SessionKeys::load_or_init(&file).unwrap().open(&token, 1_000).is_ok());
    // replaced by an unrelated key: after the reload check, the old token no longer opens
    std::fs::write(&file, "k9 0123456789abcdef0123456789abcdef\n").unwrap();
    keys.checked.lock().unwrap().0 = Instant::now() - RELOAD_CHECK;
    assert_eq!(keys.open(&token, 1_000).unwrap_err().code, S3ErrorCode::InvalidToken);
    // a broken file keeps the keys in use
    let fresh = keys.mint(&claims(2_000)).unwrap().session_token;
    std::fs::write(&file, "broken").unwrap();
    keys.checked.lock().unwrap().0 = Instant::now() - RELOAD_CHECK;
    assert!(keys.open(&fresh, 1_000).is_ok());
}
