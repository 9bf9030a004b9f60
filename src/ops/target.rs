//! What a bucket name addresses. `repo` is a lakeFS repository whose keys are `<ref>/<path>`;
//! `repo.branch` (repository and branch names cannot contain dots) is a branch whose keys are plain
//! paths, so tools that write at the bucket root work on a branch; with flat buckets enabled, a
//! bare `repo` addresses its default branch the same way.

use super::Ctx;
use super::errors::{Missing, map_lakefs};
use s3_wire::S3Result;
use s3_wire::s3_err;
use std::time::{Duration, Instant};

/// How long a repository's default branch is remembered (flat buckets).
pub const DEFAULT_BRANCH_TTL: Duration = Duration::from_secs(30);

/// A bucket resolved to a repository and, for branch buckets, a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub repo: String,
    pub branch: Option<String>,
}

impl Target {
    /// The `<ref>/<path>` key of a key as the client named it.
    pub fn key(&self, key: &str) -> String {
        match &self.branch {
            Some(b) => format!("{b}/{key}"),
            None => key.to_string(),
        }
    }

    /// The prefix client-visible keys lack (`"<branch>/"`, or empty).
    pub fn strip(&self) -> String {
        self.branch.as_ref().map(|b| format!("{b}/")).unwrap_or_default()
    }
}

/// Splits `repo.branch`; a name without a dot is a repository.
pub fn parse(bucket: &str) -> Target {
    match bucket.split_once('.') {
        Some((repo, branch)) => Target { repo: repo.to_string(), branch: Some(branch.to_string()) },
        None => Target { repo: bucket.to_string(), branch: None },
    }
}

/// AWS's naming rules for a general purpose bucket ("Bucket naming rules", Amazon S3 User Guide),
/// checked before a bucket (repository, or `repo.branch`) is created: 3–63 characters of `a-z`,
/// `0-9`, `.` and `-`, a letter or digit at both ends, no `..`, `.-` or `-.`, not an IPv4 address,
/// none of the reserved prefixes and suffixes.
pub fn check_new_bucket_name(name: &str) -> S3Result<()> {
    let bad = |why: &str| Err(s3_err!(InvalidBucketName, "The specified bucket is not valid: {why}"));
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !(3..=63).contains(&name.len()) {
        return bad("bucket names are 3 to 63 characters long");
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-') {
        return bad("bucket names use lowercase letters, digits, '.' and '-' only");
    }
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return bad("bucket names begin and end with a letter or digit");
    }
    if ["..", ".-", "-."].iter().any(|p| name.contains(p)) {
        return bad("bucket names have no '..', '.-' or '-.'");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("bucket names are not IP addresses");
    }
    if ["xn--", "sthree-", "amzn-s3-demo-"].iter().any(|p| name.starts_with(p))
        || ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"].iter().any(|s| name.ends_with(s))
    {
        return bad("the name uses a prefix or suffix S3 reserves");
    }
    Ok(())
}

/// Resolves a bucket name, looking up the default branch for flat buckets.
pub async fn resolve(ctx: &Ctx<'_>, bucket: &str) -> S3Result<Target> {
    let t = parse(bucket);
    if t.branch.is_some() || !ctx.gw.flat_buckets {
        return Ok(t);
    }
    let cached = ctx
        .gw
        .default_branches
        .lock()
        .ok()
        .and_then(|m| m.get(&t.repo).filter(|(_, at)| at.elapsed() < DEFAULT_BRANCH_TTL).map(|(b, _)| b.clone()));
    let branch = match cached {
        Some(b) => b,
        None => {
            let repo = ctx.lakefs.get_repository(&t.repo).await.map_err(|e| map_lakefs(e, Missing::Bucket))?;
            if let Ok(mut m) = ctx.gw.default_branches.lock() {
                m.insert(t.repo.clone(), (repo.default_branch.clone(), Instant::now()));
            }
            repo.default_branch
        }
    };
    Ok(Target { repo: t.repo, branch: Some(branch) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_bucket_names_follow_aws_rules() {
        for good in ["abc", "repo.feature-1", "a1b", &"a".repeat(63)] {
            check_new_bucket_name(good).unwrap();
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "demo.Upper",
            "a_b",
            ".name",
            "name-",
            "name.",
            "-name",
            "s3b..x",
            "a.-b",
            "a-.b",
            "192.168.7.1",
            "xn--name",
            "sthree-x",
            "amzn-s3-demo-x",
            "x-s3alias",
            "x--ol-s3",
            "x.mrap",
            "x--x-s3",
            "x--table-s3",
        ] {
            let e = check_new_bucket_name(bad).unwrap_err();
            assert_eq!(e.code, s3_wire::S3ErrorCode::InvalidBucketName, "{bad}");
        }
    }

    #[test]
    fn bucket_names_split_at_the_dot() {
        let t = parse("repo.feature");
        assert_eq!(t, Target { repo: "repo".into(), branch: Some("feature".into()) });
        assert_eq!((t.key("a/b"), t.strip()), ("feature/a/b".to_string(), "feature/".to_string()));
        let t = parse("repo");
        assert_eq!((t.key("main/a"), t.strip()), ("main/a".to_string(), String::new()));
    }
}
