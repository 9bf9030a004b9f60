//! External principals of the embedded server (lakeFS auth API, `experimental`:
//! `createUserExternalPrincipal`, `deleteUserExternalPrincipal`, `listUserExternalPrincipals`,
//! `getExternalPrincipal`): external identities, such as AWS IAM role ARNs, bound to a lakeFS user
//! so that `externalPrincipalLogin` can log them in as that user.

use super::meta::*;
use crate::error::{ApiError, ApiResult};
use lakefs_api::auth_dto::ExternalPrincipal;
use redb::ReadableTable;

/// An external principal id we store: non-empty, at most 2048 bytes, no control characters.
pub fn valid_principal_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 2048 && !id.chars().any(char::is_control)
}

/// The ARN without an assumed role's session name (`arn:aws:sts::1:assumed-role/Role/session` →
/// `arn:aws:sts::1:assumed-role/Role`), the binding lakeFS falls back to.
pub fn without_session(arn: &str) -> Option<&str> {
    let (head, rest) = arn.split_once(":assumed-role/")?;
    let (role, _session) = rest.split_once('/')?;
    Some(&arn[..head.len() + ":assumed-role/".len() + role.len()])
}

impl Meta {
    /// `createUserExternalPrincipal`: 404 for an unknown user, 409 when the principal is bound.
    pub fn create_principal(&self, user: &str, id: &str) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(USERS)?.get(user)?.is_none() {
                return Err(ApiError::not_found(format!("user {user:?} not found")));
            }
            let mut principals = txn.open_table(PRINCIPALS)?;
            if principals.get(id)?.is_some() {
                return Err(ApiError::Conflict(format!("external principal {id:?} already exists")));
            }
            let p = ExternalPrincipal { id: id.into(), user_id: user.into() };
            principals.insert(id, to_json(&p)?.as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    /// `getExternalPrincipal`, 404 when unknown.
    pub fn get_principal(&self, id: &str) -> ApiResult<ExternalPrincipal> {
        let txn = self.db.begin_read()?;
        get_json(&txn.open_table(PRINCIPALS)?, id)?
            .ok_or_else(|| ApiError::not_found(format!("external principal {id:?} not found")))
    }

    /// `deleteUserExternalPrincipal`: 404 unless the principal is bound to `user`.
    pub fn delete_principal(&self, user: &str, id: &str) -> ApiResult<()> {
        if self.get_principal(id)?.user_id != user {
            return Err(ApiError::not_found(format!("external principal {id:?} of user {user:?} not found")));
        }
        let txn = self.db.begin_write()?;
        txn.open_table(PRINCIPALS)?.remove(id)?;
        txn.commit()?;
        Ok(())
    }

    /// `listUserExternalPrincipals`: a page of a user's principals (404 for an unknown user).
    pub fn list_user_principals(
        &self,
        user: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> ApiResult<(Vec<ExternalPrincipal>, bool)> {
        let txn = self.db.begin_read()?;
        if txn.open_table(USERS)?.get(user)?.is_none() {
            return Err(ApiError::not_found(format!("user {user:?} not found")));
        }
        let table = txn.open_table(PRINCIPALS)?;
        let (rows, more) = json_page(&table, prefix, after, amount, |p: &ExternalPrincipal| p.user_id == user)?;
        Ok((rows.into_iter().map(|(_, p)| p).collect(), more))
    }

    /// The user a caller ARN logs in as: the binding of the exact ARN, else of the ARN without its
    /// session name (lakeFS: a session-specific binding wins).
    pub fn principal_user(&self, arn: &str) -> ApiResult<Option<String>> {
        let txn = self.db.begin_read()?;
        let table = txn.open_table(PRINCIPALS)?;
        for id in std::iter::once(arn).chain(without_session(arn)) {
            if let Some(p) = get_json::<_, ExternalPrincipal>(&table, id)? {
                return Ok(Some(p.user_id));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fall_back_to_the_role() {
        let arn = "arn:aws:sts::123:assumed-role/Dev/john@acme.com";
        assert_eq!(without_session(arn), Some("arn:aws:sts::123:assumed-role/Dev"));
        assert_eq!(without_session("arn:aws:sts::123:assumed-role/Dev"), None);
        assert_eq!(without_session("arn:aws:iam::123:user/bob"), None);
    }

    #[test]
    fn principals_bind_users() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        meta.create_user("foo").unwrap();
        meta.create_user("john").unwrap();
        let (role, session) = ("arn:aws:sts::1:assumed-role/Dev", "arn:aws:sts::1:assumed-role/Dev/john");
        meta.create_principal("foo", role).unwrap();
        assert!(matches!(meta.create_principal("john", role), Err(ApiError::Conflict(_))));
        assert!(matches!(meta.create_principal("nobody", "x"), Err(ApiError::NotFound(_))));
        assert_eq!(meta.principal_user("arn:aws:sts::1:assumed-role/Dev/jane").unwrap().as_deref(), Some("foo"));
        meta.create_principal("john", session).unwrap();
        assert_eq!(meta.principal_user(session).unwrap().as_deref(), Some("john"));
        assert_eq!(meta.list_user_principals("foo", "", "", 10).unwrap().0.len(), 1);
        assert!(matches!(meta.delete_principal("john", role), Err(ApiError::NotFound(_))));
        meta.delete_principal("foo", role).unwrap();
        assert!(meta.principal_user("arn:aws:sts::1:assumed-role/Dev/jane").unwrap().is_none());
        assert_eq!(meta.get_principal(session).unwrap().user_id, "john");
    }
}
