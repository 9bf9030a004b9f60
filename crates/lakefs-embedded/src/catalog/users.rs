//! Users and access keys of the embedded server (lakeFS auth API: `createUser`, `getUser`,
//! `listUsers`, `deleteUser`, `createCredentials`, `getCredentials`, `listUserCredentials`,
//! `deleteCredentials`). An admin user and its key pair are created at first start, like
//! `lakefs setup`; they cannot be deleted, since `lakegate dev` and its gateway run as them.

use super::meta::*;
use crate::error::{ApiError, ApiResult};
use lakefs_api::auth_dto::{Credentials, CredentialsWithSecret};
use lakefs_api::dto::User;
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
                        .ok_or_else(|| crate::error::ApiError::internal("admin credentials missing"))?;
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

/// A user id lakeFS would take: non-empty, at most 256 bytes, no control characters.
pub fn valid_user_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 256 && !id.chars().any(char::is_control)
}

fn no_such_user(id: &str) -> ApiError {
    ApiError::not_found(format!("user {id:?} not found"))
}

impl Meta {
    /// `createUser`: 409 when the id is taken.
    pub fn create_user(&self, id: &str) -> ApiResult<User> {
        let user = User { id: id.to_string(), creation_date: now_unix(), friendly_name: None, email: None };
        let txn = self.db.begin_write()?;
        {
            let mut users = txn.open_table(USERS)?;
            if users.get(id)?.is_some() {
                // lakeFS `handleApiErrorCallback`: `auth.ErrAlreadyExists` → 409 "Already exists"
                return Err(ApiError::Conflict("Already exists".into()));
            }
            users.insert(id, to_json(&user)?.as_slice())?;
        }
        txn.commit()?;
        Ok(user)
    }

    /// `getUser`, 404 when unknown.
    pub fn get_user(&self, id: &str) -> ApiResult<User> {
        self.user(id)?.ok_or_else(|| no_such_user(id))
    }

    /// `listUsers`: a page of users by id.
    pub fn list_users(&self, prefix: &str, after: &str, amount: usize) -> ApiResult<(Vec<User>, bool)> {
        let txn = self.db.begin_read()?;
        let (rows, more) = json_page(&txn.open_table(USERS)?, prefix, after, amount, |_: &User| true)?;
        Ok((rows.into_iter().map(|(_, u)| u).collect(), more))
    }

    /// `deleteUser`, with the user's access keys, policy attachments and external principals.
    pub fn delete_user(&self, id: &str) -> ApiResult<()> {
        if id == ADMIN_USER {
            return Err(ApiError::bad_request("the embedded server's admin user cannot be deleted"));
        }
        let txn = self.db.begin_write()?;
        {
            if txn.open_table(USERS)?.remove(id)?.is_none() {
                return Err(no_such_user(id));
            }
            let mut creds = txn.open_table(CREDENTIALS)?;
            for key in keys_where(&creds, |r: &CredentialRecord| r.user_id == id)? {
                creds.remove(key.as_str())?;
            }
            let mut principals = txn.open_table(PRINCIPALS)?;
            let owned = |p: &lakefs_api::auth_dto::ExternalPrincipal| p.user_id == id;
            for key in keys_where(&principals, owned)? {
                principals.remove(key.as_str())?;
            }
            let mut attached = txn.open_table(USER_POLICIES)?;
            for key in keys_with_prefix(&attached, &key2(id, ""))? {
                attached.remove(key.as_str())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// `createCredentials`: a new key pair for an existing user (404 otherwise).
    pub fn create_credentials(&self, user: &str) -> ApiResult<CredentialsWithSecret> {
        let txn = self.db.begin_write()?;
        let created = {
            if txn.open_table(USERS)?.get(user)?.is_none() {
                return Err(no_such_user(user));
            }
            let mut creds = txn.open_table(CREDENTIALS)?;
            let (ak, sk) = loop {
                let pair = generate_key_pair();
                if creds.get(pair.0.as_str())?.is_none() {
                    break pair;
                }
            };
            let rec =
                CredentialRecord { secret_access_key: sk.clone(), user_id: user.into(), creation_date: now_unix() };
            creds.insert(ak.as_str(), to_json(&rec)?.as_slice())?;
            CredentialsWithSecret { access_key_id: ak, secret_access_key: sk, creation_date: rec.creation_date }
        };
        txn.commit()?;
        Ok(created)
    }

    /// `getCredentials`: 404 unless the key belongs to `user`.
    pub fn get_credentials(&self, user: &str, access_key_id: &str) -> ApiResult<Credentials> {
        match self.credential(access_key_id)? {
            Some(r) if r.user_id == user => {
                Ok(Credentials { access_key_id: access_key_id.into(), creation_date: r.creation_date })
            }
            _ => Err(ApiError::not_found(format!("credentials {access_key_id:?} of user {user:?} not found"))),
        }
    }

    /// `listUserCredentials`: a page of the user's access keys (404 for an unknown user).
    pub fn list_credentials(
        &self,
        user: &str,
        prefix: &str,
        after: &str,
        amount: usize,
    ) -> ApiResult<(Vec<Credentials>, bool)> {
        let txn = self.db.begin_read()?;
        if txn.open_table(USERS)?.get(user)?.is_none() {
            return Err(no_such_user(user));
        }
        let table = txn.open_table(CREDENTIALS)?;
        let (rows, more) = json_page(&table, prefix, after, amount, |r: &CredentialRecord| r.user_id == user)?;
        let creds =
            rows.into_iter().map(|(ak, r)| Credentials { access_key_id: ak, creation_date: r.creation_date }).collect();
        Ok((creds, more))
    }

    /// `deleteCredentials`: 404 unless the key belongs to `user`; the admin's first key stays.
    pub fn delete_credentials(&self, user: &str, access_key_id: &str) -> ApiResult<()> {
        self.get_credentials(user, access_key_id)?;
        if self.setting("admin_access_key_id")?.as_deref() == Some(access_key_id) {
            return Err(ApiError::bad_request("the embedded server's admin access key cannot be deleted"));
        }
        let txn = self.db.begin_write()?;
        txn.open_table(CREDENTIALS)?.remove(access_key_id)?;
        txn.commit()?;
        Ok(())
    }
}

/// The keys of a JSON table whose values `keep` accepts.
pub(crate) fn keys_where<T, V>(table: &T, keep: impl FnMut(&V) -> bool) -> ApiResult<Vec<String>>
where
    T: ReadableTable<&'static str, &'static [u8]>,
    V: for<'de> serde::Deserialize<'de>,
{
    let (rows, _) = json_page(table, "", "", usize::MAX, keep)?;
    Ok(rows.into_iter().map(|(k, _)| k).collect())
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

    #[test]
    fn users_and_their_keys() {
        let dir = tempfile::tempdir().unwrap();
        let meta = Meta::open(&dir.path().join("m.redb")).unwrap();
        let (admin_key, _, _) = meta.ensure_admin().unwrap();
        for id in ["bob", "carol", "dave"] {
            meta.create_user(id).unwrap();
        }
        assert!(matches!(meta.create_user("bob"), Err(ApiError::Conflict(_))));
        let (page, more) = meta.list_users("", "admin", 2).unwrap();
        assert_eq!((page.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), more), (vec!["bob", "carol"], true));
        let (page, more) = meta.list_users("", "carol", 2).unwrap();
        assert_eq!((page.len(), more), (1, false));
        assert_eq!(meta.list_users("c", "", 10).unwrap().0[0].id, "carol");
        let k = meta.create_credentials("bob").unwrap();
        assert_eq!(meta.credential(&k.access_key_id).unwrap().unwrap().user_id, "bob");
        assert!(meta.get_credentials("carol", &k.access_key_id).is_err());
        assert_eq!(meta.list_credentials("bob", "", "", 10).unwrap().0.len(), 1);
        assert!(matches!(meta.create_credentials("nobody"), Err(ApiError::NotFound(_))));
        assert!(meta.delete_credentials(ADMIN_USER, &admin_key).is_err());
        assert!(meta.delete_user(ADMIN_USER).is_err());
        meta.delete_user("bob").unwrap();
        assert!(meta.credential(&k.access_key_id).unwrap().is_none());
        assert!(matches!(meta.delete_user("bob"), Err(ApiError::NotFound(_))));
    }
}
