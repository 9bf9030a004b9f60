//! The configuration file (`--config FILE` or `LAKEGATE_CONFIG`): one TOML table whose keys are
//! the long flag names with `_` for `-` (`admin_listen`, `lakefs_endpoint`, `domain = ["a", "b"]`,
//! `flat_buckets = true`). A setting given as a flag or in the environment wins over the file.
//!
//! The file is merged *before* the command line is parsed: each of its settings not already given
//! becomes one more `--flag=value` argument, so the file's values go through exactly the parsers
//! and checks the flags do. Every problem (unknown key, wrong type, invalid value, including
//! invalid `LAKEGATE_*` environment values) is collected, not just the first.

use clap::parser::ValueSource;
use clap::{ArgMatches, Command};
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Options that are actions of one invocation, not settings: never read from the file.
pub const NOT_SETTINGS: [&str; 2] = ["config", "check_config"];

/// The command line with the file's settings added, and the problems found on the way (settings
/// with a problem are left out).
#[derive(Debug, Default)]
pub struct Merged {
    pub argv: Vec<OsString>,
    pub problems: Vec<String>,
}

/// Adds the settings of the configuration file named by `--config`/`LAKEGATE_CONFIG` (if any) to
/// `argv`, for parsing by `cmd`, and checks `LAKEGATE_*` environment values of the subcommand.
pub fn merge(cmd: &Command, argv: Vec<OsString>) -> Merged {
    let Ok(matches) = cmd.clone().ignore_errors(true).try_get_matches_from(&argv) else {
        return Merged { argv, problems: Vec::new() }; // --help, --version: nothing to merge
    };
    let (path, leaf_cmd, leaf) = leaf(cmd, &matches);
    let checker = without_env(cmd.clone());
    let (mut problems, defaults) = env_problems(cmd, &checker, &path, leaf_cmd, leaf);
    let mut argv = argv;
    let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    argv.splice(at..at, defaults);
    let Some(file) = config_path(&matches, leaf) else {
        return Merged { argv, problems };
    };
    match read_table(&file) {
        Ok(table) => {
            let mut extra = Vec::new();
            for (key, value) in &table {
                match setting((cmd, &checker), &path, leaf_cmd, leaf, key, value) {
                    Ok(args) => extra.extend(args),
                    Err(p) => problems.push(format!("{}: {p}", file.display())),
                }
            }
            let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
            argv.splice(at..at, extra);
        }
        Err(p) => problems.push(p),
    }
    Merged { argv, problems }
}

/// The deepest subcommand: its name path, its `Command` and its matches.
fn leaf<'a>(cmd: &'a Command, matches: &'a ArgMatches) -> (Vec<String>, &'a Command, &'a ArgMatches) {
    let (mut path, mut c, mut m) = (Vec::new(), cmd, matches);
    while let Some((name, sub)) = m.subcommand() {
        let Some(sc) = c.find_subcommand(name) else { break };
        path.push(name.to_string());
        (c, m) = (sc, sub);
    }
    (path, c, m)
}

fn config_path(root: &ArgMatches, leaf: &ArgMatches) -> Option<PathBuf> {
    let get = |m: &ArgMatches| m.try_get_one::<PathBuf>("config").ok().flatten().cloned();
    get(leaf).or_else(|| get(root))
}

fn read_table(file: &std::path::Path) -> Result<toml::Table, String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
    text.parse::<toml::Table>().map_err(|e| format!("{}: not valid TOML: {}", file.display(), e.message()))
}

/// Every long option name (as a file key) anywhere in the command tree.
fn all_keys(cmd: &Command, into: &mut Vec<String>) {
    into.extend(cmd.get_arguments().filter_map(|a| a.get_long()).map(|l| l.replace('-', "_")));
    for sub in cmd.get_subcommands() {
        all_keys(sub, into);
    }
}

/// The argument named `key` (`admin_listen` → `--admin-listen`) of the subcommand, or a global one.
fn find_arg<'a>(root: &'a Command, leaf: &'a Command, key: &str) -> Option<&'a clap::Arg> {
    let long = key.replace('_', "-");
    let named = |a: &&clap::Arg| a.get_long() == Some(long.as_str());
    leaf.get_arguments().find(named).or_else(|| root.get_arguments().filter(|a| a.is_global_set()).find(named))
}

fn overridden(m: &ArgMatches, id: &str) -> bool {
    matches!(m.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
}

/// The arguments one file setting adds (none when a flag or the environment already set it).
fn setting(
    (root, checker): (&Command, &Command),
    path: &[String],
    leaf_cmd: &Command,
    leaf: &ArgMatches,
    key: &str,
    value: &toml::Value,
) -> Result<Vec<OsString>, String> {
    if NOT_SETTINGS.contains(&key) {
        return Err(format!("`{key}` is an option of the command line, not a setting of the file"));
    }
    let Some(arg) = find_arg(root, leaf_cmd, key).filter(|_| !key.contains('-')) else {
        let mut known = Vec::new();
        all_keys(root, &mut known);
        if known.iter().any(|k| k == key) {
            return Ok(Vec::new()); // a setting of another subcommand (`dev`, `keys`)
        }
        return Err(unknown(key, &known));
    };
    if overridden(leaf, arg.get_id().as_str()) {
        return Ok(Vec::new());
    }
    let long = arg.get_long().unwrap_or_default();
    if !arg.get_action().takes_values() {
        return match value {
            toml::Value::Boolean(true) => Ok(vec![format!("--{long}").into()]),
            toml::Value::Boolean(false) => Ok(Vec::new()),
            other => Err(format!("{key} = {other}: a switch, write true or false")),
        };
    }
    let values = scalars(key, value)?;
    if values.len() > 1 && !matches!(arg.get_action(), clap::ArgAction::Append) {
        return Err(format!("{key} takes one value, not a list"));
    }
    let mut args = Vec::new();
    for v in values {
        let one: OsString = format!("--{long}={v}").into();
        if let Some(why) = invalid(checker, path, &one) {
            return Err(format!("{key} = {v:?}: {why}"));
        }
        args.push(one);
    }
    Ok(args)
}

fn unknown(key: &str, known: &[String]) -> String {
    let close = known.iter().filter(|k| distance(k, key) <= 2).min_by_key(|k| distance(k, key));
    match close {
        Some(k) => format!("unknown key `{key}` (did you mean `{k}`?)"),
        None if key.contains('-') => format!("unknown key `{key}` (keys are flag names with `_` for `-`)"),
        None => format!("unknown key `{key}`"),
    }
}

/// A TOML value as the strings a flag would take.
fn scalars(key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    use toml::Value;
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("{key}: a {} is not a valid value", other.type_str())),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|v| vec![v]),
    }
}

/// `cmd` reading no environment variable: one value is checked on its own, not masked by an
/// invalid `LAKEGATE_*` value of another option.
fn without_env(cmd: Command) -> Command {
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    let mut cmd = cmd.mut_args(|a| a.env(None));
    for name in names {
        cmd = cmd.mut_subcommand(name, without_env);
    }
    cmd
}

/// Why `arg` (one `--flag=value`) is refused by the subcommand at `path` of `checker` (a command
/// built by [`without_env`]), if it is.
fn invalid(root: &Command, path: &[String], arg: &OsStr) -> Option<String> {
    use clap::error::ErrorKind;
    let mut argv: Vec<OsString> = vec![root.get_name().into()];
    argv.extend(path.iter().map(OsString::from));
    argv.push(arg.to_os_string());
    let err = root.clone().try_get_matches_from(argv).err()?;
    if !matches!(err.kind(), ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::InvalidUtf8) {
        return None; // a missing unrelated argument, not this value
    }
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    Some(first.trim_start_matches("error: ").to_string())
}

/// Invalid `LAKEGATE_*` values of the subcommand's options (clap would stop at the first), and
/// `--flag=default` arguments that stand in for them so the rest can still be parsed and checked.
fn env_problems(
    root: &Command,
    checker: &Command,
    path: &[String],
    leaf_cmd: &Command,
    leaf: &ArgMatches,
) -> (Vec<String>, Vec<OsString>) {
    let (mut problems, mut defaults) = (Vec::new(), Vec::new());
    let globals = root.get_arguments().filter(|a| a.is_global_set());
    for arg in leaf_cmd.get_arguments().chain(globals) {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else { continue };
        let Some(value) = std::env::var_os(env) else { continue };
        if !arg.get_action().takes_values()
            || matches!(leaf.value_source(arg.get_id().as_str()), Some(ValueSource::CommandLine))
        {
            continue;
        }
        let mut one = OsString::from(format!("--{long}="));
        one.push(&value);
        if let Some(why) = invalid(checker, path, &one) {
            problems.push(format!("{}={:?}: {why}", env.to_string_lossy(), value));
            if let Some(default) = arg.get_default_values().first() {
                let mut stand_in = OsString::from(format!("--{long}="));
                stand_in.push(default);
                defaults.push(stand_in);
            }
        }
    }
    (problems, defaults)
}

/// Levenshtein distance (short keys only).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests;
