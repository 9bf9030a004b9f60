//! Checksums of multipart objects (Amazon S3 User Guide, "Checking object integrity", section
//! "Using part-level checksums for multipart uploads"): a `COMPOSITE` checksum is the algorithm
//! applied to the concatenated binary part checksums, written `<base64>-<part count>`; a
//! `FULL_OBJECT` checksum (CRC algorithms only) is the CRC of the whole object, combined from the
//! part CRCs and lengths without reading the data.

use super::{ChecksumAlgorithm, Checksummer};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The composite checksum of parts whose checksums (base64) are `parts`; `None` if one is malformed.
pub fn composite(alg: ChecksumAlgorithm, parts: &[&str]) -> Option<String> {
    let mut c = Checksummer::new(alg);
    for p in parts {
        c.update(&alg.decode_value(p)?);
    }
    Some(format!("{}-{}", c.finalize(), parts.len()))
}

/// The full-object CRC of parts given as `(checksum base64, length)`; `None` for a non-CRC
/// algorithm or a malformed value.
pub fn full_object(alg: ChecksumAlgorithm, parts: &[(&str, u64)]) -> Option<String> {
    use crc_fast::CrcAlgorithm as Crc;
    let crc = match alg {
        ChecksumAlgorithm::Crc32 => Crc::Crc32IsoHdlc,
        ChecksumAlgorithm::Crc32c => Crc::Crc32Iscsi,
        ChecksumAlgorithm::Crc64Nvme => Crc::Crc64Nvme,
        _ => return None,
    };
    let mut total: Option<u64> = None;
    for (value, len) in parts {
        let bytes = alg.decode_value(value)?;
        let v = bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        total = Some(match total {
            None => v,
            Some(t) => crc_fast::checksum_combine(crc, t, v, *len),
        });
    }
    let t = total?;
    let bytes =
        if alg == ChecksumAlgorithm::Crc64Nvme { t.to_be_bytes().to_vec() } else { (t as u32).to_be_bytes().to_vec() };
    Some(BASE64.encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(alg: ChecksumAlgorithm, data: &[u8]) -> String {
        let mut c = Checksummer::new(alg);
        c.update(data);
        c.finalize()
    }

    #[test]
    fn full_object_crcs_equal_the_crc_of_the_whole() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let (a, b, c) = (&data[..40_000], &data[40_000..40_001], &data[40_001..]);
        for alg in [ChecksumAlgorithm::Crc32, ChecksumAlgorithm::Crc32c, ChecksumAlgorithm::Crc64Nvme] {
            let parts = [of(alg, a), of(alg, b), of(alg, c)];
            let with_len =
                [(parts[0].as_str(), a.len() as u64), (parts[1].as_str(), 1), (parts[2].as_str(), c.len() as u64)];
            assert_eq!(full_object(alg, &with_len).unwrap(), of(alg, &data), "{alg}");
        }
        assert_eq!(full_object(ChecksumAlgorithm::Sha256, &[("x", 1)]), None);
    }

    #[test]
    fn composite_is_the_checksum_of_the_part_checksums() {
        let alg = ChecksumAlgorithm::Sha256;
        let (p1, p2) = (of(alg, b"hello "), of(alg, b"world"));
        let mut raw = alg.decode_value(&p1).unwrap();
        raw.extend(alg.decode_value(&p2).unwrap());
        assert_eq!(composite(alg, &[&p1, &p2]).unwrap(), format!("{}-2", of(alg, &raw)));
        // python3: base64.b64encode(zlib.crc32(bytes.fromhex("0d4a1185")*2).to_bytes(4,'big'))
        let crc = of(ChecksumAlgorithm::Crc32, b"hello world");
        assert_eq!(composite(ChecksumAlgorithm::Crc32, &[&crc, &crc]).unwrap(), "7ryKJw==-2");
        assert_eq!(composite(alg, &["not base64!"]), None);
    }
}
