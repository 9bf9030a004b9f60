//! Single-range `Range` headers (RFC 9110 §14) as S3 and lakeFS interpret them: one
//! `bytes=a-b`, `bytes=a-` or `bytes=-n`; anything else (other units, several ranges, bad syntax)
//! means the whole object; a range starting past the end is unsatisfiable (416).

/// A satisfiable byte range `[start, end]` (inclusive) of an object of `total` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.end, total)
    }
}

/// A `Range` that no byte of the object satisfies (answered 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("requested range not satisfiable")]
pub struct Unsatisfiable;

/// Interprets a `Range` header for an object of `total` bytes: `Ok(None)` means serve it whole
/// (no header, or one we ignore as RFC 9110 allows: other units, several ranges, bad syntax);
/// `Err` means 416.
pub fn parse_range(header: Option<&str>, total: u64) -> Result<Option<ByteRange>, Unsatisfiable> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    let range = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => (start, end.min(total.saturating_sub(1))),
        (Ok(_), Ok(_)) => return Ok(None),
        (Ok(start), Err(_)) if b.is_empty() => (start, total.saturating_sub(1)),
        (Err(_), Ok(suffix)) if a.is_empty() => {
            if suffix == 0 {
                return Err(Unsatisfiable);
            }
            (total.saturating_sub(suffix), total.saturating_sub(1))
        }
        _ => return Ok(None),
    };
    if range.0 >= total {
        return Err(Unsatisfiable);
    }
    Ok(Some(ByteRange { start: range.0, end: range.1 }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |h: &str, t| parse_range(Some(h), t);
        assert_eq!(r("bytes=0-4", 10), Ok(Some(ByteRange { start: 0, end: 4 })));
        assert_eq!(r("bytes=5-", 10), Ok(Some(ByteRange { start: 5, end: 9 })));
        assert_eq!(r("bytes=-3", 10), Ok(Some(ByteRange { start: 7, end: 9 })));
        assert_eq!(r("bytes=-30", 10), Ok(Some(ByteRange { start: 0, end: 9 })));
        assert_eq!(r("bytes=8-100", 10), Ok(Some(ByteRange { start: 8, end: 9 })));
        assert_eq!(r("bytes=10-", 10), Err(Unsatisfiable));
        assert_eq!(r("bytes=-0", 10), Err(Unsatisfiable));
        assert_eq!(r("bytes=0-0", 0), Err(Unsatisfiable));
        assert_eq!(r("bytes=4-2", 10), Ok(None));
        assert_eq!(r("bytes=0-1,3-4", 10), Ok(None));
        assert_eq!(r("items=0-1", 10), Ok(None));
        assert_eq!(r("bytes=x-1", 10), Ok(None));
        assert_eq!(parse_range(None, 10), Ok(None));
        assert_eq!(ByteRange { start: 2, end: 5 }.content_range(10), "bytes 2-5/10");
    }
}
