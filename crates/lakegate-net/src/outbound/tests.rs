use super::*;

#[test]
fn describe_names_the_host_once() {
    let e = std::io::Error::other("invalid peer certificate: UnknownIssuer");
    assert_eq!(describe("s3.example:443", &e), "s3.example:443: invalid peer certificate: UnknownIssuer");
    let e = ConnectError { host: "h:1".into(), reason: "refused".into() };
    assert_eq!(describe("h:1", &e), "cannot connect to h:1: refused");
}

#[test]
fn ca_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let err = Outbound::new(std::slice::from_ref(&empty)).unwrap_err().to_string();
    assert!(err.contains("empty.pem") && err.contains("no certificate"), "{err}");
    let missing = dir.path().join("missing.pem");
    assert!(Outbound::new(&[missing]).unwrap_err().to_string().contains("missing.pem"));
}
