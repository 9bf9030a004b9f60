//! Which lakeFS version first offers the operations lakegate calls that older lakeFS lacks, read
//! from lakeFS's own `api/swagger.yml` at each `v1.N.0` tag (the first tag whose spec names the
//! operation id), and the comparison with the version a lakeFS reports (`getConfig`
//! `version_config.version`).

/// `(operation id, first lakeFS version that has it)`.
pub const INTRODUCED: &[(&str, Version)] = &[
    ("createPresignMultipartUpload", Version(1, 7, 0)),
    ("completePresignMultipartUpload", Version(1, 7, 0)),
    ("abortPresignMultipartUpload", Version(1, 7, 0)),
    ("hardResetBranch", Version(1, 8, 0)),
    ("stsLogin", Version(1, 16, 0)),
    ("externalPrincipalLogin", Version(1, 18, 0)),
    ("createPullRequest", Version(1, 35, 0)),
    ("mergePullRequest", Version(1, 36, 0)),
    ("updateObjectUserMetadata", Version(1, 37, 0)),
    // presigned URLs for one part at a time (`…/pmpu/{uploadId}/parts/{partNumber}`)
    ("uploadPart", Version(1, 55, 0)),
    ("uploadPartCopy", Version(1, 55, 0)),
];

/// A lakeFS release version `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "v{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// `1.84.0`, `v1.84.0` or `1.84.0-rc1`; `None` for anything else (a development build: taken
    /// as having every operation).
    pub fn parse(text: &str) -> Option<Version> {
        let core = text.trim().trim_start_matches('v');
        let core = core.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(parts.next()??, parts.next()??, parts.next().flatten().unwrap_or(0));
        parts.next().is_none().then_some(v)
    }
}

/// The version needed for `operation` when `reported` (a lakeFS's version) lacks it.
pub fn missing(operation: &str, reported: Option<Version>) -> Option<Version> {
    let have = reported?;
    INTRODUCED.iter().find(|(op, _)| *op == operation).map(|(_, v)| *v).filter(|needed| have < *needed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_compare() {
        assert_eq!(Version::parse("1.84.0"), Some(Version(1, 84, 0)));
        assert_eq!(Version::parse("v1.55.2"), Some(Version(1, 55, 2)));
        assert_eq!(Version::parse("1.60.0-rc1"), Some(Version(1, 60, 0)));
        assert_eq!(Version::parse("dev-abc123"), None);
        assert_eq!(Version::parse("1.2.3.4"), None);
        assert!(Version(1, 9, 0) < Version(1, 55, 0));
        assert_eq!(Version(1, 55, 0).to_string(), "v1.55.0");
    }

    #[test]
    fn missing_operations_name_the_version_needed() {
        assert_eq!(missing("uploadPart", Version::parse("1.54.3")), Some(Version(1, 55, 0)));
        assert_eq!(missing("uploadPart", Version::parse("1.84.0")), None);
        assert_eq!(missing("updateObjectUserMetadata", Version::parse("1.36.0")), Some(Version(1, 37, 0)));
        assert_eq!(missing("statObject", Version::parse("1.0.0")), None, "not in the table: always there");
        assert_eq!(missing("uploadPart", None), None, "an unknown version is taken as new");
    }
}
