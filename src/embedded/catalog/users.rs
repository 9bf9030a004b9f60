//! Users and access keys of the embedded server (lakeFS `BasicAuthService`: one admin user created
//! at first start, like `lakefs setup`).

use super::meta::*;
use super::repos::get_json;
use crate::embedded::error::ApiResult;
use crate::lakefs::dto::User;
use rand::Rng;
use redb::ReadableTable;

/// The id of the user created on first start.
pub const ADMIN_USER: &str = "admin";

/// An access key pair in lakeFS's format: `AKIAJ` + 15 characters, and a 40-character secret.
pub fn generate_key_pair() -> (String, String) {
    const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    const SECRET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::thread_rng();
    let mut pick = |set: &[u8], n: usize| (0..n).map(|_| set[rng.gen_range(0..set.len())] as char).collect::<String>();
    (format!("AKIAJ{}", pick(UPPER, 15)), pick(SECRET, 40))
}

impl Meta {
    /// Creates the admin user and its access key when there is no user yet; returns the key pair
    /// of the admin (new or existing).
    pub fn ensure_admin(&self) -> ApiResult<(String, String, bool)> {
        let txn = self.db.begin_write()?;
        let result = {
            let mut users = txn.open_table(USERS)?;
            let mut creds = txn.open_table(CREDENTIALS)?;
            let mut settings = txn.open_table(SETTINGS)?;
            let existing = settings.get("admin_access_key_id")?.map(|v| v.value().to_string());
            match existing {
                Some(ak) => {
                    let rec: CredentialRecord = get_json(&creds, &ak)?
                        .ok_or_else(|| crate::embedded::error::ApiError::internal("admin credentials missing"))?;
                    (ak, rec.secret_access_key, false)
                }
                None => {
                    let now = now_unix();
                    let user = User { id: ADMIN_USER.into(), creation_date: now, friendly_name: None, email: None };
                    users.insert(ADMIN_USER, to_json(&user)?.as_slice())?;
                    let (ak, sk) = generate_key_pair();
                    let rec = CredentialRecord {
                        secret_access_key: sk.clone(),
                        user_id: ADMIN_USER.into(),
                        creation_date: now,
                    };
                    creds.insert(ak.as_str(), to_json(&rec)?.as_slice())?;
                    settings.insert("admin_access_key_id", ak.as_str())?;
                    (ak, sk, true)
                }
            }
        };
        txn.commit()?;
        Ok(result)
    }

    /// The credentials record of an access key.
    pub fn credential(&self, access_key_id: &str) -> ApiResult<Option<CredentialRecord>> {
        let txn = self.db.begin_read()?;
        get_json(&txn.open_table(CREDENTIALS)?, access_key_id)
    }

    /// A user by id.
    pub fn user(&self, id: &str) -> ApiResult<Option<User>> {
        let txn = self.db.begin_read()?;
        get_json(&txn.open_table(USERS)?, id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let (ak, sk, created) = meta.ensure_admin().unwrap();
        assert!(created);
        assert!(ak.starts_with("AKIAJ") && ak.len() == 20 && sk.len() == 40);
        let again = meta.ensure_admin().unwrap();
        assert_eq!(again, (ak.clone(), sk.clone(), false));
        assert_eq!(meta.credential(&ak).unwrap().unwrap().user_id, ADMIN_USER);
        assert!(meta.credential("nope").unwrap().is_none());
        assert_eq!(meta.user(ADMIN_USER).unwrap().unwrap().id, ADMIN_USER);
    }
}
