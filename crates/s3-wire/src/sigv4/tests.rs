//! SigV4 verification against the examples AWS publishes in the Amazon S3 API Reference
//! ("Signature Calculations for the Authorization Header: Transferring Payload in a Single Chunk"
//! and "Authenticating Requests: Using Query Parameters"): access key AKIAIOSFODNN7EXAMPLE, secret
//! wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY, 2013-05-24, us-east-1, examplebucket.

use super::*;
use crate::S3ErrorCode;
use crate::keys::PlainKeys;

const AK: &str = "AKIAIOSFODNN7EXAMPLE";
const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const HOST: &str = "examplebucket.s3.amazonaws.com";

fn store() -> PlainKeys {
    PlainKeys::new([(AK.to_string(), SK.to_string())])
}

fn at(amz: &str) -> SystemTime {
    parse_amz_date(amz).unwrap()
}

fn auth(signed: &str, sig: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={AK}/20130524/us-east-1/s3/aws4_request,SignedHeaders={signed},Signature={sig}"
    )
}

fn request(method: &str, uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
    let mut b = http::Request::builder().method(method).uri(uri).header("host", HOST);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    b.body(()).unwrap().into_parts().0
}

fn get_object(sig: &str) -> http::request::Parts {
    let a = auth("host;range;x-amz-content-sha256;x-amz-date", sig);
    request(
        "GET",
        "/test.txt",
        &[
            ("range", "bytes=0-9"),
            ("x-amz-content-sha256", EMPTY_SHA),
            ("x-amz-date", "20130524T000000Z"),
            ("authorization", &a),
        ],
    )
}

const GET_SIG: &str = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

#[test]
fn aws_example_get_object() {
    let v = verify(&get_object(GET_SIG), &store(), at("20130524T000500Z")).unwrap();
    assert_eq!(v.access_key_id, AK);
    assert_eq!(v.payload, PayloadMode::Sha256(EMPTY_SHA.into()));
    assert_eq!(v.seed.seed_signature, GET_SIG);
}

#[test]
fn aws_example_put_object() {
    let sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072";
    let a = auth(
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    );
    let parts = request(
        "PUT",
        "/test$file.text",
        &[
            ("date", "Fri, 24 May 2013 00:00:00 GMT"),
            ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            ("x-amz-content-sha256", sha),
            ("authorization", &a),
        ],
    );
    assert_eq!(verify(&parts, &store(), at("20130524T000000Z")).unwrap().payload, PayloadMode::Sha256(sha.into()));
}

#[test]
fn aws_example_get_bucket_lifecycle_and_list() {
    let a = auth(
        "host;x-amz-content-sha256;x-amz-date",
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    );
    let parts = request(
        "GET",
        "/?lifecycle",
        &[("x-amz-content-sha256", EMPTY_SHA), ("x-amz-date", "20130524T000000Z"), ("authorization", &a)],
    );
    verify(&parts, &store(), at("20130524T000000Z")).unwrap();
    let a = auth(
        "host;x-amz-content-sha256;x-amz-date",
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    );
    let parts = request(
        "GET",
        "/?max-keys=2&prefix=J",
        &[("x-amz-content-sha256", EMPTY_SHA), ("x-amz-date", "20130524T000000Z"), ("authorization", &a)],
    );
    verify(&parts, &store(), at("20130524T000000Z")).unwrap();
}

#[test]
fn aws_example_presigned_url() {
    let uri = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    let parts = request("GET", uri, &[]);
    let v = verify(&parts, &store(), at("20130524T120000Z")).unwrap();
    assert!(v.presigned);
    assert_eq!(v.payload, PayloadMode::Unsigned);
    let err = verify(&parts, &store(), at("20130525T000001Z")).unwrap_err();
    assert_eq!((err.code, err.message.as_str()), (S3ErrorCode::AccessDenied, "Request has expired"));
    let err = verify(&parts, &store(), at("20130523T230000Z")).unwrap_err();
    assert_eq!(err.code, S3ErrorCode::AccessDenied);
    let tampered = request("GET", &uri.replace("/test.txt", "/test2.txt"), &[]);
    assert_eq!(
        verify(&tampered, &store(), at("20130524T120000Z")).unwrap_err().code,
        S3ErrorCode::SignatureDoesNotMatch
    );
    // New SDKs add checksum parameters to presigned URLs: they are signed query parameters, nothing more.
    let with_extra = request("GET", &format!("{uri}&x-id=GetObject"), &[]);
    assert_eq!(
        verify(&with_extra, &store(), at("20130524T120000Z")).unwrap_err().code,
        S3ErrorCode::SignatureDoesNotMatch
    );
}

#[test]
fn rejections_carry_s3_codes() {
    let now = at("20130524T000000Z");
    let code = |p: &http::request::Parts, now| verify(p, &store(), now).unwrap_err().code;
    assert_eq!(code(&get_object(&GET_SIG.replace('f', "e")), now), S3ErrorCode::SignatureDoesNotMatch);
    assert_eq!(code(&get_object(GET_SIG), at("20130524T001600Z")), S3ErrorCode::RequestTimeTooSkewed);
    assert_eq!(code(&get_object(GET_SIG), at("20130523T234400Z")), S3ErrorCode::RequestTimeTooSkewed);
    let other = PlainKeys::new([("OTHER".to_string(), SK.to_string())]);
    assert_eq!(verify(&get_object(GET_SIG), &other, now).unwrap_err().code, S3ErrorCode::InvalidAccessKeyId);
    let wrong_secret = PlainKeys::new([(AK.to_string(), "nope".to_string())]);
    assert_eq!(verify(&get_object(GET_SIG), &wrong_secret, now).unwrap_err().code, S3ErrorCode::SignatureDoesNotMatch);
    assert_eq!(code(&request("GET", "/test.txt", &[]), now), S3ErrorCode::AccessDenied);
    let v4a = request(
        "GET",
        "/x",
        &[("authorization", "AWS4-ECDSA-P256-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request")],
    );
    assert_eq!(code(&v4a, now), S3ErrorCode::NotImplemented);
    let binary = request("GET", "/x", &[("authorization", "AWS4-HMAC-SHA256 Credential=\u{e9}")]);
    assert_eq!(code(&binary, now), S3ErrorCode::AuthorizationHeaderMalformed);
    let no_sha = request(
        "GET",
        "/test.txt",
        &[("x-amz-date", "20130524T000000Z"), ("authorization", &auth("host;x-amz-date", GET_SIG))],
    );
    assert_eq!(code(&no_sha, now), S3ErrorCode::InvalidRequest);
    let both = request("GET", "/t?X-Amz-Algorithm=AWS4-HMAC-SHA256", &[("authorization", &auth("host", GET_SIG))]);
    assert_eq!(code(&both, now), S3ErrorCode::InvalidArgument);
    let token = request("GET", "/t", &[("x-amz-security-token", "tok"), ("authorization", &auth("host", GET_SIG))]);
    assert_eq!(code(&token, now), S3ErrorCode::InvalidToken);
}

#[test]
fn payload_modes() {
    assert_eq!(payload_mode("UNSIGNED-PAYLOAD").unwrap(), PayloadMode::Unsigned);
    assert_eq!(
        payload_mode("STREAMING-UNSIGNED-PAYLOAD-TRAILER").unwrap(),
        PayloadMode::Streaming { signed: false, trailer: true }
    );
    assert_eq!(
        payload_mode("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER").unwrap(),
        PayloadMode::Streaming { signed: true, trailer: true }
    );
    assert_eq!(payload_mode("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD").unwrap_err().code, S3ErrorCode::NotImplemented);
    assert_eq!(payload_mode("abc").unwrap_err().code, S3ErrorCode::InvalidArgument);
    assert_eq!(payload_mode(&EMPTY_SHA.to_uppercase()).unwrap(), PayloadMode::Sha256(EMPTY_SHA.into()));
}
