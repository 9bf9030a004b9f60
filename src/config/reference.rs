//! The configuration reference in docs/operations.md, rendered from the flag definitions themselves
//! (name, file key, environment variable, default, help) so it cannot drift: a test compares that
//! file with [`markdown`] (`LAKEGATE_UPDATE_README=1 cargo test config::reference` rewrites it).

use clap::{Arg, Command};

/// Where the reference sits in docs/operations.md.
pub const START: &str = "<!-- config-reference:start -->";
pub const END: &str = "<!-- config-reference:end -->";

fn cell(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn row(arg: &Arg) -> Option<String> {
    let long = arg.get_long()?;
    if arg.is_hide_set() || long == "help" || long == "version" {
        return None;
    }
    let env = arg.get_env().map_or("—".to_string(), |e| format!("`{}`", e.to_string_lossy()));
    let defaults: Vec<String> = arg.get_default_values().iter().map(|v| v.to_string_lossy().into_owned()).collect();
    let default = match (defaults.is_empty(), arg.get_action().takes_values()) {
        (false, _) => format!("`{}`", defaults.join(",")),
        (true, false) => "`false`".to_string(),
        (true, true) => "—".to_string(),
    };
    let help = arg.get_long_help().or(arg.get_help()).map(|h| cell(&h.to_string())).unwrap_or_default();
    let key = long.replace('-', "_");
    let key = if super::file::NOT_SETTINGS.contains(&key.as_str()) { "—".to_string() } else { format!("`{key}`") };
    Some(format!("| {key} | `--{long}` | {env} | {default} | {help} |"))
}

/// The reference table of `lakegate <sub>` (its options and the global ones).
pub fn markdown(root: &Command, sub: &str) -> String {
    let mut out = String::from("| file key | flag | environment | default | meaning |\n|---|---|---|---|---|\n");
    let globals = root.get_arguments().filter(|a| a.is_global_set());
    let Some(cmd) = root.find_subcommand(sub) else { return out };
    for line in cmd.get_arguments().chain(globals).filter_map(row) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// docs/operations.md's reference is the one the flags render (set `LAKEGATE_UPDATE_README=1` to
    /// rewrite it after changing a flag).
    #[test]
    fn readme_reference_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let (Some(a), Some(b)) = (readme.find(START), readme.find(END)) else {
            panic!("docs/operations.md lacks the {START} … {END} markers")
        };
        let table = markdown(&crate::cmd::cli::Cli::command(), "serve");
        let want = format!("{START}\n{table}{END}");
        if std::env::var_os("LAKEGATE_UPDATE_README").is_some() {
            let updated = format!("{}{want}{}", &readme[..a], &readme[b + END.len()..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        assert_eq!(
            &readme[a..b + END.len()],
            want,
            "docs/operations.md's configuration reference is stale: rerun with LAKEGATE_UPDATE_README=1"
        );
    }

    #[test]
    fn rows_name_key_env_and_default() {
        let table = markdown(&crate::cmd::cli::Cli::command(), "serve");
        assert!(
            table.contains("| `max_connections` | `--max-connections` | `LAKEGATE_MAX_CONNECTIONS` | `4096` |"),
            "{table}"
        );
        assert!(table.contains("| `flat_buckets` | `--flat-buckets` | `LAKEGATE_FLAT_BUCKETS` | `false` |"), "{table}");
        assert!(table.contains("| — | `--config` | `LAKEGATE_CONFIG` | — |"), "{table}");
        assert!(!table.contains("config_problems"));
    }
}
