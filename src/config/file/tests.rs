use super::*;
use crate::cmd::cli::{Cli, Command as Sub};
use clap::{CommandFactory, FromArgMatches};

fn argv(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn with_file(toml: &str, args: &[&str]) -> (Merged, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lakegate.toml");
    std::fs::write(&path, toml).unwrap();
    let mut all = vec!["lakegate", "serve", "--config", path.to_str().unwrap()];
    all.extend_from_slice(args);
    (merge(&Cli::command(), argv(&all)), dir)
}

fn parse(merged: &Merged) -> Cli {
    let m = Cli::command().try_get_matches_from(&merged.argv).unwrap();
    Cli::from_arg_matches(&m).unwrap()
}

#[test]
fn file_settings_become_arguments() {
    let (merged, _d) = with_file(
        r#"
listen = "127.0.0.1:9000"
admin_listen = "127.0.0.1:9001"
domain = ["s3.a", "s3.b"]
flat_buckets = true
allow_sigv2 = false
small_object_cache = 3
max_requests_per_key = 7
log_format = "json"
api_listen = "127.0.0.1:1"   # a `dev` setting: ignored by serve
"#,
        &["--small-object-cache", "5"],
    );
    assert_eq!(merged.problems, Vec::<String>::new());
    let cli = parse(&merged);
    assert_eq!(cli.log_format, "json");
    let Sub::Serve(serve) = cli.command else { panic!("serve") };
    let g = &serve.gateway;
    assert_eq!(g.listen.port(), 9000);
    assert_eq!(g.admin_addr().port(), 9001);
    assert_eq!(g.domains, ["s3.a", "s3.b"]);
    assert!(g.flat_buckets && !g.allow_sigv2);
    assert_eq!(g.small_object_cache, 5, "the flag wins over the file");
    assert_eq!(g.limits.max_requests_per_key, 7);
    assert_eq!(g.limits.idle_timeout_secs, 60, "defaults stay");
}

#[test]
fn every_problem_is_reported_at_once() {
    let (merged, _d) = with_file(
        r#"
lisen = "127.0.0.1:9000"
small_object_cache = "many"
flat_buckets = "yes"
region = ["a", "b"]
listen = { host = "x" }
max_connections = 0
admin-listen = "127.0.0.1:1"
config = "other.toml"
"#,
        &[],
    );
    let p = merged.problems.join("\n");
    assert_eq!(merged.problems.len(), 8, "{p}");
    for needle in [
        "unknown key `lisen` (did you mean `listen`?)",
        "small_object_cache = \"many\": invalid value",
        "flat_buckets = \"yes\": a switch",
        "region takes one value",
        "listen: a table is not a valid value",
        "max_connections = \"0\"",
        "unknown key `admin-listen` (did you mean `admin_listen`?)",
        "`config` is an option of the command line",
    ] {
        assert!(p.contains(needle), "missing {needle:?} in:\n{p}");
    }
    // what was valid still parses; the problems left their settings out
    parse(&merged);
}

#[test]
fn unreadable_or_broken_files_are_problems() {
    let merged = merge(&Cli::command(), argv(&["lakegate", "serve", "--config", "/nonexistent/lakegate.toml"]));
    assert!(merged.problems[0].contains("cannot read"), "{:?}", merged.problems);
    let (merged, _d) = with_file("listen = ", &[]);
    assert!(merged.problems[0].contains("not valid TOML"), "{:?}", merged.problems);
}

#[test]
fn without_a_file_nothing_changes() {
    let args = argv(&["lakegate", "serve", "--listen", "127.0.0.1:1"]);
    let merged = merge(&Cli::command(), args.clone());
    assert_eq!(merged.argv, args);
    let help = merge(&Cli::command(), argv(&["lakegate", "--help"]));
    assert_eq!(help.argv, argv(&["lakegate", "--help"]));
}

#[test]
fn edit_distance() {
    assert_eq!(distance("lisen", "listen"), 1);
    assert_eq!(distance("abc", "abc"), 0);
    assert_eq!(distance("", "ab"), 2);
}
