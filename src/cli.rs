//! The command line (FORMAT.md section 7). Exit status: 0 success, 1 the site has
//! errors, 2 the command line is wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::config::Overrides;
use crate::diagnostics::Severity;
use crate::engine::{self, Options};
use crate::report::{self, Format};
use crate::scaffold;

#[derive(Parser)]
#[command(
    name = "casebook",
    version,
    about = "A static site generator for breach case studies",
    long_about = "A static site generator for breach case studies: Markdown write-ups with TOML \
front matter become a cross-linked static site with an ATT&CK matrix, feeds and exports.",
    after_help = "Examples:\n  casebook init my-cases\n  casebook new case acme-2025\n  casebook serve --drafts\n  \
casebook build\n\nExit status: 0 success, 1 the site has errors, 2 the command line is wrong.\n\
Documentation: docs/README.md in Casebook's repository."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the site into the output folder
    #[command(after_help = "Example:\n  casebook build --base-url https://example.github.io/cases")]
    Build {
        /// The site's folder (default: the nearest folder, here or above, with a site.toml)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Output folder (default: site.toml's [build] output, relative to the root)
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// The address the site will be published at, e.g. https://user.github.io/repo (default: site.toml's base_url)
        #[arg(long, value_name = "URL", value_parser = crate::config::base_url)]
        base_url: Option<String>,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Treat warnings as errors
        #[arg(long)]
        strict: bool,
        /// Print how long each stage took
        #[arg(long)]
        timings: bool,
        /// Build everything, neither reading nor writing the build cache
        #[arg(long)]
        no_cache: bool,
    },
    /// Check everything a build would, writing nothing
    #[command(after_help = "Examples:\n  casebook check\n  casebook check --format github --strict   # in CI")]
    Check {
        /// The site's folder (default: the nearest folder, here or above, with a site.toml)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// How to print problems: for people, as JSON, or as GitHub Actions annotations
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
        /// Treat warnings as errors
        #[arg(long)]
        strict: bool,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Also fetch every external link (references, websites, links in bodies)
        #[arg(long)]
        external: bool,
        /// With --external: how many links are fetched at once
        #[arg(long, default_value_t = 8, value_name = "N")]
        external_concurrency: usize,
        /// With --external: seconds before a link counts as unreachable
        #[arg(long, default_value_t = 15, value_name = "SECONDS")]
        external_timeout: u64,
    },
    /// Build, serve on 127.0.0.1, rebuild on change and reload open pages
    #[command(after_help = "Example:\n  casebook serve --drafts --open")]
    Serve {
        /// The site's folder (default: the nearest folder, here or above, with a site.toml)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Address to listen on (loopback by default: the site is not shared)
        #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
        bind: String,
        /// Port (default: 1111, or the next free one; 0: any free port)
        #[arg(long, value_name = "N")]
        port: Option<u16>,
        /// Include drafts
        #[arg(long)]
        drafts: bool,
        /// Open the site in a browser once it is built
        #[arg(long)]
        open: bool,
    },
    /// Write a new case or organization from a template
    #[command(after_help = "Examples:\n  casebook new case acme-2025\n  casebook new org \"Acme Corp\"")]
    New {
        #[command(subcommand)]
        what: NewWhat,
        /// The site's folder (default: the nearest folder, here or above, with a site.toml)
        #[arg(long, global = true, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Remove the output folder and the build cache
    #[command(after_help = "Example:\n  casebook clean")]
    Clean {
        /// The site's folder (default: the nearest folder, here or above, with a site.toml)
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
    /// Make a new site with an example case, ready to build
    #[command(after_help = "Example:\n  casebook init my-cases")]
    Init {
        /// The folder to make the site in (empty or not there yet)
        dir: PathBuf,
    },
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  casebook completions bash > ~/.local/share/bash-completion/completions/casebook"
    )]
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), or write one page per command into a folder
    #[command(
        after_help = "Examples:\n  casebook man > casebook.1 && man ./casebook.1\n  casebook man --dir man/ && man man/casebook-build.1"
    )]
    Man {
        /// Write casebook.1 and one page per command (casebook-build.1, ...) into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum NewWhat {
    /// Write content/cases/SLUG.md, a new case to fill in
    #[command(after_help = "Example:\n  casebook new case acme-2025")]
    Case {
        /// The case's slug: its file name and address (a-z, 0-9 and -)
        #[arg(value_parser = scaffold::case_slug)]
        slug: String,
    },
    /// Write content/organizations/SLUG.md, a profile of NAME
    #[command(after_help = "Example:\n  casebook new org \"Acme Corp\"")]
    Org {
        /// The organization's name, as cases write it
        #[arg(value_parser = scaffold::org_name)]
        name: String,
    },
}

/// The command line's definition, for completions and the manual page.
fn command() -> clap::Command {
    Cli::command()
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    let root = match &cli.command {
        Command::Build { root, .. }
        | Command::Check { root, .. }
        | Command::Serve { root, .. }
        | Command::New { root, .. }
        | Command::Clean { root, .. } => match site_root(root.clone()) {
            Ok(r) => r,
            Err(code) => return code,
        },
        Command::Init { .. } | Command::Completions { .. } | Command::Man { .. } => PathBuf::new(),
    };
    match cli.command {
        Command::Build { root: _, output, base_url, drafts, strict, timings, no_cache } => {
            let options = Options {
                root,
                overrides: Overrides { output, base_url, drafts },
                write: true,
                cache: !no_cache,
                ..Default::default()
            };
            let report = engine::run(&options, strict);
            if let Some(note) = &report.cache {
                eprintln!("note: {note}");
            }
            // A build lists problems; what it left out is `check`'s to list, one line here.
            eprint!("{}", report::human(&report::problems(&report.diagnostics.items)));
            if timings {
                let (read, known) = report.content_files;
                eprintln!("content files: {read} read, {known} known by their stamps");
                for (n, (stage, ms)) in report.timings.iter().enumerate() {
                    match report.resident.get(n).copied().flatten() {
                        Some(mb) => eprintln!(
                            "{stage:>8}: {ms} ms ({} MB resident after, {} MB of it mapped files)",
                            mb.total, mb.mapped
                        ),
                        None => eprintln!("{stage:>8}: {ms} ms"),
                    }
                }
                eprintln!(
                    "render, by part (pages: thread time, workers summed; the rest: wall time; writes included):"
                );
                for (part, ms) in &report.render_parts {
                    eprintln!("  {part:>42}: {ms} ms");
                }
            }
            finish(&report, true)
        }
        Command::Check { root: _, format, strict, drafts, external, external_concurrency, external_timeout } => {
            let external = external.then(|| crate::external::Options {
                concurrency: external_concurrency,
                timeout: std::time::Duration::from_secs(external_timeout),
                retries: 1,
            });
            let overrides = Overrides { drafts, ..Default::default() };
            let options = Options { root, overrides, write: false, external, ..Default::default() };
            let report = engine::run(&options, strict);
            let text = report::format(&report.diagnostics.items, format);
            if format == Format::Human {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            finish(&report, format == Format::Human)
        }
        Command::Serve { root: _, bind, port, drafts, open } => {
            crate::serve::run(crate::serve::Options { root, bind, port, drafts, open })
        }
        Command::New { what, root: _ } => {
            let result = match what {
                NewWhat::Case { slug } => scaffold::new_case(&root, &slug),
                NewWhat::Org { name } => scaffold::new_org(&root, &name),
            };
            scaffold_result(result)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut command(), "casebook", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Man { dir: Some(dir) } => {
            match std::fs::create_dir_all(&dir).and_then(|()| clap_mangen::generate_to(command(), &dir)) {
                Ok(()) => {
                    eprintln!("wrote the manual pages into {}", dir.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: cannot write the manual pages into {}: {e}", dir.display());
                    ExitCode::from(1)
                }
            }
        }
        Command::Man { dir: None } => match clap_mangen::Man::new(command()).render(&mut std::io::stdout()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: cannot write the manual page: {e}");
                ExitCode::from(1)
            }
        },
        Command::Clean { root: _ } => match engine::clean(&root) {
            Ok(removed) if removed.is_empty() => {
                eprintln!("nothing to remove");
                ExitCode::SUCCESS
            }
            Ok(removed) => {
                for p in removed {
                    eprintln!("removed {}", p.display());
                }
                ExitCode::SUCCESS
            }
            Err(d) => {
                eprint!("{}", report::human(&[d]));
                ExitCode::from(1)
            }
        },
        Command::Init { dir } => {
            let code = scaffold_result(scaffold::init(&dir));
            if code == ExitCode::SUCCESS {
                eprintln!("next:");
                eprintln!("  cd {}", shell_word(&dir.display().to_string()));
                eprintln!("  casebook new case acme-2025    # your first write-up, in content/cases/");
                eprintln!("  casebook serve --drafts --open # preview it while you write");
            }
            code
        }
    }
}

/// `word` as the shell reads it back: quoted when it has anything but plain characters.
fn shell_word(word: &str) -> String {
    if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The site root: `--root` as given (it must be a folder), else the nearest folder, the
/// current one or above, that holds `site.toml` (as git and cargo find theirs).
fn site_root(given: Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    if let Some(dir) = given {
        if dir.is_dir() {
            return Ok(dir);
        }
        if dir.is_file() {
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            eprintln!(
                "error: --root {}: this is a file; --root names the site's folder (here {})",
                dir.display(),
                parent.display()
            );
        } else {
            eprintln!("error: --root {}: there is no such folder", dir.display());
        }
        return Err(ExitCode::from(2));
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    for (up, dir) in cwd.ancestors().enumerate() {
        if dir.join("site.toml").is_file() {
            // Relative, so messages and the output folder read as the writer's own paths.
            return Ok(if up == 0 { PathBuf::from(".") } else { PathBuf::from("../".repeat(up)) });
        }
    }
    let help = if cwd.join("content").is_dir() {
        "this folder has content/ but no site.toml: add one (one line, title = \"...\", is enough), or pass --root ."
    } else {
        "make a new site with `casebook init my-site`, or name one with --root DIR"
    };
    eprintln!("error: no site here: neither {} nor any folder above it has a site.toml\nhelp: {help}", cwd.display());
    Err(ExitCode::from(2))
}

fn scaffold_result(result: Result<PathBuf, String>) -> ExitCode {
    match result {
        Ok(path) => {
            eprintln!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn finish(report: &engine::Report, summary: bool) -> ExitCode {
    let d = &report.diagnostics;
    let (errors, warnings) = (d.count(Severity::Error), d.count(Severity::Warning));
    if summary {
        if errors > 0 {
            let partly = d.items.iter().any(|d| d.code == "output-partial");
            eprintln!(
                "error: {errors} error{}, {warnings} warning{}; {}",
                if errors == 1 { "" } else { "s" },
                if warnings == 1 { "" } else { "s" },
                if partly { "the output folder is partly updated" } else { "nothing was written" }
            );
        } else if let Some(out) = &report.output {
            eprintln!(
                "built {} case{} ({} left out: {}), {} pages, into {}",
                report.cases,
                if report.cases == 1 { "" } else { "s" },
                report.left_out,
                report::LEFT_OUT_WHY,
                report.pages,
                out.display()
            );
        } else {
            eprintln!(
                "checked {} published case{} ({} left out): no errors, {warnings} warning{}",
                report.cases,
                if report.cases == 1 { "" } else { "s" },
                report.left_out,
                if warnings == 1 { "" } else { "s" }
            );
        }
    }
    if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
