//! Fuzz target: S3 XML request bodies through `s3_wire::xml::parse_xml` into the shapes
//! S3 clients send (a DeleteObjects `Delete` and a CompleteMultipartUpload part list). Malformed
//! input must give `MalformedXML`, never a panic.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run xml_parser`.

#![no_main]

use s3_wire::xml::parse_xml;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Delete {
    #[serde(rename = "Object", default)]
    objects: Vec<ObjectId>,
    #[serde(rename = "Quiet", default)]
    quiet: Option<bool>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct ObjectId {
    #[serde(rename = "Key")]
    key: String,
    #[serde(rename = "VersionId")]
    version_id: Option<String>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct CompleteMultipartUpload {
    #[serde(rename = "Part", default)]
    parts: Vec<Part>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Part {
    #[serde(rename = "PartNumber")]
    part_number: u32,
    #[serde(rename = "ETag")]
    etag: String,
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_xml::<Delete>(data);
    let _ = parse_xml::<CompleteMultipartUpload>(data);
});
