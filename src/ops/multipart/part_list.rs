//! The part list of a CompleteMultipartUpload request (AWS "CompleteMultipartUpload": parts in
//! ascending order, each with its ETag and, for uploads with a checksum, its part checksum),
//! checked against the parts lakegate saw: which upload part each entry chooses.

use super::registry::PartRecord;
use s3_wire::checksum::ChecksumAlgorithm;
use s3_wire::s3_err;
use s3_wire::{S3Error, S3Result};
use serde::Deserialize;
use std::collections::BTreeMap;

/// S3's smallest part (all but the last).
pub const MIN_PART_SIZE: u64 = 5 << 20;
/// S3's largest part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

#[derive(Debug, Deserialize)]
pub(crate) struct CompleteRequest {
    #[serde(rename = "Part", default)]
    parts: Vec<RequestPart>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestPart {
    #[serde(rename = "PartNumber")]
    number: String,
    #[serde(rename = "ETag", default)]
    etag: String,
    #[serde(rename = "ChecksumCRC32")]
    crc32: Option<String>,
    #[serde(rename = "ChecksumCRC32C")]
    crc32c: Option<String>,
    #[serde(rename = "ChecksumCRC64NVME")]
    crc64nvme: Option<String>,
    #[serde(rename = "ChecksumSHA1")]
    sha1: Option<String>,
    #[serde(rename = "ChecksumSHA256")]
    sha256: Option<String>,
}

impl RequestPart {
    fn checksum(&self, alg: ChecksumAlgorithm) -> Option<&str> {
        let v = match alg {
            ChecksumAlgorithm::Crc32 => &self.crc32,
            ChecksumAlgorithm::Crc32c => &self.crc32c,
            ChecksumAlgorithm::Crc64Nvme => &self.crc64nvme,
            ChecksumAlgorithm::Sha1 => &self.sha1,
            ChecksumAlgorithm::Sha256 => &self.sha256,
        };
        v.as_deref().map(str::trim)
    }
}

/// A part as Complete will use it: number, ETag, and what lakegate knows of it.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    pub number: u32,
    pub etag: String,
    pub checksum: Option<String>,
    pub known: Option<PartRecord>,
}

pub(crate) fn invalid_part(n: u32) -> S3Error {
    s3_err!(
        InvalidPart,
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. (part {n})"
    )
}

/// Checks the request's part list: present, numbered 1..=10000 in ascending order.
pub(crate) fn parse_parts(req: CompleteRequest) -> S3Result<Vec<(u32, RequestPart)>> {
    if req.parts.is_empty() {
        return Err(s3_err!(
            MalformedXML,
            "The XML you provided was not well-formed or did not validate against our published schema."
        ));
    }
    let mut out: Vec<(u32, RequestPart)> = Vec::with_capacity(req.parts.len());
    for p in req.parts {
        let n: u32 = p.number.trim().parse().map_err(|_| s3_err!(MalformedXML, "PartNumber must be an integer"))?;
        if !(1..=MAX_PART_NUMBER).contains(&n) {
            return Err(s3_err!(InvalidArgument, "Part number must be an integer between 1 and 10000, inclusive"));
        }
        if out.last().is_some_and(|(prev, _)| *prev >= n) {
            return Err(s3_err!(
                InvalidPartOrder,
                "The list of parts was not in ascending order. The parts list must be specified in order by part number."
            ));
        }
        out.push((n, p));
    }
    Ok(out)
}

/// Matches the listed parts with the recorded ones: ETags and part checksums must agree, every
/// part but the last must be at least 5 MiB. Parts lakegate has no record of (uploaded through
/// another replica) are left for the object store to check.
pub(crate) fn choose(
    listed: Vec<(u32, RequestPart)>,
    known: &BTreeMap<u32, PartRecord>,
    alg: Option<ChecksumAlgorithm>,
    spool: bool,
) -> S3Result<Vec<Chosen>> {
    let count = listed.len();
    let mut out = Vec::with_capacity(count);
    for (n, p) in listed {
        let etag = p.etag.trim().trim_matches('"').to_string();
        let rec = known.get(&n).cloned();
        let requested = alg.and_then(|a| p.checksum(a)).map(str::to_string);
        match &rec {
            None if spool => return Err(invalid_part(n)),
            Some(r) if r.etag != etag => return Err(invalid_part(n)),
            Some(r) if requested.is_some() && r.checksum.is_some() && requested != r.checksum => {
                return Err(s3_err!(
                    InvalidPart,
                    "The checksum of part {n} does not match the checksum S3 computed for it."
                ));
            }
            _ => {}
        }
        let checksum = rec.as_ref().and_then(|r| r.checksum.clone()).or(requested);
        out.push(Chosen { number: n, etag, checksum, known: rec });
    }
    for p in out.iter().take(count - 1) {
        if let Some(r) = p.known.as_ref().filter(|r| r.size < MIN_PART_SIZE) {
            return Err(s3_err!(
                EntityTooSmall,
                "Your proposed upload is smaller than the minimum allowed size (part {} is {} bytes; parts but the last must be at least 5 MiB)",
                p.number,
                r.size
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3_wire::S3ErrorCode;
    use s3_wire::xml::parse_xml;

    fn request(xml: &str) -> S3Result<Vec<(u32, RequestPart)>> {
        parse_parts(parse_xml(xml.as_bytes(), "CompleteMultipartUpload")?)
    }

    fn rec(n: u32, etag: &str, size: u64) -> PartRecord {
        PartRecord { part_number: n, etag: etag.into(), size, last_modified_ms: 0, checksum: None }
    }

    #[test]
    fn part_lists_must_be_present_and_ascending() {
        let ok = request(r#"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"a"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>3</PartNumber><ETag>b</ETag><ChecksumCRC32>x</ChecksumCRC32></Part></CompleteMultipartUpload>"#).unwrap();
        assert_eq!(ok.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(ok[1].1.checksum(ChecksumAlgorithm::Crc32), Some("x"));
        let code = |x: &str| request(x).unwrap_err().code;
        assert_eq!(code("<CompleteMultipartUpload/>"), S3ErrorCode::MalformedXML);
        assert_eq!(
            code("<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>"),
            S3ErrorCode::MalformedXML
        );
        let two = |a: u32, b: u32| {
            format!(
                "<CompleteMultipartUpload><Part><PartNumber>{a}</PartNumber><ETag>e</ETag></Part><Part><PartNumber>{b}</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>"
            )
        };
        assert_eq!(code(&two(2, 1)), S3ErrorCode::InvalidPartOrder);
        assert_eq!(code(&two(1, 1)), S3ErrorCode::InvalidPartOrder);
        assert_eq!(code(&two(0, 1)), S3ErrorCode::InvalidArgument);
        assert_eq!(code(&two(1, 10_001)), S3ErrorCode::InvalidArgument);
    }

    #[test]
    fn recorded_parts_check_etags_and_sizes() {
        let listed = || {
            request("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"e1\"</ETag></Part><Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part></CompleteMultipartUpload>").unwrap()
        };
        let big = MIN_PART_SIZE;
        let known: BTreeMap<u32, PartRecord> = [(1, rec(1, "e1", big)), (2, rec(2, "e2", 1))].into();
        assert_eq!(choose(listed(), &known, None, false).unwrap().len(), 2);
        let small: BTreeMap<u32, PartRecord> = [(1, rec(1, "e1", big - 1)), (2, rec(2, "e2", 1))].into();
        assert_eq!(choose(listed(), &small, None, false).unwrap_err().code, S3ErrorCode::EntityTooSmall);
        let wrong: BTreeMap<u32, PartRecord> = [(1, rec(1, "zz", big))].into();
        assert_eq!(choose(listed(), &wrong, None, false).unwrap_err().code, S3ErrorCode::InvalidPart);
        // Unknown parts pass to the store, unless spooled (then they are missing).
        assert_eq!(choose(listed(), &BTreeMap::new(), None, false).unwrap().len(), 2);
        assert_eq!(choose(listed(), &BTreeMap::new(), None, true).unwrap_err().code, S3ErrorCode::InvalidPart);
    }
}
