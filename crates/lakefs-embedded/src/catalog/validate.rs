//! lakeFS's argument checks (`pkg/validator` `Validate`, `pkg/graveler/validate.go`,
//! `pkg/catalog/validate.go`), run by the catalog before it looks anything up. Each failure is a
//! 400 whose text names the argument: `argument <name>: <error>`.

use crate::error::{ApiError, ApiResult};

/// lakeFS `catalog.MaxPathLength`.
pub const MAX_PATH_LENGTH: usize = 1024;

fn argument(name: &str, error: &str) -> ApiError {
    ApiError::bad_request(format!("argument {name}: {error}"))
}

/// `graveler.ValidateRepositoryID` (`^[a-z0-9][a-z0-9-]{2,62}$`).
pub fn repository(name: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() {
        return Err(argument(name, "required value: validation error"));
    }
    if !super::valid_repo_name(id) {
        return Err(argument(name, "repository id: invalid value: validation error"));
    }
    Ok(())
}

/// `graveler.ValidateBranchID` (`^\w[-\w]*$`).
pub fn branch(name: &str, id: &str) -> ApiResult<()> {
    if id.is_empty() {
        return Err(argument(name, "required value: validation error"));
    }
    if !super::valid_branch_name(id) {
        return Err(argument(name, "branch id: invalid value: validation error"));
    }
    Ok(())
}

/// `graveler.ValidateRef` (`^[^\s]+$`, Go's `\s`: space, `\t`, `\n`, `\f`, `\r`).
pub fn reference(name: &str, r: &str) -> ApiResult<()> {
    if r.is_empty() {
        return Err(argument(name, "required value: validation error"));
    }
    if r.contains([' ', '\t', '\n', '\x0c', '\r']) {
        return Err(argument(name, "ref: invalid value: validation error"));
    }
    Ok(())
}

/// `catalog.ValidatePath`: required, at most [`MAX_PATH_LENGTH`] bytes.
pub fn path(name: &str, p: &str) -> ApiResult<()> {
    if p.is_empty() {
        return Err(argument(name, "missing path: required value: validation error"));
    }
    optional_path(name, p)
}

/// `catalog.ValidatePathOptional`: empty, or at most [`MAX_PATH_LENGTH`] bytes.
pub fn optional_path(name: &str, p: &str) -> ApiResult<()> {
    if p.len() > MAX_PATH_LENGTH {
        let error = format!("invalid value: validation error: {} is above maximum length ({MAX_PATH_LENGTH})", p.len());
        return Err(argument(name, &error));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_follow_lakefs_validator() {
        let msg = |r: ApiResult<()>| r.unwrap_err().to_string();
        assert!(repository("repository", "repo-1").is_ok());
        assert_eq!(
            msg(repository("repository", "Bad")),
            "argument repository: repository id: invalid value: validation error"
        );
        assert_eq!(msg(branch("branch", "a.b")), "argument branch: branch id: invalid value: validation error");
        assert!(branch("branch", "feature-1_x").is_ok());
        assert_eq!(msg(reference("ref", "a b")), "argument ref: ref: invalid value: validation error");
        assert!(reference("ref", "main~1").is_ok());
        assert_eq!(msg(path("path", "")), "argument path: missing path: required value: validation error");
        assert!(path("path", &"p".repeat(1024)).is_ok());
        assert_eq!(
            msg(path("path", &"p".repeat(1025))),
            "argument path: invalid value: validation error: 1025 is above maximum length (1024)"
        );
        assert!(optional_path("prefix", "").is_ok());
    }
}
