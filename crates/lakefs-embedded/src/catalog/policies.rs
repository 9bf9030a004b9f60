//! Policies of the embedded server and their attachment to users (lakeFS auth API: `createPolicy`,
//! `getPolicy`, `listPolicies`, `deletePolicy`, `attachPolicyToUser`, `detachPolicyFromUser`,
//! `listUserPolicies`), plus lakeFS's built-in policies, of which the admin user gets
//! `FSFullAccess` and `AuthFullAccess` (full access, as lakeFS's `Admins` group).

use super::meta::*;
use super::users::ADMIN_USER;
use crate::error::{ApiError, ApiResult};
use lakefs_api::auth_dto::{Policy, Statement};
use redb::ReadableTable;

/// The setting that records that the admin got its built-in policies (once, so that an operator
/// who detaches them later is not overruled at the next start).
const ADMIN_POLICIES_SETTING: &str = "admin_policies_attached";
/// What the admin user gets at first start.
pub const ADMIN_POLICIES: [&str; 2] = ["FSFullAccess", "AuthFullAccess"];

fn allow(actions: &[&str], resource: &str) -> Statement {
    Statement {
        effect: "allow".into(),
        resource: resource.into(),
        action: actions.iter().map(|a| a.to_string()).collect(),
        condition: None,
    }
}

/// lakeFS's built-in policies (`pkg/auth/setup` `SetupBaseGroups`), the ones that fit here.
pub fn builtin_policies() -> Vec<Policy> {
    let p = |id: &str, statement: Statement| Policy { id: id.into(), creation_date: None, statement: vec![statement] };
    vec![
        // pull requests (`pr:*`) are part of full file-system access here
        p("FSFullAccess", allow(&["fs:*", "pr:*"], "*")),
        p("FSReadAll", allow(&["fs:List*", "fs:Read*"], "*")),
        p(
            "FSReadWriteAll",
            allow(
                &[
                    "fs:ListRepositories",
                    "fs:ReadRepository",
                    "fs:ReadCommit",
                    "fs:ListBranches",
                    "fs:ListTags",
                    "fs:ListObjects",
                    "fs:ReadObject",
                    "fs:WriteObject",
                    "fs:DeleteObject",
                    "fs:RevertBranch",
                    "fs:ReadBranch",
                    "fs:ReadTag",
                    "fs:CreateBranch",
                    "fs:CreateTag",
                    "fs:DeleteBranch",
                    "fs:DeleteTag",
                    "fs:CreateCommit",
                ],
                "*",
            ),
        ),
        p("AuthFullAccess", allow(&["auth:*"], "*")),
        p(
            "AuthManageOwnCredentials",
            allow(
                &["auth:CreateCredentials", "auth:DeleteCredentials", "auth:ListCredentials", "auth:ReadCredentials"],
                "arn:lakefs:auth:::user/${user}",
            ),
        ),
    ]
}

/// A policy id lakeFS would take: non-empty, at most 256 bytes, no control characters.
pub fn valid_policy_id(id: &str) -> bool {
    crate::catalog::users::valid_user_id(id)
}

fn no_such_policy(id: &str) -> ApiError {
    ApiError::not_found(format!("policy {id:?} not found"))
}

impl Meta {
    /// Creates the built-in policies that are missing, and on the first start attaches
    /// [`ADMIN_POLICIES`] to the admin user.
    pub fn ensure_builtin_policies(&self) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut policies = txn.open_table(POLICIES)?;
            for mut p in builtin_policies() {
                if policies.get(p.id.as_str())?.is_none() {
                    p.creation_date = Some(now_unix());
                    policies.insert(p.id.as_str(), to_json(&p)?.as_slice())?;
                }
            }
            let mut settings = txn.open_table(SETTINGS)?;
            if settings.get(ADMIN_POLICIES_SETTING)?.is_none() {
                let mut attached = txn.open_table(USER_POLICIES)?;
                for id in ADMIN_POLICIES {
                    attached.insert(key2(ADMIN_USER, id).as_str(), "")?;
                }
                settings.insert(ADMIN_POLICIES_SETTING, "true")?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// `createPolicy`: 409 when the id is taken.
    pub fn create_policy(&self, mut policy: Policy) -> ApiResult<Policy> {
        policy.creation_date = Some(now_unix());
        let txn = self.db.begin_write()?;
        {
            let mut policies = txn.open_table(POLICIES)?;
            if policies.get(policy.id.as_str())?.is_some() {
                return Err(ApiError::Conflict(format!("policy {:?} already exists", policy.id)));
            }
            policies.insert(policy.id.as_str(), to_json(&policy)?.as_slice())?;
        }
        txn.commit()?;
        Ok(policy)
    }

    /// `getPolicy`, 404 when unknown.
    pub fn get_policy(&self, id: &str) -> ApiResult<Policy> {
        let txn = self.db.begin_read()?;
        get_json(&txn.open_table(POLICIES)?, id)?.ok_or_else(|| no_such_policy(id))
    }

    /// `listPolicies`: a page of policies by id.
    pub fn list_policies(&self, prefix: &str, after: &str, amount: usize) -> ApiResult<(Vec<Policy>, bool)> {
        let txn = self.db.begin_read()?;
        let (rows, more) = json_page(&txn.open_table(POLICIES)?, prefix, after, amount, |_: &Policy| true)?;
        Ok((rows.into_iter().map(|(_, p)| p).collect(), more))
    }

    /// `deletePolicy`, detaching it from every user.
    pub fn delete_policy(&self, id: &str) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(POLICIES)?.remove(id)?.is_none() {
                return Err(no_such_policy(id));
            }
            let mut attached = txn.open_table(USER_POLICIES)?;
            let suffix = format!("\0{id}");
            for key in keys_with_prefix(&attached, "")?.into_iter().filter(|k| k.ends_with(&suffix)) {
                attached.remove(key.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// `attachPolicyToUser` (attaching twice is harmless); 404 for an unknown user or policy.
    pub fn attach_policy(&self, user: &str, policy: &str) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(USERS)?.get(user)?.is_none() {
                return Err(ApiError::not_found(format!("user {user:?} not found")));
            }
            if txn.open_table(POLICIES)?.get(policy)?.is_none() {
                return Err(no_such_policy(policy));
            }
            txn.open_table(USER_POLICIES)?.insert(key2(user, policy).as_str(), "")?;
        }
        txn.commit()?;
        Ok(())
    }

    /// `detachPolicyFromUser`: 404 for an unknown user or policy; a policy that is not attached is
    /// detached all the same (lakeFS `contrib/auth/acl/service.go` `DetachPolicyFromUser` deletes
    /// without looking).
    pub fn detach_policy(&self, user: &str, policy: &str) -> ApiResult<()> {
        let txn = self.db.begin_write()?;
        if txn.open_table(USERS)?.get(user)?.is_none() {
            return Err(ApiError::not_found(format!("user {user:?} not found")));
        }
        if txn.open_table(POLICIES)?.get(policy)?.is_none() {
            return Err(no_such_policy(policy));
        }
        txn.open_table(USER_POLICIES)?.remove(key2(user, policy).as_str())?;
        txn.commit()?;
        Ok(())
    }

    /// `listUserPolicies`: a page of the policies attached to a user (404 for an unknown user).
    pub fn list_user_policies(
        &self,
        user: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> ApiResult<(Vec<Policy>, bool)> {
        let txn = self.db.begin_read()?;
        if txn.open_table(USERS)?.get(user)?.is_none() {
            return Err(ApiError::not_found(format!("user {user:?} not found")));
        }
        let (attached, policies) = (txn.open_table(USER_POLICIES)?, txn.open_table(POLICIES)?);
        let key_prefix = key2(user, "");
        let mut ids = keys_with_prefix(&attached, &format!("{key_prefix}{prefix}"))?
            .into_iter()
            .map(|k| k[key_prefix.len()..].to_string())
            .filter(|id| after.is_empty() || id.as_str() > after);
        let mut page = Vec::new();
        for id in ids.by_ref() {
            if page.len() == amount {
                return Ok((page, true));
            }
            if let Some(p) = get_json::<_, Policy>(&policies, &id)? {
                page.push(p);
            }
        }
        Ok((page, false))
    }

    /// The statements of every policy attached to `user`; `None` when there is no such user.
    pub fn user_statements(&self, user: &str) -> ApiResult<Option<Vec<Statement>>> {
        let txn = self.db.begin_read()?;
        if txn.open_table(USERS)?.get(user)?.is_none() {
            return Ok(None);
        }
        let (attached, policies) = (txn.open_table(USER_POLICIES)?, txn.open_table(POLICIES)?);
        let key_prefix = key2(user, "");
        let mut statements = Vec::new();
        for key in keys_with_prefix(&attached, &key_prefix)? {
            if let Some(p) = get_json::<_, Policy>(&policies, &key[key_prefix.len()..])? {
                statements.extend(p.statement);
            }
        }
        Ok(Some(statements))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_gets_full_access_once() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        meta.ensure_admin().unwrap();
        meta.ensure_builtin_policies().unwrap();
        let ids: Vec<String> =
            meta.list_user_policies(ADMIN_USER, "", "", 10).unwrap().0.into_iter().map(|p| p.id).collect();
        assert_eq!(ids, vec!["AuthFullAccess", "FSFullAccess"]);
        meta.detach_policy(ADMIN_USER, "AuthFullAccess").unwrap();
        meta.ensure_builtin_policies().unwrap();
        assert_eq!(meta.list_user_policies(ADMIN_USER, "", "", 10).unwrap().0.len(), 1);
        assert_eq!(meta.user_statements(ADMIN_USER).unwrap().unwrap()[0].action, vec!["fs:*", "pr:*"]);
        assert!(meta.user_statements("nobody").unwrap().is_none());
    }

    #[test]
    fn policies_attach_detach_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        meta.create_user("bob").unwrap();
        let p = Policy { id: "ro".into(), creation_date: None, statement: vec![allow(&["fs:ReadObject"], "*")] };
        assert!(meta.create_policy(p.clone()).unwrap().creation_date.is_some());
        assert!(matches!(meta.create_policy(p), Err(ApiError::Conflict(_))));
        assert!(matches!(meta.attach_policy("bob", "nope"), Err(ApiError::NotFound(_))));
        assert!(matches!(meta.attach_policy("nobody", "ro"), Err(ApiError::NotFound(_))));
        meta.attach_policy("bob", "ro").unwrap();
        meta.attach_policy("bob", "ro").unwrap();
        assert_eq!(meta.user_statements("bob").unwrap().unwrap().len(), 1);
        meta.delete_policy("ro").unwrap();
        assert!(meta.user_statements("bob").unwrap().unwrap().is_empty());
        assert!(matches!(meta.detach_policy("bob", "ro"), Err(ApiError::NotFound(_))));
        assert!(matches!(meta.get_policy("ro"), Err(ApiError::NotFound(_))));
    }
}
