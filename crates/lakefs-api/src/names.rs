//! lakeFS's rules for the names of repositories and branches (`pkg/graveler/validate.go`,
//! `ValidateRepositoryID`, `ValidateBranchID`): a repository is `^[a-z0-9][a-z0-9-]{2,62}$`, a branch
//! `^\w[-\w]*$`.

/// Whether `name` may name a lakeFS repository.
pub fn valid_repo_name(name: &str) -> bool {
    let b = name.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    (3..=63).contains(&b.len()) && ok(b[0]) && b[1..].iter().all(|&c| ok(c) || c == b'-')
}

/// Whether `name` may name a lakeFS branch.
pub fn valid_branch_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if word(c)) && chars.all(|c| word(c) || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_lakefs_patterns() {
        assert!(valid_repo_name("demo"));
        assert!(valid_repo_name("a-1"));
        assert!(!valid_repo_name("ab"));
        assert!(!valid_repo_name("-abc"));
        assert!(!valid_repo_name("Abc"));
        assert!(!valid_repo_name("a.b.c"));
        assert!(!valid_repo_name(&"a".repeat(64)));
        assert!(valid_repo_name(&"a".repeat(63)));
        assert!(valid_branch_name("main"));
        assert!(valid_branch_name("feature-1_x"));
        assert!(!valid_branch_name("-x"));
        assert!(!valid_branch_name("a/b"));
        assert!(!valid_branch_name("a.b"));
        assert!(!valid_branch_name(""));
    }
}
