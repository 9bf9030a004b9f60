//! lakeFS's `Range` header parser for `getObject`/`headObject` (`pkg/httputil/range.go`
//! `ParseRange`), stricter than S3's: anything but one `bytes=` range is refused (416), as is a
//! range that starts past the end.

/// Why a `Range` header cannot be served (both answer 416; only an unsatisfiable range gets a
/// `Content-Range: bytes */<size>` header from `getObject`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeError {
    /// `httputil.ErrBadRange`: not one `bytes=` range, or not numbers.
    Bad,
    /// `httputil.ErrUnsatisfiableRange`: starts past the end, or a suffix of 0 bytes.
    Unsatisfiable,
}

/// Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits.
fn parse_int(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `ParseRange(spec, length)`: the inclusive `(start, end)` offsets. For an empty object a suffix
/// range is `(0, -1)`, as lakeFS computes it.
pub fn parse(spec: &str, length: i64) -> Result<(i64, i64), RangeError> {
    use RangeError::*;
    let spec = spec.strip_prefix("bytes=").ok_or(Bad)?;
    if spec.contains(',') {
        return Err(Bad);
    }
    let (from, to) = spec.split_once('-').ok_or(Bad)?;
    let (from, to) = (from.trim(), to.trim());
    match (from, to) {
        ("", "") => Err(Bad),
        ("", suffix) => match parse_int(suffix).ok_or(Bad)? {
            0 => Err(Unsatisfiable),
            n if n < 0 => Err(Bad),
            n => Ok(((length - n).max(0), length - 1)),
        },
        (start, "") => {
            let start = parse_int(start).filter(|s| *s >= 0).ok_or(Bad)?;
            if start > length - 1 { Err(Unsatisfiable) } else { Ok((start, length - 1)) }
        }
        (start, end) => {
            let start = parse_int(start).filter(|s| *s >= 0).ok_or(Bad)?;
            let end = parse_int(end).filter(|e| *e >= 0).ok_or(Bad)?;
            if start > end {
                Err(Bad)
            } else if start > length - 1 {
                Err(Unsatisfiable)
            } else {
                Ok((start, end.min(length - 1)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RangeError::*;
    use super::*;

    #[test]
    fn ranges_parse_as_lakefs_parses_them() {
        assert_eq!(parse("bytes=0-4", 10), Ok((0, 4)));
        assert_eq!(parse("bytes=5-", 10), Ok((5, 9)));
        assert_eq!(parse("bytes=-3", 10), Ok((7, 9)));
        assert_eq!(parse("bytes=-30", 10), Ok((0, 9)));
        assert_eq!(parse("bytes=8-100", 10), Ok((8, 9)));
        assert_eq!(parse("bytes= 2 - 3 ", 10), Ok((2, 3)));
        assert_eq!(parse("bytes=+2-3", 10), Ok((2, 3)));
        assert_eq!(parse("bytes=-3", 0), Ok((0, -1)));
        for unsatisfiable in ["bytes=10-", "bytes=10-20", "bytes=-0", "bytes=0-0"] {
            let length = if unsatisfiable == "bytes=0-0" { 0 } else { 10 };
            assert_eq!(parse(unsatisfiable, length), Err(Unsatisfiable), "{unsatisfiable}");
        }
        for bad in [
            "",
            "bytes=",
            "bytes=-",
            "bytes=4-2",
            "bytes=0-1,3-4",
            "items=0-1",
            "bytes=x-1",
            "bytes=1-x",
            "bytes=5--3",
            " bytes=0-1",
            "bytes=--3",
        ] {
            assert_eq!(parse(bad, 10), Err(Bad), "{bad}");
        }
    }
}
