//! `lakegate keys create|list|show|delete`: gateway keys in the key file, each bound to a lakeFS
//! user as an **external principal** (lakeFS `createUserExternalPrincipal`,
//! `listUserExternalPrincipals`, `deleteUserExternalPrincipal`, `getExternalPrincipal`), or with a
//! lakeFS key pair of its own (`createCredentials`) for a lakeFS without external principals.
//!
//! The commands read the configuration `lakegate serve` reads (the same flags and environment
//! variables); `--dev DIR` takes the lakeFS endpoint and admin key from a `lakegate dev` data dir
//! (`dev.json`) and its key file (`keys.toml`), which the running instance reloads.

use crate::auth::keystore::{self, KeyRecord, KeysFile, ModeName};
use crate::config::{IdentityArgs, LakeFsArgs};
use lakefs_api::{LakeFsClient, LakeFsError};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Debug, clap::Subcommand)]
pub enum KeysCommand {
    /// Generate a key pair for a lakeFS user, store it in the key file and attach its principal
    /// id to the user in lakeFS.
    Create {
        /// The lakeFS user the key acts as.
        #[arg(long)]
        user: String,
        /// External principal id (default `arn:lakegate:iam::key/<access key id>`).
        #[arg(long)]
        principal: Option<String>,
        /// The key's mode (default: --identity-mode). `lakefs-key` creates lakeFS credentials
        /// for the user; `service` touches nothing in lakeFS.
        #[arg(long, value_enum)]
        mode: Option<ModeName>,
        /// Print `{"access_key_id", "secret_access_key", "principal_id", "user_id", "mode"}`.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// List the keys of the key file, and whether lakeFS has their principals attached.
    List {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// Show one key (never its secret): principal, user, mode.
    Show {
        access_key_id: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        conn: Conn,
    },
    /// Delete a key from the key file and detach its principal from its lakeFS user.
    Delete {
        access_key_id: String,
        #[command(flatten)]
        conn: Conn,
    },
}

/// Where the key file and lakeFS are.
#[derive(Debug, Clone, clap::Args)]
pub struct Conn {
    /// A `lakegate dev` data dir: its lakeFS endpoint and admin key (dev.json) and key file.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["lakefs_endpoint", "keys_file"])]
    pub dev: Option<PathBuf>,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub lakefs: LakeFsArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    #[error(transparent)]
    File(#[from] keystore::KeyFileError),
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Usage(String),
    #[error("lakeFS: {0}")]
    LakeFs(#[from] LakeFsError),
}

/// What `keys create --json` prints.
#[derive(Debug, Serialize)]
pub struct CreatedKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub principal_id: String,
    pub user_id: String,
    pub mode: ModeName,
}

/// What `keys list|show --json` print (no secret).
#[derive(Debug, Serialize)]
pub struct KeyInfo {
    pub access_key_id: String,
    pub principal_id: String,
    pub mode: ModeName,
    /// The user lakeFS has the principal attached to (principal mode), else the recorded one.
    pub user_id: Option<String>,
    /// Principal mode: whether lakeFS has the principal attached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attached: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lakefs_access_key_id: Option<String>,
}

struct Resolved {
    keys_file: PathBuf,
    default_mode: ModeName,
    lakefs: LakeFsClient,
}

fn resolve(conn: &Conn) -> Result<Resolved, KeysError> {
    let mut lakefs_args = conn.lakefs.clone();
    let mut keys_file = conn.identity.keys_file.clone();
    if let Some(dir) = &conn.dev {
        lakefs_args = LakeFsArgs::from_dev_dir(dir).map_err(KeysError::Usage)?;
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("dev.json")).unwrap_or_default()).unwrap_or_default();
        let recorded = info.get("keys_file").and_then(|v| v.as_str()).map(PathBuf::from);
        keys_file = Some(recorded.unwrap_or_else(|| dir.join("keys.toml")));
    }
    let keys_file = keys_file
        .ok_or_else(|| KeysError::Usage("--keys-file (LAKEGATE_KEYS_FILE) or --dev DIR is required".into()))?;
    let lakefs = lakefs_args.client(conn.identity.lakefs_server_id.as_deref())?;
    Ok(Resolved { keys_file, default_mode: conn.identity.identity_mode, lakefs })
}

/// The key file's contents; an absent file is an empty one.
fn load(r: &Resolved) -> Result<KeysFile, KeysError> {
    if !r.keys_file.exists() {
        return Ok(KeysFile::default());
    }
    Ok(keystore::read(&r.keys_file, r.default_mode)?)
}

/// Runs one `lakegate keys` command.
pub async fn run(command: KeysCommand) -> Result<(), KeysError> {
    match command {
        KeysCommand::Create { user, principal, mode, json, conn } => {
            let r = resolve(&conn)?;
            let created = create(&r.lakefs, &r.keys_file, r.default_mode, &user, principal, mode).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&created).unwrap_or_default());
            } else {
                print_created(&created, &r.keys_file);
            }
            Ok(())
        }
        KeysCommand::List { json, conn } => {
            let r = resolve(&conn)?;
            let mut infos = Vec::new();
            for k in load(&r)?.keys {
                infos.push(info(&r, &k).await?);
            }
            print_infos(&infos, json, false);
            Ok(())
        }
        KeysCommand::Show { access_key_id, json, conn } => {
            let r = resolve(&conn)?;
            let file = load(&r)?;
            let k = find(&file, &access_key_id)?;
            print_infos(&[info(&r, k).await?], json, true);
            Ok(())
        }
        KeysCommand::Delete { access_key_id, conn } => {
            let r = resolve(&conn)?;
            delete(&r, &access_key_id).await
        }
    }
}

fn find<'a>(file: &'a KeysFile, access_key_id: &str) -> Result<&'a KeyRecord, KeysError> {
    file.keys
        .iter()
        .find(|k| k.access_key_id == access_key_id)
        .ok_or_else(|| KeysError::Usage(format!("no key {access_key_id:?} in the key file")))
}

fn rfc3339_now() -> String {
    lakegate_net::util::format_iso8601(std::time::SystemTime::now())
}

/// Creates a key for `user`: lakeFS first (attach the principal, or create lakeFS credentials),
/// then the key file; a failed file write undoes the lakeFS side.
pub async fn create(
    lakefs: &LakeFsClient,
    keys_file: &std::path::Path,
    default_mode: ModeName,
    user: &str,
    principal: Option<String>,
    mode: Option<ModeName>,
) -> Result<CreatedKey, KeysError> {
    let mut file = if keys_file.exists() { keystore::read(keys_file, default_mode)? } else { KeysFile::default() };
    let (ak, sk) = keystore::generate_key_pair();
    let principal_id = principal.unwrap_or_else(|| crate::auth::default_principal_id(&ak));
    let effective = mode.unwrap_or(default_mode);
    let mut record = KeyRecord {
        access_key_id: ak.clone(),
        secret_access_key: sk.clone(),
        principal_id: Some(principal_id.clone()),
        user_id: Some(user.to_string()),
        mode,
        created: Some(rfc3339_now()),
        ..Default::default()
    };
    match effective {
        ModeName::Principal => lakefs.create_user_external_principal(user, &principal_id).await.map_err(|e| {
            if e.status().map(|s| s.as_u16()) == Some(501) {
                KeysError::Usage(format!(
                    "this lakeFS has no external principals ({e}); create the key with --mode lakefs-key or --mode service"
                ))
            } else {
                KeysError::LakeFs(e)
            }
        })?,
        ModeName::LakefsKey => {
            let c = lakefs.create_credentials(user).await?;
            record.lakefs_access_key_id = Some(c.access_key_id);
            record.lakefs_secret_access_key = Some(c.secret_access_key);
        }
        ModeName::Service => {}
    }
    file.keys.push(record.clone());
    if let Err(e) = keystore::write(keys_file, &file) {
        undo(lakefs, &record, effective, user).await;
        return Err(e.into());
    }
    Ok(CreatedKey {
        access_key_id: ak,
        secret_access_key: sk,
        principal_id,
        user_id: user.to_string(),
        mode: effective,
    })
}

async fn undo(lakefs: &LakeFsClient, record: &KeyRecord, mode: ModeName, user: &str) {
    let result = match mode {
        ModeName::Principal => lakefs.delete_user_external_principal(user, &record.principal()).await,
        ModeName::LakefsKey => {
            lakefs.delete_credentials(user, record.lakefs_access_key_id.as_deref().unwrap_or_default()).await
        }
        ModeName::Service => Ok(()),
    };
    if let Err(e) = result {
        eprintln!("lakegate: could not undo the lakeFS side of the key: {e}");
    }
}

async fn info(r: &Resolved, k: &KeyRecord) -> Result<KeyInfo, KeysError> {
    let mode = k.mode_name(r.default_mode);
    let principal_id = k.principal();
    let (user_id, attached) = match mode {
        ModeName::Principal => match r.lakefs.get_external_principal(&principal_id).await {
            Ok(p) => (Some(p.user_id), Some(true)),
            Err(e) if e.is_not_found() => (k.user_id.clone(), Some(false)),
            Err(e) => return Err(e.into()),
        },
        _ => (k.user_id.clone(), None),
    };
    if let (Some(user), Some(true)) = (&user_id, attached) {
        // Cross-check with the user's own list, as lakeFS's UI shows it.
        let listed = r.lakefs.list_user_external_principals(user, "", Some(1000)).await?;
        let found = listed.results.iter().any(|p| p.id == principal_id);
        return Ok(KeyInfo {
            access_key_id: k.access_key_id.clone(),
            principal_id,
            mode,
            user_id,
            attached: Some(found),
            lakefs_access_key_id: None,
        });
    }
    Ok(KeyInfo {
        access_key_id: k.access_key_id.clone(),
        principal_id,
        mode,
        user_id,
        attached,
        lakefs_access_key_id: k.lakefs_access_key_id.clone(),
    })
}

async fn delete(r: &Resolved, access_key_id: &str) -> Result<(), KeysError> {
    let mut file = load(r)?;
    let record = find(&file, access_key_id)?.clone();
    let principal_id = record.principal();
    let shared = file.keys.iter().any(|k| k.access_key_id != access_key_id && k.principal() == principal_id);
    file.keys.retain(|k| k.access_key_id != access_key_id);
    keystore::write(&r.keys_file, &file)?;
    if record.mode_name(r.default_mode) == ModeName::Principal && !shared {
        match r.lakefs.get_external_principal(&principal_id).await {
            Ok(p) => r.lakefs.delete_user_external_principal(&p.user_id, &principal_id).await?,
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
    }
    println!("deleted key {access_key_id}{}", if shared { " (its principal stays: other keys use it)" } else { "" });
    Ok(())
}

fn print_created(c: &CreatedKey, keys_file: &std::path::Path) {
    println!(
        "created key for lakeFS user {user} (mode {mode:?}, stored in {file})\n\
         \n  access key id:      {ak}\n  secret access key:  {sk}\n  principal id:       {p}\n\
         \nThe secret is shown once; it is kept only in the key file.",
        user = c.user_id,
        mode = c.mode,
        file = keys_file.display(),
        ak = c.access_key_id,
        sk = c.secret_access_key,
        p = c.principal_id,
    );
}

fn print_infos(infos: &[KeyInfo], json: bool, single: bool) {
    if json {
        let out = match infos {
            [one] if single => serde_json::to_string_pretty(one),
            _ => serde_json::to_string_pretty(infos),
        };
        println!("{}", out.unwrap_or_default());
        return;
    }
    println!("{:<22} {:<11} {:<16} {:<9} PRINCIPAL", "ACCESS KEY ID", "MODE", "USER", "ATTACHED");
    for i in infos {
        let mode = serde_json::to_value(i.mode).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        let attached = i.attached.map_or("-", |a| if a { "yes" } else { "no" });
        let user = i.user_id.as_deref().unwrap_or("-");
        println!("{:<22} {:<11} {:<16} {:<9} {}", i.access_key_id, mode, user, attached, i.principal_id);
    }
}
