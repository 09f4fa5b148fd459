//! The command line itself: help for every subcommand, exit codes for usage errors.

use crate::support::Test;
use insta::assert_snapshot;

/// The subcommands the top-level help lists (so a new one gets its snapshot without editing
/// this test).
fn subcommands() -> Vec<String> {
    let out = Test::new().args(&["--help"]).run().status(0);
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

#[test]
fn help_for_every_subcommand() {
    let subs = subcommands();
    assert!(subs.len() >= 5, "{subs:?}");
    for sub in std::iter::once("").chain(subs.iter().map(String::as_str)) {
        let args: Vec<&str> = [sub, "--help"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let out = Test::new().args(&args).run().status(0);
        let name = if sub.is_empty() {
            "help".to_owned()
        } else {
            format!("help_{sub}")
        };
        insta::with_settings!({filters => vec![(r"trustops \d+\.\d+\.\d+", "trustops [version]")]}, {
            assert_snapshot!(name, out.stdout);
        });
    }
}

#[test]
fn usage_errors_exit_1_never_2() {
    let out = Test::new()
        .args(&["validate", "--format", "xml"])
        .run()
        .status(1);
    assert!(out.stderr.contains("invalid value 'xml'"), "{}", out.stderr);
    Test::new().args(&["no-such-command"]).run().status(1);
    Test::new()
        .args(&["--now", "soon", "demo", "d"])
        .run()
        .status(1);
}

/// The release and the commit it was built from: this checkout's HEAD (the binary under
/// test was built from it), or `unknown` outside Git.
#[test]
fn version_names_the_release_and_the_commit() {
    let out = Test::new().args(&["--version"]).run().status(0);
    let head = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(crate::support::root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("unknown".to_owned(), |o| {
            String::from_utf8_lossy(&o.stdout).trim().to_owned()
        });
    assert_eq!(
        out.stdout.trim(),
        format!("trustops {} ({head})", env!("CARGO_PKG_VERSION"))
    );
}

/// Completions load in a real bash and complete subcommands; the man page renders with man(1).
#[test]
fn completions_and_man_pages_come_from_the_cli_definitions() {
    let out = crate::support::Test::new()
        .args(&["completions", "bash"])
        .run()
        .status(0);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trustops.bash"), &out.stdout).unwrap();
    let script = r#"source trustops.bash; COMP_WORDS=(trustops contr); COMP_CWORD=1; _trustops trustops contr trustops; echo "${COMPREPLY[@]}""#;
    let completed = std::process::Command::new("bash")
        .args(["-c", script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&completed.stdout).trim(),
        "controller"
    );
    let man = crate::support::Test::new().args(&["man"]).run().status(0);
    assert!(man.stdout.contains(".TH trustops 1"), "{}", man.stdout);
    assert!(man.stdout.contains(".TH trustops-controller 1"));
    std::fs::write(dir.path().join("trustops.1"), &man.stdout).unwrap();
    let (ok, text) = crate::support::tool("man", &["-l", "trustops.1"], dir.path());
    assert!(
        ok && text.contains("GitOps for machine identities"),
        "{text}"
    );
}

/// Colours follow `--color`, then the conventions: NO_COLOR turns them off, CLICOLOR_FORCE on
/// (for CI logs that render ANSI), and output that is not a terminal stays plain.
#[test]
fn colours_follow_the_flag_then_no_color_and_clicolor_force() {
    let invalid = crate::support::root().join("examples/invalid");
    let validate = |args: &[&str], env: &[(&str, &str)]| {
        let mut test = Test::new().args(&["--repo", &invalid.to_string_lossy(), "validate"]);
        test = test.args(args);
        for (k, v) in env {
            test = test.env(k, v);
        }
        test.run().status(1).stdout.contains('\x1b')
    };
    assert!(validate(&["--color", "always"], &[]));
    assert!(!validate(&[], &[("NO_COLOR", "")]), "not a terminal");
    assert!(validate(&[], &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]));
    assert!(!validate(&[], &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "0")]));
    assert!(!validate(
        &[],
        &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]
    ));
    assert!(!validate(
        &["--color", "never"],
        &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")]
    ));
}

/// Every command reads `--now` alike: a time `plan` refuses, `validate` refuses too.
#[test]
fn a_time_one_command_refuses_every_command_refuses() {
    for command in ["validate", "plan", "schema"] {
        let out = Test::new()
            .args(&["--now", "yesterday", command])
            .run()
            .status(1);
        assert!(
            out.stderr
                .contains("--now `yesterday`: expected an RFC 3339 time"),
            "{command}: {}",
            out.stderr
        );
    }
}
