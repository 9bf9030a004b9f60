//! Small helpers shared by the signing code of the S3 layer and the embedded server: SigV4 time
//! formats (ISO 8601 basic, `YYYYMMDD'T'HHMMSS'Z'`) and constant-time comparison.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Parses `YYYYMMDD'T'HHMMSS'Z'` (`X-Amz-Date`).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let (y, mo, d) = parse_ymd(&s[..8])?;
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (h, mi, sec) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Parses `YYYYMMDD` (a credential scope date) to midnight UTC of that day.
pub fn parse_scope_date(s: &str) -> Option<SystemTime> {
    let (y, m, d) = parse_ymd(s)?;
    let secs = days_from_civil(y, m, d) * 86400;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

fn parse_ymd(s: &str) -> Option<(i64, i64, i64)> {
    if s.len() != 8 || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (y, m, d) = (s[..4].parse().ok()?, s[4..6].parse().ok()?, s[6..8].parse().ok()?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y, m, d))
}

/// Formats a time as `YYYYMMDD'T'HHMMSS'Z'`.
pub fn format_amz_date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Formats a time as S3's XML timestamps do: `2013-05-24T00:00:00.000Z`.
pub fn format_iso8601(t: SystemTime) -> String {
    let d = format_amz_date(t);
    format!("{}-{}-{}T{}:{}:{}.000Z", &d[0..4], &d[4..6], &d[6..8], &d[9..11], &d[11..13], &d[13..15])
}

/// The current time in Unix seconds (0 before 1970).
pub fn now_unix() -> i64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// Formats Unix seconds as RFC 3339 in UTC: `2013-05-24T00:00:00Z` (AWS credentials' `Expiration`).
pub fn format_rfc3339(unix_secs: i64) -> String {
    let d = format_amz_date(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(unix_secs.max(0) as u64));
    format!("{}-{}-{}T{}:{}:{}Z", &d[0..4], &d[4..6], &d[6..8], &d[9..11], &d[11..13], &d[13..15])
}

/// Writes `data` to a new file readable by its owner only (mode 0600), synced.
pub fn write_private(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date of a day number since 1970-01-01 (inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(UNIX_EPOCH));
        assert_eq!(parse_amz_date("20130524T000000Z"), Some(UNIX_EPOCH + Duration::from_secs(1369353600)));
        assert_eq!(parse_amz_date("20131324T000000Z"), None);
        assert_eq!(parse_amz_date("2013-05-24"), None);
        for secs in [0u64, 1369353600, 1795269046, 951782400 /* 2000-02-29 */] {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            assert_eq!(parse_amz_date(&format_amz_date(t)), Some(t));
        }
        assert_eq!(format_amz_date(UNIX_EPOCH + Duration::from_secs(951782400)), "20000229T000000Z");
        assert_eq!(parse_scope_date("20130524"), Some(UNIX_EPOCH + Duration::from_secs(1369353600)));
        assert_eq!(parse_scope_date("2013052"), None);
        assert_eq!(format_iso8601(UNIX_EPOCH + Duration::from_secs(1369353600)), "2013-05-24T00:00:00.000Z");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
