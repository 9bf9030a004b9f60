//! `logCommits`'s query parameters as lakeFS v1.84.0 reads them (`pkg/api/controller.go`
//! `LogCommits`, `resolvePathList`): `after`, `amount`, `objects` and `prefixes` (repeated,
//! empty values dropped), `limit`, `first_parent`, `since` (an RFC 3339 date-time) and `stop_at`.
//!
//! `since` is checked twice before lakeFS's handler runs: kin-openapi's request validator matches
//! the `date-time` format's pattern (400 JSON), then oapi-codegen's binder parses it with Go's
//! `time.Parse(time.RFC3339Nano, …)`, falling back to `2006-01-02` (400 `text/plain` from
//! `http.Error`).

use super::pagination;
use crate::Embedded;
use crate::catalog::{LogQuery, clamp_amount};
use crate::error::{ApiError, ApiResult};
use crate::http::{Body, Query, full, json_response};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use lakefs_api::dto::CommitList;
use std::sync::Arc;

/// kin-openapi's `openapi3.FormatOfStringDateTime`.
const DATE_TIME_PATTERN: &str = r"^[0-9]{4}-(0[1-9]|10|11|12)-(0[1-9]|[12][0-9]|3[01])T([0-1][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?(Z|(\+|-)[0-9]{2}:[0-9]{2})?$";

/// `logCommits`.
pub async fn log_commits(
    s: &Arc<Embedded>,
    repo: String,
    reference: String,
    req: Request<Incoming>,
) -> ApiResult<Response<Body>> {
    let raw = req.uri().query().unwrap_or("").to_string();
    let q = Query::parse(Some(&raw));
    let amount = clamp_amount(q.amount()?);
    let since = match q.get("since").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match since_bound(v)? {
            Ok(t) => Some(t),
            Err(refusal) => return Ok(refusal),
        },
    };
    let query = LogQuery {
        after: q.str_or_empty("after").to_string(),
        amount,
        limit: q.bool("limit", false)?,
        first_parent: q.bool("first_parent", false)?,
        since,
        stop_at: q.str_or_empty("stop_at").to_string(),
        objects: all_values(&raw, "objects"),
        prefixes: all_values(&raw, "prefixes"),
    };
    let (commits, more) = s.db(move |m| m.log_commits(&repo, &reference, &query)).await?;
    let page = pagination(commits.len(), more, commits.last().map(|c| c.id.as_str()));
    json_response(StatusCode::OK, &CommitList { pagination: page, results: commits })
}

/// Every value of a repeated query parameter (`objects=a&objects=b`), in order.
fn all_values(raw: &str, name: &str) -> Vec<String> {
    form_urlencoded::parse(raw.as_bytes()).filter(|(k, _)| k == name).map(|(_, v)| v.into_owned()).collect()
}

/// The first Unix second `since` does not exclude (a commit is left out when it was created
/// before `since`; commits keep whole seconds). `Err` (inside `Ok`) is the binder's `text/plain`
/// refusal; the outer error is the validator's.
fn since_bound(v: &str) -> ApiResult<Result<i64, Response<Body>>> {
    if !matches_date_time(v) {
        return Err(ApiError::bad_request(format!(
            "parameter \"since\" in query has an error: string doesn't match the format \"date-time\": string doesn't match pattern \"{DATE_TIME_PATTERN}\""
        )));
    }
    Ok(match parse_rfc3339(v) {
        Some((secs, nanos)) => Ok(secs + i64::from(nanos > 0)),
        None => {
            // Go's fallback `time.Parse("2006-01-02", v)` stops at the `T`
            let rest = &v[10..];
            let msg = format!(
                "Invalid format for parameter since: error parsing '{v}' as RFC3339 or 2006-01-02 time: parsing time \"{v}\": extra text: \"{rest}\"\n"
            );
            let mut resp = Response::new(full(msg));
            *resp.status_mut() = StatusCode::BAD_REQUEST;
            let h = resp.headers_mut();
            h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
            Err(resp)
        }
    })
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

/// [`DATE_TIME_PATTERN`], matched by hand.
fn matches_date_time(v: &str) -> bool {
    let b = v.as_bytes();
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    let num = |i: usize, n: usize| b.get(i..i + n).and_then(digits);
    let fixed = b.len() >= 19
        && num(0, 4).is_some()
        && at(4, b'-')
        && num(5, 2).is_some_and(|m| (1..=12).contains(&m))
        && at(7, b'-')
        && num(8, 2).is_some_and(|d| (1..=31).contains(&d))
        && at(10, b'T')
        && num(11, 2).is_some_and(|h| h <= 23)
        && at(13, b':')
        && num(14, 2).is_some_and(|m| m <= 59)
        && at(16, b':')
        && num(17, 2).is_some_and(|s| s <= 60);
    if !fixed {
        return false;
    }
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &rest[1 + n..];
    }
    match rest {
        [] | [b'Z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Go's `time.Parse(time.RFC3339Nano, v)` on a string [`matches_date_time`] accepts: Unix seconds
/// and nanoseconds, or `None` (no zone, second 60, a day past the month's end, an offset hour
/// over 23 or minute over 59).
fn parse_rfc3339(v: &str) -> Option<(i64, u32)> {
    let b = v.as_bytes();
    let num = |i: usize, n: usize| digits(&b[i..i + n]).map(i64::from);
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if second > 59 || day > month_days[(month - 1) as usize] {
        return None;
    }
    let mut rest = &v[19..];
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        let padded = format!("{:0<9}", &frac[..n.min(9)]);
        nanos = padded.parse().ok()?;
        rest = &frac[n..];
    }
    let offset = match rest.as_bytes() {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), ..] => {
            let (h, m) = (num(v.len() - 5, 2)?, num(v.len() - 2, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            (h * 3600 + m * 60) * if *sign == b'-' { -1 } else { 1 }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanos))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_follows_kin_openapi_then_go_time_parse() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some((0, 0)));
        assert_eq!(parse_rfc3339("2024-02-29T12:30:15.25+02:00"), Some((1_709_202_615, 250_000_000)));
        assert_eq!(parse_rfc3339("2000-03-01T00:00:00-00:30"), Some((951_870_600, 0)));
        for bad_for_go in
            ["2024-01-01T00:00:00", "2023-02-29T00:00:00Z", "2024-01-01T00:00:60Z", "2024-01-01T00:00:00+24:00"]
        {
            assert!(matches_date_time(bad_for_go), "{bad_for_go}");
            assert_eq!(parse_rfc3339(bad_for_go), None, "{bad_for_go}");
        }
        for bad in [
            "2024-01-01",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00.Z",
            "x",
            "2024-01-01T00:00:00z",
        ] {
            assert!(!matches_date_time(bad), "{bad}");
        }
        assert!(since_bound("yesterday").is_err());
        let refusal = since_bound("2024-01-01T00:00:00").unwrap().unwrap_err();
        assert_eq!(refusal.status(), 400);
        assert_eq!(since_bound("2024-01-01T00:00:00.5Z").unwrap().ok(), Some(1_704_067_201));
        assert_eq!(since_bound("2024-01-01T00:00:00Z").unwrap().ok(), Some(1_704_067_200));
    }

    #[test]
    fn repeated_parameters_keep_every_value() {
        assert_eq!(all_values("objects=a&amount=1&objects=b%2Fc&objects=", "objects"), ["a", "b/c", ""]);
        assert!(all_values("", "prefixes").is_empty());
    }
}
