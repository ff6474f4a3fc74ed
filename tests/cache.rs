//! The build cache: a build after an edit rewrites only what changed, writes the same
//! bytes as a build from nothing, and never trusts a cache it cannot vouch for.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::SystemTime;

use common::Fixture;

fn site() -> Fixture {
    let f = Fixture::new();
    for (slug, title, year) in
        [("alpha", "Alpha breach", 2021), ("beta", "Beta breach", 2022), ("gamma", "Gamma", 2023)]
    {
        f.case(
            slug,
            title,
            &format!(
                "organizations = [\"Org {slug}\"]\nsummary = \"About {title}.\"\n\n[incident]\ndetected = {year}-02-03\n\
                 sectors = [\"Retail\"]\n\n[[techniques]]\nid = \"T1078\"\n"
            ),
            "## What happened\n\n```sh\necho 'highlighted'\n```\n",
        );
    }
    f
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            (rel, e.metadata().unwrap().modified().unwrap())
        })
        .collect()
}

/// What `build --no-cache` writes for the same files, in another folder.
fn cold(f: &Fixture) -> BTreeMap<String, Vec<u8>> {
    let r = f.run(&["build", "--no-cache", "--output", "cold"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = f.root().join("cold");
    let files = common::tree(&dir);
    fs::remove_dir_all(dir).unwrap();
    files
}

fn assert_same_as_cold(f: &Fixture) {
    let warm = f.snapshot();
    let cold = cold(f);
    assert_eq!(warm.keys().collect::<Vec<_>>(), cold.keys().collect::<Vec<_>>(), "the same files");
    for (p, b) in &cold {
        assert!(warm[p] == *b, "{p} differs from a build without the cache");
    }
}

#[test]
fn a_warm_build_rewrites_only_what_changed() {
    let f = site();
    f.build_ok();
    assert!(f.root().join(".casebook-cache/build.postcard").is_file(), "the cache is written at the site root");
    assert!(!f.out().join(".casebook-cache").exists());
    let before = mtimes(&f.out());
    let bytes_before = f.snapshot();
    std::thread::sleep(std::time::Duration::from_millis(50));
    f.case(
        "beta",
        "Beta breach, revised",
        "organizations = [\"Org beta\"]\nsummary = \"About Beta.\"\n\n[incident]\ndetected = 2022-02-03\n\
         sectors = [\"Retail\"]\n\n[[techniques]]\nid = \"T1078\"\n",
        "## What happened\n\n```sh\necho 'highlighted'\n```\n",
    );
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    let after = mtimes(&f.out());
    assert!(f.read("cases/beta/index.html").contains("Beta breach, revised"));
    assert_ne!(before["cases/beta/index.html"], after["cases/beta/index.html"], "the edited page is rewritten");
    // A file keeps its time exactly when its bytes are the same.
    let bytes_after = f.snapshot();
    for (path, t) in &before {
        // Search's document chunks are named by what they hold: one changed is another file.
        let Some(now) = bytes_after.get(path) else {
            assert!(path.starts_with("search/docs/"), "{path} is gone");
            continue;
        };
        let same_bytes = bytes_before[path] == *now;
        assert_eq!(*t == after[path], same_bytes, "{path}: same bytes {same_bytes}, but not the same time rule");
    }
    for untouched in ["casebook.css", "cases/alpha/stix.json", "organizations/org-alpha/index.html"] {
        assert_eq!(before[untouched], after[untouched], "{untouched} was rewritten though its bytes did not change");
    }
    assert_same_as_cold(&f);
    // A case removed: its files go.
    fs::remove_file(f.root().join("content/cases/gamma.md")).unwrap();
    f.build_ok();
    assert!(!f.exists("cases/gamma/index.html"));
    assert!(!f.exists("cases/gamma/stix.json"));
    assert_same_as_cold(&f);
    // The site's title: every page says it.
    f.write("site.toml", "title = \"Renamed Casebook\"\nbase_url = \"https://cases.test\"\n");
    f.build_ok();
    assert!(f.read("cases/alpha/index.html").contains("Renamed Casebook"));
    assert_same_as_cold(&f);
}

/// A case added to one year redraws that year's timeline page and the index of years,
/// which counts them, and leaves the other years' pages as they were.
#[test]
fn a_case_added_to_one_year_leaves_the_other_years_alone() {
    let f = site();
    f.build_ok();
    let before = mtimes(&f.out());
    let index_before = f.read("timeline/index.html");
    std::thread::sleep(std::time::Duration::from_millis(50));
    f.case(
        "delta",
        "Delta breach",
        "organizations = [\"Org delta\"]\nsummary = \"About Delta.\"\n\n[incident]\ndetected = 2023-05-06\n",
        "## What happened\n\nA second case of 2023.\n",
    );
    f.build_ok();
    let after = mtimes(&f.out());
    assert!(f.read("timeline/2023/index.html").contains("Delta breach"));
    assert_ne!(before["timeline/2023/index.html"], after["timeline/2023/index.html"]);
    assert_ne!(index_before, f.read("timeline/index.html"), "the index counts the years' cases");
    for year in ["2021", "2022"] {
        let page = format!("timeline/{year}/index.html");
        assert_eq!(before[&page], after[&page], "{page} was rewritten");
        assert!(f.read(&page).contains("timeline/2023/"), "{page} still links every year");
    }
    assert_same_as_cold(&f);
}

/// Search's document chunks are cut and named by what they hold: a case added at the old
/// end of the site's history (which moves every later document by one number) changes
/// the chunk it joins and leaves every other chunk file as it was, time and all.
#[test]
fn a_case_added_before_the_others_changes_one_search_chunk() {
    let f = Fixture::new();
    // Oldest first, as search numbers them: two a month, ten months a year, 2011-2020.
    for i in 0..200 {
        f.case(
            &format!("case-{i:03}"),
            &format!("Case {i}"),
            &format!(
                "organizations = [\"Org {i}\"]\n\n[incident]\ndetected = {}-{:02}-{}\n",
                2011 + i / 20,
                1 + (i % 20) / 2,
                10 + i % 2
            ),
            "## What happened\n\nSomething.\n",
        );
    }
    f.build_ok();
    let chunks = |f: &Fixture| -> BTreeMap<String, (Vec<u8>, SystemTime)> {
        let dir = f.out().join("search/docs");
        fs::read_dir(&dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let modified = e.metadata().unwrap().modified().unwrap();
                (e.file_name().to_string_lossy().into_owned(), (fs::read(e.path()).unwrap(), modified))
            })
            .collect()
    };
    let before = chunks(&f);
    assert!(before.len() >= 5, "{} chunks", before.len());
    std::thread::sleep(std::time::Duration::from_millis(50));
    f.case(
        "oldest",
        "The oldest case",
        "organizations = [\"Org oldest\"]\n\n[incident]\ndetected = 2010-01-10\n",
        "## What happened\n\nEarlier than the rest.\n",
    );
    f.build_ok();
    let after = chunks(&f);
    let new: Vec<&String> = after.keys().filter(|k| before.get(*k) != after.get(*k)).collect();
    let gone: Vec<&String> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    // Its chunk, and the next one when the first grew past its size and was cut anew.
    assert!(new.len() <= 2 && gone.len() <= 2, "made {new:?}, removed {gone:?} of {} chunks", before.len());
    assert_same_as_cold(&f);
}

/// The site-wide exports are streamed from pieces and hashed from the pieces' hashes: an
/// edit that changes a case's pieces' inputs but not their bytes (the body, which they do
/// not show) leaves them as they were, time and all; one that changes their bytes does not.
#[test]
fn a_body_edit_leaves_the_site_wide_exports_alone() {
    let f = site();
    f.build_ok();
    let exports = ["api/cases.json", "stix-bundle.json"];
    let before = mtimes(&f.out());
    std::thread::sleep(std::time::Duration::from_millis(50));
    let front = "organizations = [\"Org beta\"]\nsummary = \"About Beta breach.\"\n\n[incident]\n\
                 detected = 2022-02-03\nsectors = [\"Retail\"]\n\n[[techniques]]\nid = \"T1078\"\n";
    f.case("beta", "Beta breach", front, "## What happened\n\nA paragraph the exports do not show.\n");
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    let after = mtimes(&f.out());
    assert!(f.read("cases/beta/index.html").contains("A paragraph the exports do not show."));
    assert_ne!(before["cases/beta/index.html"], after["cases/beta/index.html"]);
    for path in exports {
        assert_eq!(before[path], after[path], "{path} was rewritten though its bytes did not change");
    }
    assert_same_as_cold(&f);
    std::thread::sleep(std::time::Duration::from_millis(50));
    f.case("beta", "Beta breach, renamed", front, "## What happened\n\nA paragraph the exports do not show.\n");
    f.build_ok();
    let renamed = mtimes(&f.out());
    for path in exports {
        assert!(f.read(path).contains("Beta breach, renamed"), "{path}");
        assert_ne!(after[path], renamed[path], "{path} keeps its old time though it changed");
    }
    assert_same_as_cold(&f);
}

/// A build that parsed nothing and changed no output leaves the cache as it was (it holds
/// just that); the next change writes it again.
#[test]
fn a_build_that_changed_nothing_leaves_the_cache_alone() {
    let f = site();
    f.build_ok();
    // A time no write could give it.
    let long_ago = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000);
    fs::File::options().write(true).open(cache_file(&f)).unwrap().set_modified(long_ago).unwrap();
    let bytes = fs::read(cache_file(&f)).unwrap();
    f.build_ok();
    assert_eq!(fs::metadata(cache_file(&f)).unwrap().modified().unwrap(), long_ago, "not written again");
    f.case("alpha", "Alpha, edited", "organizations = [\"Org alpha\"]", "Body.");
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    assert_ne!(fs::read(cache_file(&f)).unwrap(), bytes, "written with the edit");
    f.build_ok();
    assert_same_as_cold(&f);
}

/// A setting parsing reads: the cached parse of an unchanged file is not used across it.
#[test]
fn a_warm_build_parses_again_when_raw_html_is_let_through() {
    let f = site();
    f.case("alpha", "Alpha breach", "organizations = [\"Org alpha\"]", "Before <mark>raw</mark> after.");
    f.build_ok();
    assert!(f.read("cases/alpha/index.html").contains("&lt;mark&gt;raw"), "escaped by default");
    f.write(
        "site.toml",
        "title = \"Test Casebook\"\nbase_url = \"https://cases.test\"\n[markdown]\nunsafe_html = true\n",
    );
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    assert!(f.read("cases/alpha/index.html").contains("<mark>raw</mark>"), "let through once the setting says so");
    assert_same_as_cold(&f);
}

/// What a build says about the content, its notes about the cache left out.
fn problems(r: &common::Run) -> String {
    r.stderr.lines().filter(|l| !l.starts_with("note: the build cache")).collect::<Vec<_>>().join("\n")
}

/// The warnings of files parsed by an earlier build are said again, in the same words and
/// at the same places, whether the file was parsed now or read back from the cache.
#[test]
fn a_warm_build_reports_the_warnings_of_unchanged_files() {
    let f = site();
    f.case("hidden", "Hidden", "organizations = [\"Org h\"]\ndraft = true", "Not yet.");
    f.write("static/images/map.png", "png");
    f.case(
        "delta",
        "Delta breach",
        "organizations = [\"Org delta\"]\n\n[[references]]\nurl = \"https://news.test/delta\"\n",
        "## Notes\n\nSee ![the map](/images/map.png) and [the other](@/cases/hidden.md) for the rest.\n",
    );
    let cold = f.build_ok();
    for code in ["reference-untitled", "image-root-absolute", "link-unpublished"] {
        assert!(cold.stderr.contains(code), "the fixture has a {code} warning: {}", cold.stderr);
    }
    assert!(cold.stderr.contains("content/cases/delta.md:"), "{}", cold.stderr);
    for _ in 0..2 {
        let warm = f.build_ok();
        assert!(!warm.stderr.contains("cache was not used"), "{}", warm.stderr);
        assert_eq!(problems(&warm), problems(&cold), "warm and cold builds say the same");
    }
    let uncached = f.run(&["build", "--no-cache"]);
    assert_eq!(problems(&uncached), problems(&cold));
    // One file edited: the others' warnings are still said, the edited one's are its own.
    f.case("gamma", "Gamma, revised", "organizations = [\"Org gamma\"]", "Body.");
    let warm = f.build_ok();
    let uncached = f.run(&["build", "--no-cache"]);
    assert_eq!(problems(&warm), problems(&uncached));
    assert!(warm.stderr.contains("reference-untitled"), "{}", warm.stderr);
}

/// Lets the site's files settle: a build reads again a file changed less than two seconds
/// before (its stamp could still change within the clock's tick), so only after this do
/// builds know files by their stamps instead of reading them.
fn settle() {
    std::thread::sleep(std::time::Duration::from_millis(2100));
}

/// A file the cache stamped is not read again; its warnings are still said in the same
/// words at the same lines (its text is read when a warning shows it).
#[test]
fn files_known_by_their_stamps_are_reported_as_if_read() {
    let f = site();
    f.case(
        "delta",
        "Delta breach",
        "organizations = [\"Org delta\"]\n\n[[references]]\nurl = \"https://news.test/delta\"\n",
        "## Notes\n\nSee ![the map](/images/map.png) for the rest.\n",
    );
    f.write("static/images/map.png", "png");
    let cold = f.build_ok();
    assert!(cold.stderr.contains("content/cases/delta.md:7:7"), "{}", cold.stderr);
    settle();
    // This build stamps the settled files; the next ones know them by their stamps.
    f.build_ok();
    for _ in 0..2 {
        let warm = f.build_ok();
        assert!(!warm.stderr.contains("cache was not used"), "{}", warm.stderr);
        assert_eq!(problems(&warm), problems(&cold), "warm and cold builds say the same");
    }
    // The cache's parses gone (another theme): the stamped files are parsed again.
    f.write("templates/base.html", &(fs::read_to_string(theme_base()).unwrap() + "{# the site's own #}"));
    let warm = f.build_ok();
    assert!(warm.stderr.contains("the theme or the site's templates changed"), "{}", warm.stderr);
    assert_eq!(problems(&warm), problems(&cold));
    assert_same_as_cold(&f);
}

/// Content files are known by their stamps under the site's root, however it is spelled:
/// a build from the site's folder and one given its whole path from elsewhere read none
/// again (`--timings` counts them); a file written anew is read again.
#[test]
fn files_are_known_however_the_root_is_spelled() {
    let f = site();
    f.build_ok();
    settle();
    f.build_ok();
    let timed = |r: &common::Run| {
        let line = r.stderr.lines().find(|l| l.starts_with("content files:")).map(str::to_string);
        line.unwrap_or_else(|| panic!("no count of content files:\n{}", r.stderr))
    };
    let here = f.run(&["build", "--timings"]);
    assert_eq!(timed(&here), "content files: 0 read, 3 known by their stamps");
    let root = f.root().canonicalize().unwrap();
    let elsewhere = std::process::Command::new(env!("CARGO_BIN_EXE_casebook"))
        .args(["build", "--timings", "--root"])
        .arg(&root)
        .current_dir(root.parent().unwrap())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&elsewhere.stderr);
    assert!(elsewhere.status.success(), "{stderr}");
    assert!(stderr.contains("content files: 0 read, 3 known by their stamps"), "{stderr}");
    // Written anew with the same bytes (as a checkout does): read again, nothing else.
    let beta = f.root().join("content/cases/beta.md");
    fs::write(&beta, fs::read(&beta).unwrap()).unwrap();
    assert_eq!(timed(&f.run(&["build", "--timings"])), "content files: 1 read, 2 known by their stamps");
    assert_same_as_cold(&f);
}

/// The built-in theme's base template, as a site's own override of it.
fn theme_base() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/default/templates/base.html")
}

/// An edit that keeps the file's size and modification time (a tool that restores the
/// time, or two saves within the clock's tick) is still seen: its change time moved.
#[test]
fn an_edit_that_keeps_size_and_time_is_still_seen() {
    let f = site();
    f.build_ok();
    settle();
    f.build_ok();
    let path = f.root().join("content/cases/beta.md");
    let before = fs::metadata(&path).unwrap();
    let text = fs::read_to_string(&path).unwrap().replace("Beta breach", "Beta BREACH");
    fs::write(&path, &text).unwrap();
    fs::File::options().write(true).open(&path).unwrap().set_modified(before.modified().unwrap()).unwrap();
    let after = fs::metadata(&path).unwrap();
    assert_eq!((after.len(), after.modified().unwrap()), (before.len(), before.modified().unwrap()));
    f.build_ok();
    assert!(f.read("cases/beta/index.html").contains("Beta BREACH"));
    assert_same_as_cold(&f);
}

#[test]
fn a_file_changed_by_hand_in_the_output_is_made_again() {
    let f = site();
    f.build_ok();
    fs::write(f.out().join("cases/alpha/index.html"), "defaced").unwrap();
    f.build_ok();
    assert!(f.read("cases/alpha/index.html").contains("Alpha breach"));
    assert_same_as_cold(&f);
}

fn cache_file(f: &Fixture) -> std::path::PathBuf {
    f.root().join(".casebook-cache/build.postcard")
}

/// The checksum the cache file starts with, over the rest of it: a CRC-32.
fn checksum(payload: &[u8]) -> u128 {
    u128::from(crc32fast::hash(payload))
}

/// Builds with the cache as `spoil` leaves it: one line says why it was not used, and the
/// output is what a build from nothing writes.
fn untrusted(spoil: impl Fn(&Fixture), why: &str) {
    let f = site();
    f.build_ok();
    spoil(&f);
    let r = f.build_ok();
    let notes: Vec<&str> = r.stderr.lines().filter(|l| l.contains("cache was not used")).collect();
    assert_eq!(notes.len(), 1, "one line: {}", r.stderr);
    assert!(notes[0].contains(why), "{}", notes[0]);
    assert_same_as_cold(&f);
    // And it is trusted again after that build.
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
}

#[test]
fn a_damaged_cache_is_not_trusted() {
    untrusted(
        |f| {
            let mut b = fs::read(cache_file(f)).unwrap();
            let n = b.len() / 2;
            b[n] ^= 0x55;
            fs::write(cache_file(f), b).unwrap();
        },
        "damaged",
    );
}

/// Where a parsed body is in the piece file.
fn in_parsed_part(b: &[u8]) -> usize {
    b.windows(11).rposition(|w| w == b"highlighted").expect("the cache holds the parsed bodies")
}

/// The piece file, changed by `edit`.
fn edit_pieces(f: &Fixture, edit: impl Fn(&mut Vec<u8>)) {
    let p = piece_file(f);
    let mut b = fs::read(&p).unwrap();
    edit(&mut b);
    fs::write(p, b).unwrap();
}

#[test]
fn a_cache_with_damaged_parsed_files_is_not_trusted() {
    untrusted(
        |f| {
            edit_pieces(f, |b| {
                let at = in_parsed_part(b);
                b[at] ^= 0x20;
            })
        },
        "damaged",
    );
    // Cut short inside the index, with a checksum that matches what is left.
    untrusted(
        |f| {
            let b = fs::read(cache_file(f)).unwrap();
            let payload = b[16..b.len() - 40].to_vec();
            let mut out = checksum(&payload).to_le_bytes().to_vec();
            out.extend(payload);
            fs::write(cache_file(f), out).unwrap();
        },
        "cannot read",
    );
}

#[test]
fn a_truncated_cache_is_not_trusted() {
    untrusted(|f| fs::write(cache_file(f), &fs::read(cache_file(f)).unwrap()[..10]).unwrap(), "truncated");
    untrusted(
        |f| {
            let b = fs::read(cache_file(f)).unwrap();
            fs::write(cache_file(f), &b[..b.len() - 7]).unwrap()
        },
        "damaged",
    );
}

#[test]
fn a_cache_edited_by_hand_is_not_trusted() {
    untrusted(
        |f| {
            let mut b = fs::read(cache_file(f)).unwrap();
            let at = b.windows(5).position(|w| w == b"alpha").expect("the cache names the outputs");
            b[at..at + 5].copy_from_slice(b"omega");
            fs::write(cache_file(f), b).unwrap();
        },
        "damaged",
    );
}

#[test]
fn a_cache_of_another_version_is_not_trusted() {
    untrusted(
        |f| {
            // Another version with a valid checksum: the key says which casebook wrote it.
            let b = fs::read(cache_file(f)).unwrap();
            let mut payload = b[16..].to_vec();
            let v = env!("CARGO_PKG_VERSION").as_bytes();
            let at = payload.windows(v.len()).position(|w| w == v).unwrap();
            payload[at] = b'9';
            let mut out = checksum(&payload).to_le_bytes().to_vec();
            out.extend(payload);
            fs::write(cache_file(f), out).unwrap();
        },
        "written by casebook 9",
    );
}

#[test]
fn a_cache_of_another_theme_is_not_trusted() {
    untrusted(
        |f| {
            let base = String::from_utf8(casebook::load::builtin_template("404.html").unwrap().to_vec()).unwrap();
            f.write("templates/404.html", &format!("{base}<!-- mine -->"));
        },
        "theme",
    );
}

#[test]
fn a_cache_of_another_output_folder_is_not_trusted() {
    let f = site();
    f.build_ok();
    let r = f.run(&["build", "--output", "elsewhere"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("cache was not used") && r.stderr.contains("output folder"), "{}", r.stderr);
}

#[test]
fn no_cache_leaves_the_cache_alone_and_clean_removes_both() {
    let f = site();
    f.build_ok();
    let before = fs::read(cache_file(&f)).unwrap();
    let t = fs::metadata(cache_file(&f)).unwrap().modified().unwrap();
    f.case("alpha", "Alpha, edited", "organizations = [\"Org alpha\"]", "Body.");
    let r = f.run(&["build", "--no-cache"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(fs::read(cache_file(&f)).unwrap(), before);
    assert_eq!(fs::metadata(cache_file(&f)).unwrap().modified().unwrap(), t);
    // The output moved on without the cache: the next cached build still gets it right.
    f.build_ok();
    assert_same_as_cold(&f);
    let r = f.run(&["clean"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!f.out().exists() && !f.root().join(".casebook-cache").exists(), "{}", r.stderr);
    let r = f.run(&["clean"]);
    assert_eq!(r.code, 0);
    assert!(r.stderr.contains("nothing to remove"));
}

#[test]
fn the_cache_folder_is_set_in_site_toml() {
    let f = site();
    f.write("site.toml", "title = \"T\"\nbase_url = \"https://cases.test\"\n[build]\ncache = \"tmp/cb-cache\"\n");
    f.build_ok();
    assert!(f.root().join("tmp/cb-cache/build.postcard").is_file());
    assert!(f.root().join("tmp/cb-cache/CACHEDIR.TAG").is_file());
    assert!(!f.root().join(".casebook-cache").exists());
}

#[test]
fn a_killed_build_never_blocks_the_next() {
    let f = site();
    f.build_ok();
    // What `kill -9` leaves: temporary folders, one named with a process id that may come again.
    for name in [format!(".public.casebook-tmp-{}", std::process::id()), ".public.casebook-old-1-2".to_string()] {
        let d = f.root().join(name);
        fs::create_dir_all(d.join("cases")).unwrap();
        fs::write(d.join("cases/junk.html"), "x").unwrap();
    }
    f.build_ok();
    let left: Vec<String> = fs::read_dir(f.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("casebook-tmp") || n.contains("casebook-old"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn two_builds_at_once_do_not_clobber_each_other() {
    let f = site();
    let bin = env!("CARGO_BIN_EXE_casebook");
    let spawn = || {
        std::process::Command::new(bin)
            .arg("build")
            .current_dir(f.root())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert!(f.read("cases/alpha/index.html").contains("Alpha breach"));
    assert_same_as_cold(&f);
}

/// The piece file (exports' per-case parts, rows of long pages) the index names.
fn piece_files(f: &Fixture) -> Vec<std::path::PathBuf> {
    let dir = f.root().join(".casebook-cache");
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("pieces-"))
        .collect();
    files.sort();
    files
}

fn piece_file(f: &Fixture) -> std::path::PathBuf {
    let files = piece_files(f);
    assert_eq!(files.len(), 1, "one piece file: {files:?}");
    files[0].clone()
}

#[test]
fn damaged_or_missing_pieces_are_not_trusted() {
    untrusted(
        |f| {
            edit_pieces(f, |b| {
                let at = b.windows(5).position(|w| w == b"Alpha").expect("the pieces hold case text");
                b[at..at + 5].copy_from_slice(b"OMEGA");
            })
        },
        "damaged",
    );
    untrusted(
        |f| {
            let p = piece_file(f);
            let b = fs::read(&p).unwrap();
            fs::write(p, &b[..b.len() / 2]).unwrap();
        },
        "truncated",
    );
    untrusted(|f| fs::remove_file(piece_file(f)).unwrap(), "cannot be read");
}

/// An edit appends what it made to the piece file instead of writing it anew; what a
/// stopped build appended past the end the index knows is not trusted, and written over.
#[test]
fn an_edit_appends_its_pieces_and_a_stopped_append_is_harmless() {
    let f = site();
    // Enough cases that one edit leaves most pieces as they were.
    for n in 0..12 {
        let extra =
            format!("organizations = [\"Org {n}\"]\nsummary = \"Case {n}.\"\n\n[[techniques]]\nid = \"T1190\"\n");
        f.case(&format!("case-{n}"), &format!("Case {n}"), &extra, "Body.\n");
    }
    f.build_ok();
    let p = piece_file(&f);
    let before = fs::read(&p).unwrap();
    f.case("alpha", "Alpha breach, edited", "organizations = [\"Org alpha\"]\nsummary = \"Edited.\"\n", "Body.\n");
    f.build_ok();
    let after = fs::read(piece_file(&f)).unwrap();
    assert!(after.len() > before.len() && after.starts_with(&before), "the pieces were appended to");
    assert_same_as_cold(&f);
    // As a build stopped after appending and before its index was saved leaves it.
    let mut tail = fs::OpenOptions::new().append(true).open(piece_file(&f)).unwrap();
    std::io::Write::write_all(&mut tail, b"junk of a stopped build").unwrap();
    drop(tail);
    f.case("beta", "Beta breach, edited", "organizations = [\"Org beta\"]\nsummary = \"Edited.\"\n", "Body.\n");
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    assert!(!fs::read(piece_file(&f)).unwrap().windows(5).any(|w| w == b"junk "), "written over");
    assert_same_as_cold(&f);
}

const CATALOG: &str = r#"{"attack_version": "99.0", "domain": "enterprise-attack", "source": "test",
  "tactics": [{"id": "TA0001", "shortname": "initial-access", "name": "Initial Access", "url": "https://attack.mitre.org/tactics/TA0001"}],
  "techniques": [{"id": "T1078", "name": "Valid Accounts", "tactics": ["initial-access"], "subtechnique_of": null,
    "platforms": [], "revoked": false, "revoked_by": null, "deprecated": false, "url": "https://attack.mitre.org/techniques/T1078",
    "stix_id": "attack-pattern--00000000-0000-4000-8000-000000000000", "summary": "SUMMARY", "used_by": [], "mitigations": []}],
  "groups": [], "campaigns": [], "software": [], "mitigations": []}"#;

#[test]
fn a_cache_of_another_catalog_is_not_trusted() {
    let f = site();
    f.write("site.toml", "title = \"T\"\n[attack]\ncatalog = \"data/catalog.json\"\n");
    f.write("data/catalog.json", &CATALOG.replace("SUMMARY", "First words."));
    f.build_ok();
    f.write("data/catalog.json", &CATALOG.replace("SUMMARY", "Other words."));
    let r = f.build_ok();
    assert!(r.stderr.contains("cache was not used") && r.stderr.contains("catalog"), "{}", r.stderr);
    assert!(f.read("techniques/T1078/index.html").contains("Other words."));
    assert_same_as_cold(&f);
}

/// The output is published whole: a cache inside it (or it inside the cache) is refused,
/// pointing at the setting, and nothing is written.
#[test]
fn a_cache_inside_the_output_is_refused() {
    for (cache, inside) in [("public/cache", "the cache folder"), (".", "the output folder")] {
        let f = site();
        f.build_ok();
        let before = f.snapshot();
        f.write("site.toml", &format!("title = \"T\"\n\n[build]\ncache = \"{cache}\"\n"));
        let r = f.run(&["build"]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("site.toml:4:1") && r.stderr.contains(inside), "{}", r.stderr);
        assert_eq!(f.snapshot(), before, "the output is as the last build left it");
        assert!(!f.root().join("public/cache").exists());
    }
}

/// Edits append to the piece file until it is twice what it was when written last: then
/// it is written anew with only the pieces still in use, and the site is still the same.
#[test]
fn the_piece_file_is_written_anew_once_it_is_mostly_dead() {
    let f = site();
    f.build_ok();
    let first = piece_file(&f);
    let size = fs::metadata(&first).unwrap().len();
    let mut rewritten = None;
    for n in 0..40 {
        let body = format!("## What happened\n\nEdit {n}: {}\n", "words ".repeat(200));
        f.case("alpha", &format!("Alpha breach, edit {n}"), "organizations = [\"Org alpha\"]\n", &body);
        let r = f.build_ok();
        assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
        let now = piece_file(&f);
        if now != first {
            rewritten = Some(now);
            break;
        }
    }
    let now = rewritten.expect("the piece file was written anew");
    let after = fs::metadata(&now).unwrap().len();
    assert!(after < 2 * size, "only live pieces: {after} bytes, {size} at first");
    assert_same_as_cold(&f);
    // And the next edit appends to the new file again.
    f.case("beta", "Beta breach, edited", "organizations = [\"Org beta\"]\n", "Body.\n");
    f.build_ok();
    assert_eq!(piece_file(&f), now);
    assert_same_as_cold(&f);
}

/// A damaged piece (not a parse) is found when a build asks for it: it is made again,
/// the build says so in one line, the output is what a build from nothing writes, and
/// the next build finds the piece made again.
#[test]
fn a_damaged_piece_is_made_again() {
    let f = site();
    f.build_ok();
    let needle = br#""title":"Alpha breach""#;
    edit_pieces(&f, |b| {
        let mut found = 0;
        while let Some(at) = b.windows(needle.len()).position(|w| w == needle) {
            b[at + 9..at + 14].copy_from_slice(b"OMEGA");
            found += 1;
        }
        assert!(found > 0, "the pieces hold the case's JSON");
    });
    // Another case's body edited: the site-wide lists ask for every case's piece.
    let beta = "organizations = [\"Org beta\"]\nsummary = \"About Beta breach.\"\n\n[incident]\n\
                detected = 2022-02-03\nsectors = [\"Retail\"]\n\n[[techniques]]\nid = \"T1078\"\n";
    f.case("beta", "Beta breach", beta, "A new body.\n");
    let r = f.build_ok();
    let notes: Vec<&str> = r.stderr.lines().filter(|l| l.contains("cache was not used")).collect();
    assert_eq!(notes.len(), 1, "one line: {}", r.stderr);
    assert!(notes[0].contains("damaged"), "{}", notes[0]);
    assert!(!f.read("api/cases.json").contains("OMEGA"), "the damaged piece is not used");
    assert_same_as_cold(&f);
    let r = f.build_ok();
    assert!(!r.stderr.contains("cache was not used"), "{}", r.stderr);
    assert_same_as_cold(&f);
}
