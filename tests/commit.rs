//! How a build with a trusted cache commits: it changes the output in place, file by file,
//! under a journal, and ends with exactly what a build from nothing writes; a build killed
//! while committing is finished by the next one, and a failed build changes nothing.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use common::Fixture;

fn site() -> Fixture {
    let f = Fixture::new();
    for slug in ["alpha", "beta", "gamma"] {
        f.case(slug, &format!("{slug} breach"), &format!("organizations = [\"Org {slug}\"]"), "Body.");
    }
    f.write("static/files/report.txt", "a report");
    f
}

/// Every entry under `dir`, folders included (`None`), files with their bytes.
fn entries(dir: &Path) -> BTreeMap<String, Option<Vec<u8>>> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| e.unwrap())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            let ft = e.file_type();
            let bytes = if ft.is_dir() {
                None
            } else if ft.is_file() {
                Some(fs::read(e.path()).unwrap())
            } else {
                Some(b"(not a file)".to_vec())
            };
            (rel, bytes)
        })
        .collect()
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    let time = |p: &str| fs::symlink_metadata(dir.join(p)).unwrap().modified().unwrap();
    entries(dir)
        .into_keys()
        .map(|p| {
            let t = time(&p);
            (p, t)
        })
        .collect()
}

/// What `build --no-cache` writes for the same files, in another folder.
fn cold(f: &Fixture) -> BTreeMap<String, Option<Vec<u8>>> {
    let r = f.run(&["build", "--no-cache", "--output", "cold"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = f.root().join("cold");
    let all = entries(&dir);
    fs::remove_dir_all(dir).unwrap();
    all
}

/// The output holds exactly what a build from nothing writes: no file, folder or byte more.
fn assert_fresh(f: &Fixture) {
    let now = entries(&f.out());
    let cold = cold(f);
    assert_eq!(now.keys().collect::<Vec<_>>(), cold.keys().collect::<Vec<_>>(), "the same files and folders");
    for (p, b) in &cold {
        assert!(now[p] == *b, "{p} differs from a build without the cache");
    }
}

/// What builds leave beside the output, the lock file aside.
fn beside(f: &Fixture) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(f.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".public.") && n != ".public.casebook-lock")
        .collect();
    names.sort();
    names
}

/// The output folder itself, to tell a build that changed it in place from one that
/// replaced it.
#[cfg(unix)]
fn folder_id(f: &Fixture) -> u64 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(f.out()).unwrap().ino()
}

#[test]
fn a_patch_build_writes_what_a_fresh_build_writes() {
    let f = site();
    f.build_ok();
    #[cfg(unix)]
    let id = folder_id(&f);
    // One title edited, a case added, one removed, an asset changed.
    f.case("beta", "Beta, revised", "organizations = [\"Org beta\"]", "Body.");
    f.case("delta", "Delta breach", "organizations = [\"Org delta\"]", "Body.");
    fs::remove_file(f.root().join("content/cases/gamma.md")).unwrap();
    f.write("static/files/report.txt", "a revised report");
    let r = f.build_ok();
    assert!(!r.stderr.contains("note:"), "the cache is used: {}", r.stderr);
    assert!(f.read("cases/beta/index.html").contains("Beta, revised"));
    assert!(!f.out().join("cases/gamma").exists(), "the removed case's folder is gone");
    assert_fresh(&f);
    assert_eq!(beside(&f), Vec::<String>::new(), "no journal or temporary folder is left");
    #[cfg(unix)]
    assert_eq!(folder_id(&f), id, "a few files changed: the output was patched in place, not replaced");
}

#[test]
fn what_was_put_into_the_output_by_hand_is_removed() {
    let f = site();
    f.build_ok();
    let out = f.out();
    fs::write(out.join("stray.txt"), "mine").unwrap();
    fs::write(out.join("cases/alpha/notes.md"), "mine").unwrap();
    fs::create_dir_all(out.join("junk/deep")).unwrap();
    fs::write(out.join("junk/deep/x.bin"), "mine").unwrap();
    fs::create_dir_all(out.join("cases/empty")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink("../site.toml", out.join("link")).unwrap();
    // Nothing changed but the strays: still a build that commits in place.
    let r = f.build_ok();
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    assert_fresh(&f);
    assert!(f.root().join("site.toml").is_file(), "a link is removed, not what it points to");
    // And with an edit.
    fs::write(out.join("cases/beta/extra.html"), "mine").unwrap();
    f.case("alpha", "Alpha, revised", "organizations = [\"Org alpha\"]", "Body.");
    f.build_ok();
    assert_fresh(&f);
}

/// A folder of the site replaced by a link to a copy of it: its files are as the cache
/// says, but they must end up in a real folder, as a build from nothing makes them.
#[cfg(unix)]
#[test]
fn a_folder_of_the_output_replaced_by_a_link_becomes_a_folder_again() {
    let f = site();
    f.build_ok();
    let (folder, copy) = (f.out().join("cases/gamma"), f.root().join("gamma-copy"));
    fs::create_dir(&copy).unwrap();
    for e in fs::read_dir(&folder).unwrap() {
        let e = e.unwrap();
        fs::copy(e.path(), copy.join(e.file_name())).unwrap();
        // As the cache says: kept, not made again.
        let t = e.metadata().unwrap().modified().unwrap();
        fs::File::options().write(true).open(copy.join(e.file_name())).unwrap().set_modified(t).unwrap();
    }
    fs::remove_dir_all(&folder).unwrap();
    std::os::unix::fs::symlink(&copy, &folder).unwrap();
    f.case("alpha", "Alpha, revised", "organizations = [\"Org alpha\"]", "Body.");
    f.build_ok();
    assert!(fs::symlink_metadata(&folder).unwrap().is_dir());
    assert_fresh(&f);
    assert!(copy.join("index.html").is_file(), "what the link pointed to is not the output's to remove");
}

/// A failed build, though it rendered the edited pages, leaves every file and folder of
/// the output, and every modification time, as they were.
#[test]
fn a_failed_build_leaves_the_output_untouched() {
    let f = site();
    f.build_ok();
    let (before, times) = (entries(&f.out()), mtimes(&f.out()));
    std::thread::sleep(std::time::Duration::from_millis(50));
    f.case("alpha", "Alpha, revised", "organizations = [\"Org alpha\"]", "Body.");
    // Found by the link check, after every page was rendered and written.
    f.case("beta", "beta breach", "organizations = [\"Org beta\"]", "See [the report](../no-such-case/).");
    let r = f.run(&["build"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("link-broken"), "{}", r.stderr);
    assert_eq!(entries(&f.out()), before);
    assert_eq!(mtimes(&f.out()), times);
    assert_eq!(beside(&f), Vec::<String>::new());
    // Fixed, the next build uses the cache and gets it right.
    f.case("beta", "beta breach", "organizations = [\"Org beta\"]", "Body.");
    let r = f.build_ok();
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    assert_fresh(&f);
}

/// A folder of the output the build may not write into (another user's, say) stops the
/// commit before anything in the output changes, and says which folder.
#[cfg(unix)]
#[test]
fn a_folder_the_build_cannot_write_into_stops_it_before_anything_changes() {
    use std::os::unix::fs::PermissionsExt;
    let f = site();
    f.build_ok();
    let before = entries(&f.out());
    f.case("alpha", "Alpha, revised", "organizations = [\"Org alpha\"]", "Body.");
    // Root writes anywhere, so as root the build runs as `nobody` (everything but the
    // output open to it); otherwise, the output's folder is made read-only.
    let root = std::process::Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
    let open = |p: &Path, mode: u32| fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
    let cases = f.out().join("cases");
    let r = if root {
        for e in walkdir::WalkDir::new(f.root()).into_iter().map(|e| e.unwrap()) {
            if !e.path().starts_with(f.out()) {
                open(e.path(), if e.file_type().is_dir() { 0o777 } else { 0o666 });
            }
        }
        let bin = env!("CARGO_BIN_EXE_casebook");
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", bin, "build"])
            .current_dir(f.root())
            .output()
            .expect("setpriv (util-linux) runs the build as another user");
        (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
    } else {
        open(&cases, 0o555);
        let r = f.run(&["build"]);
        open(&cases, 0o755);
        (Some(r.code), r.stderr)
    };
    assert_eq!(r.0, Some(1), "{}", r.1);
    assert!(r.1.contains("cannot write into") && r.1.contains("nothing was written"), "{}", r.1);
    assert_eq!(entries(&f.out()), before);
    assert_eq!(beside(&f), Vec::<String>::new());
    // Allowed again, the next build commits the edit.
    f.build_ok();
    assert_fresh(&f);
}

const STAGING: &str = ".public.casebook-tmp-4242-1";
const JOURNAL: &str = ".public.casebook-journal";

/// What a build killed halfway through a patch commit leaves: the journal (`end`: whole),
/// the temporary folder with the files not moved yet, the output half changed. Returns
/// the files the commit was making the output into.
fn killed_commit(f: &Fixture, end: bool) -> BTreeMap<String, Option<Vec<u8>>> {
    f.build_ok();
    fs::write(f.out().join("stray.txt"), "mine").unwrap();
    // The edit the killed build was committing, and what a build of it writes.
    f.case("beta", "Beta, revised", "organizations = [\"Org beta\"]", "Body.");
    f.case("delta", "Delta breach", "organizations = [\"Org delta\"]", "Body.");
    let (now, next) = (entries(&f.out()), cold(f));
    let staging = f.root().join(STAGING);
    let mut journal = format!("casebook journal 1\nstaging {STAGING}\nremove-file stray.txt\n");
    // And what the edit takes away (a search chunk is named by what it holds).
    let gone: Vec<&String> = now
        .iter()
        .filter(|(p, b)| b.is_some() && !next.contains_key(*p) && *p != "stray.txt")
        .map(|(p, _)| p)
        .collect();
    for p in &gone {
        journal += &format!("remove-file {p}\n");
    }
    let mut renames = Vec::new();
    for (p, b) in &next {
        if let (Some(bytes), false) = (b, now.get(p) == Some(b)) {
            fs::create_dir_all(staging.join(p).parent().unwrap()).unwrap();
            fs::write(staging.join(p), bytes).unwrap();
            journal += &format!("rename {p}\n");
            renames.push(p.clone());
        }
    }
    assert!(renames.len() > 4, "the edit changes several files: {renames:?}");
    if end {
        journal += "end\n";
        // Killed after the removal and half the renames.
        fs::remove_file(f.out().join("stray.txt")).unwrap();
        for p in &gone {
            fs::remove_file(f.out().join(p)).unwrap();
        }
        for p in &renames[..renames.len() / 2] {
            fs::create_dir_all(f.out().join(p).parent().unwrap()).unwrap();
            fs::rename(staging.join(p), f.out().join(p)).unwrap();
        }
    }
    fs::write(f.root().join(JOURNAL), journal).unwrap();
    next
}

#[test]
fn a_killed_commit_is_finished_and_the_next_build_starts_from_nothing() {
    let f = site();
    killed_commit(&f, true);
    let r = f.build_ok();
    let notes: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(
        notes,
        ["note: the build cache was not used: the last build was stopped while writing; building everything"],
        "{}",
        r.stderr
    );
    assert_fresh(&f);
    assert_eq!(beside(&f), Vec::<String>::new(), "the journal and the temporary folder are gone");
    // The build after that trusts its cache again.
    f.case("alpha", "Alpha, revised", "organizations = [\"Org alpha\"]", "Body.");
    let r = f.build_ok();
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    assert_fresh(&f);
}

/// The killed commit is finished even by a build that then fails: the output is what the
/// killed build was committing.
#[test]
fn a_killed_commit_is_finished_before_anything_else() {
    let f = site();
    let next = killed_commit(&f, true);
    f.case("alpha", "alpha breach", "organizations = [\"Org alpha\"]", "See [the report](../no-such-case/).");
    let r = f.run(&["build"]);
    assert_ne!(r.code, 0, "{}", r.stderr);
    assert_eq!(entries(&f.out()), next);
    assert!(!f.root().join(JOURNAL).exists());
    f.case("alpha", "alpha breach", "organizations = [\"Org alpha\"]", "Body.");
    f.build_ok();
    assert_fresh(&f);
    assert_eq!(beside(&f), Vec::<String>::new());
}

/// A journal cut short was being written when the build was killed, before the output
/// changed: it is dropped, and so is one that would reach outside the output.
#[test]
fn a_journal_cut_short_or_not_casebooks_changes_nothing() {
    let f = site();
    f.build_ok();
    let keep = f.root().join("keep");
    fs::write(&keep, "not the site's").unwrap();
    for journal in [
        format!("casebook journal 1\nstaging {STAGING}\nremove-file index.html\nrename cases/al"),
        format!("casebook journal 1\nstaging {STAGING}\nremove-file ../keep\nend\n"),
        format!("casebook journal 1\nstaging ../{STAGING}\nremove-file index.html\nend\n"),
    ] {
        let before = entries(&f.out());
        f.case("alpha", "alpha breach", "organizations = [\"Org alpha\"]", "See [x](../no-such-case/).");
        fs::write(f.root().join(JOURNAL), &journal).unwrap();
        // What the killed build had staged.
        fs::create_dir_all(f.root().join(STAGING).join("cases/al")).unwrap();
        fs::write(f.root().join(STAGING).join("cases/al/index.html"), "half").unwrap();
        let r = f.run(&["build"]);
        assert_ne!(r.code, 0, "{}", r.stderr);
        assert!(r.stderr.contains("stopped while writing"), "{}", r.stderr);
        assert_eq!(entries(&f.out()), before, "{journal}");
        assert!(keep.is_file() && !f.root().join(JOURNAL).exists(), "{journal}");
        f.case("alpha", "alpha breach", "organizations = [\"Org alpha\"]", "Body.");
        f.build_ok();
        assert_fresh(&f);
        assert_eq!(beside(&f), Vec::<String>::new(), "the temporary folder is removed");
    }
}

/// A path of the site that turns from a file into a folder, and back.
#[test]
fn a_file_that_becomes_a_folder_and_back() {
    let f = site();
    f.write("static/files/guide", "a file");
    f.build_ok();
    fs::remove_file(f.root().join("static/files/guide")).unwrap();
    f.write("static/files/guide/index.txt", "now a folder");
    let r = f.build_ok();
    assert!(!r.stderr.contains("note:"), "{}", r.stderr);
    assert_eq!(f.read("files/guide/index.txt"), "now a folder");
    assert_fresh(&f);
    fs::remove_dir_all(f.root().join("static/files/guide")).unwrap();
    f.write("static/files/guide", "a file again");
    f.build_ok();
    assert_eq!(f.read("files/guide"), "a file again");
    assert_fresh(&f);
}
