//! `casebook serve`: the build engine kept in memory, its site served over HTTP, run again
//! on every change, open pages reloaded through a WebSocket.
//!
//! - the builder thread holds one [`Engine`] and runs it after each burst of edits: the
//!   same engine as `casebook build`, writing to memory instead of a folder;
//! - [`http`]: the HTTP side (axum on tokio): files from memory, the reload socket.
//!
//! The site is a map from output path to bytes, swapped whole when a run succeeds, so a
//! reader sees one build, and nothing but what that build would publish can be served.

pub(crate) mod http;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use notify_debouncer_full::notify::event::{EventKind, ModifyKind};
use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use serde_json::json;
use tokio::sync::{broadcast, watch};

use crate::config::Overrides;
use crate::engine::{self, Engine, Target};
use crate::write::{Memory, Moment};

/// The port `serve` tries first when none is given.
pub(crate) const DEFAULT_PORT: u16 = 1111;
/// Events closer together than this make one rebuild. An editor's save (a temporary file
/// renamed over the old one) is a few events within a millisecond or two; more waiting
/// only delays what the writer sees. A save caught halfway costs one more run, not a
/// wrong page: the next event starts it.
const DEBOUNCE: Duration = Duration::from_millis(8);
/// How often the debouncer looks for events that have waited [`DEBOUNCE`].
const DEBOUNCE_TICK: Duration = Duration::from_millis(2);
/// The folders watched (recursively), with `site.toml` beside them.
const WATCHED: [&str; 5] = crate::load::ROOT_DIRS;

/// The live-reload script, put before `</body>` of every HTML page while serving.
pub(crate) const RELOAD_SCRIPT: &str = concat!("<script>", include_str!("reload.js"), "</script>");

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub root: PathBuf,
    pub bind: String,
    /// `None`: [`DEFAULT_PORT`], or the next free one.
    pub port: Option<u16>,
    pub drafts: bool,
    pub open: bool,
}

/// What the HTTP side and the builder share.
pub(crate) struct Live {
    site: Memory,
    /// Whether a build has succeeded yet.
    ready: std::sync::atomic::AtomicBool,
    error: Mutex<Option<String>>,
    messages: broadcast::Sender<String>,
    /// Whether a run has shown some pages and is making the rest ([`Moment::Early`]).
    early: watch::Sender<bool>,
}

impl Default for Live {
    fn default() -> Self {
        Live {
            site: Memory::default(),
            ready: Default::default(),
            error: Mutex::new(None),
            messages: broadcast::channel(64).0,
            early: watch::channel(false).0,
        }
    }
}

/// `html` with the reload script before its last `</body>` (or at its end).
pub(crate) fn inject(html: &[u8]) -> Bytes {
    let at = html.windows(7).rposition(|w| w.eq_ignore_ascii_case(b"</body>")).unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + RELOAD_SCRIPT.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(RELOAD_SCRIPT.as_bytes());
    out.extend_from_slice(&html[at..]);
    Bytes::from(out)
}

impl Live {
    /// The bytes served at an output path: what the build wrote, with the reload script
    /// in HTML pages.
    pub(crate) fn get(&self, path: &str) -> Option<Bytes> {
        let bytes = self.site.ask(path)?;
        Some(if path.ends_with(".html") { inject(&bytes) } else { bytes })
    }

    /// The site's 404 page, with the reload script (not itself a page asked for).
    pub(crate) fn not_found(&self) -> Option<Bytes> {
        self.site.get("404.html").map(|b| inject(&b))
    }

    /// Whether `path` is a file of the site.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.site.has(path)
    }

    pub(crate) fn is_empty(&self) -> bool {
        !self.ready.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The site the engine writes to.
    pub(crate) fn site(&self) -> &Memory {
        &self.site
    }

    pub(crate) fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<String> {
        self.messages.subscribe()
    }

    /// Tells open pages to reload: those at `pages` (URLs from `/`), or all.
    pub(crate) fn reload(&self, pages: Option<Vec<String>>) {
        let msg = match pages {
            None => json!({"type": "reload", "all": true}),
            Some(p) => json!({"type": "reload", "pages": p}),
        };
        let _ = self.messages.send(msg.to_string());
    }

    pub(crate) fn set_error(&self, text: String) {
        if let Ok(mut e) = self.error.lock() {
            *e = Some(text.clone());
        }
        let _ = self.messages.send(json!({"type": "error", "text": text}).to_string());
    }

    pub(crate) fn clear_error(&self) {
        if let Ok(mut e) = self.error.lock() {
            *e = None;
        }
    }

    /// Waits, for a while at most, until no run is halfway shown: a page shown early may
    /// link to one the run has yet to make.
    pub(crate) async fn settled(&self) {
        let mut early = self.early.subscribe();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(10), early.wait_for(|e| !*e)).await;
    }

    /// The site changed: the open pages that show what changed reload.
    fn told(&self, changed: &[String], moment: Moment) {
        self.early.send_replace(moment == Moment::Early);
        match moment {
            // What is shown early is a run with no error so far: it clears the overlay.
            Moment::Early | Moment::Commit => self.committed(changed),
            Moment::Undone if !changed.is_empty() => self.reload(Some(changed.iter().map(|p| page_url(p)).collect())),
            Moment::Undone => {}
        }
    }

    /// A run succeeded and its site is the one served: the open pages that show what
    /// changed reload (all of them after the first run, or after errors).
    fn committed(&self, changed: &[String]) {
        let was_failing = self.error().is_some();
        self.clear_error();
        let first = self.is_empty();
        self.ready.store(true, std::sync::atomic::Ordering::Release);
        if first || was_failing {
            self.reload(None);
        } else if !changed.is_empty() {
            self.reload(Some(changed.iter().map(|p| page_url(p)).collect()));
        }
    }
}

/// `casebook serve`: runs until Ctrl-C.
pub(crate) fn run(options: Options) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(serve(options));
    runtime.shutdown_timeout(Duration::from_millis(500));
    code
}

async fn bind(options: &Options) -> Result<tokio::net::TcpListener, ExitCode> {
    let ip: IpAddr = match options.bind.as_str() {
        "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
        s => match s.trim_matches(['[', ']']).parse() {
            Ok(ip) => ip,
            Err(_) => {
                eprintln!("error: --bind {s:?} is not an IP address (e.g. 127.0.0.1 or ::1)");
                return Err(ExitCode::from(2));
            }
        },
    };
    let taken = |e: &std::io::Error| e.kind() == std::io::ErrorKind::AddrInUse;
    match options.port {
        Some(port) => tokio::net::TcpListener::bind((ip, port)).await.map_err(|e| {
            if taken(&e) {
                eprintln!(
                    "error: port {port} on {ip} is taken (is another server running?); \
                         choose another with --port N, or --port 0 for any free port"
                );
            } else {
                eprintln!("error: cannot listen on {}: {e}", SocketAddr::new(ip, port));
            }
            ExitCode::from(1)
        }),
        None => {
            for port in DEFAULT_PORT..DEFAULT_PORT + 20 {
                match tokio::net::TcpListener::bind((ip, port)).await {
                    Ok(l) => {
                        if port != DEFAULT_PORT {
                            eprintln!("port {DEFAULT_PORT} is taken; serving on port {port} instead");
                        }
                        return Ok(l);
                    }
                    Err(e) if taken(&e) => continue,
                    Err(e) => {
                        eprintln!("error: cannot listen on {ip}:{port}: {e}");
                        return Err(ExitCode::from(1));
                    }
                }
            }
            eprintln!(
                "error: ports {DEFAULT_PORT} to {} on {ip} are all taken; choose one with --port N",
                DEFAULT_PORT + 19
            );
            Err(ExitCode::from(1))
        }
    }
}

async fn serve(options: Options) -> ExitCode {
    let root = match options.root.canonicalize() {
        Ok(r) if r.is_dir() => r,
        _ => {
            eprintln!("error: {} is not a folder", options.root.display());
            return ExitCode::from(1);
        }
    };
    let listener = match bind(&options).await {
        Ok(l) => l,
        Err(code) => return code,
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if !addr.ip().is_loopback() {
        eprintln!(
            "warning: serving on {} : anyone who can reach this machine can read the site, drafts included",
            addr.ip()
        );
    }
    let live = Arc::new(Live::default());
    let weak = Arc::downgrade(&live);
    live.site.on_commit(move |changed, moment| {
        if let Some(live) = weak.upgrade() {
            live.told(changed, moment);
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = http::router(live.clone(), stop_rx.clone(), addr.ip());
    let server = tokio::spawn(async move {
        let mut stop = stop_rx;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
            })
            .await
    });

    let overrides = Overrides { output: None, base_url: Some(format!("http://{addr}")), drafts: options.drafts };
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let builder_live = live.clone();
    let builder_root = root.clone();
    eprintln!("building {} ...", options.root.display());
    let builder = std::thread::Builder::new()
        .name("casebook-build".into())
        .spawn(move || build_loop(builder_root, overrides, builder_live, ready_tx));
    if let Err(e) = builder {
        eprintln!("error: cannot start the builder: {e}");
        return ExitCode::from(1);
    }
    tokio::select! {
        _ = ready_rx => {}
        _ = tokio::signal::ctrl_c() => {
            eprintln!("stopped");
            return ExitCode::SUCCESS;
        }
    }
    let url = format!("http://{addr}/");
    eprintln!("serving {url} (Ctrl-C to stop)");
    if options.open {
        open_browser(&url);
    }
    let _ = tokio::signal::ctrl_c().await;
    eprintln!("stopping");
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
    ExitCode::SUCCESS
}

fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    if cmd.arg(url).spawn().is_err() {
        eprintln!("could not open a browser; open {url} yourself");
    }
}

/// What `load` skips, and editors' temporary files (vim's `4913` probe among them).
fn ignored(rel: &Path) -> bool {
    rel.iter().any(|p| {
        let p = p.to_string_lossy();
        crate::load::skipped(&p) || p.ends_with(".swp") || p.ends_with(".tmp")
    }) || rel.file_name().is_some_and(|n| n == "4913")
}

/// Whether a changed path can change the site.
fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    if ignored(rel) {
        return false;
    }
    match rel.iter().next().and_then(|p| p.to_str()) {
        Some(first) if WATCHED.contains(&first) => true,
        Some("site.toml") => true,
        // A catalog named by `[attack] catalog` beside site.toml.
        Some(first) => rel.iter().count() == 1 && first.ends_with(".json"),
        None => false,
    }
}

fn build_loop(root: PathBuf, overrides: Overrides, live: Arc<Live>, ready: tokio::sync::oneshot::Sender<()>) {
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = match new_debouncer(DEBOUNCE, Some(DEBOUNCE_TICK), tx) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("warning: cannot watch for changes ({e}); serving without rebuilds");
            None
        }
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    // Whether every folder is watched: if one is not, what the watcher saw is not all
    // that changed.
    let mut root_watched = true;
    let mut watch_new = |debouncer: &mut Option<notify_debouncer_full::Debouncer<_, _>>| -> bool {
        let Some(d) = debouncer.as_mut() else { return false };
        if watched.is_empty() {
            if let Err(e) = d.watch(&root, RecursiveMode::NonRecursive) {
                eprintln!("warning: cannot watch {}: {e}", root.display());
                root_watched = false;
            }
            watched.push(root.clone());
        }
        let mut all = root_watched;
        for dir in WATCHED {
            let p = root.join(dir);
            if p.is_dir() && !watched.contains(&p) {
                match d.watch(&p, RecursiveMode::Recursive) {
                    Ok(()) => watched.push(p),
                    Err(e) => {
                        eprintln!("warning: cannot watch {}: {e}", p.display());
                        all = false;
                    }
                }
            }
        }
        all
    };
    watch_new(&mut debouncer);

    let options = engine::Options { root: root.clone(), overrides: overrides.clone(), ..Default::default() };
    let mut engine = Engine::new(root.clone(), overrides);
    let first = rebuild(&mut engine, &options, &live);
    if let Some(r) = first {
        let left_out = match r.left_out {
            0 => String::new(),
            n => format!(" ({n} case{} left out: {})", plural(n), crate::report::LEFT_OUT_WHY),
        };
        eprintln!("built {} files in {} ms{left_out}", r.files, r.ms);
    }
    let _ = ready.send(());

    // The paths written to, and whether the watcher lost track of some (an error, or a
    // queue that overflowed: then the engine looks at everything).
    let collect = |r: DebounceEventResult, into: &mut Vec<PathBuf>, lost: &mut bool| match r {
        // Reading a file is an event too (the builder reads them all): only writes count.
        Ok(events) => {
            for e in events {
                *lost |= e.need_rescan();
                if !matches!(e.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))) {
                    into.extend(e.event.paths);
                }
            }
        }
        Err(errors) => {
            *lost = true;
            for e in errors {
                eprintln!("warning: watching: {e}");
            }
        }
    };
    loop {
        let (mut paths, mut lost) = (Vec::new(), false);
        match rx.recv() {
            Ok(r) => collect(r, &mut paths, &mut lost),
            Err(_) => return,
        }
        while let Ok(r) = rx.try_recv() {
            collect(r, &mut paths, &mut lost);
        }
        let complete = watch_new(&mut debouncer);
        paths.sort();
        paths.dedup();
        if lost {
            eprintln!("warning: the watcher lost track of some changes: looking at every file again");
        }
        // The engine hears of every path, even one that alone would not start a run.
        engine.saw((!lost && complete).then(|| paths.clone()));
        paths.retain(|p| relevant(&root, p));
        if paths.is_empty() && !lost {
            continue;
        }
        if let Some(r) = rebuild(&mut engine, &options, &live) {
            let what = match paths.as_slice() {
                [] => "the site".to_string(),
                [one] => crate::load::display(&root, one),
                many => format!("{} files", many.len()),
            };
            let shown = r.shown.map(|ms| format!("the pages open shown after {ms} ms; ")).unwrap_or_default();
            eprintln!(
                "{what} changed: {} page{} rendered, {} file{} changed, in {} ms ({shown}{})",
                r.rendered,
                plural(r.rendered),
                r.changed,
                plural(r.changed),
                r.ms,
                r.stages
            );
        }
    }
}

/// What a successful run did, for the terminal.
struct Rebuilt {
    /// Milliseconds per stage, for the log line.
    stages: String,
    files: usize,
    left_out: usize,
    rendered: usize,
    changed: usize,
    ms: u128,
    /// When the pages open were shown, if before the end.
    shown: Option<u128>,
}

/// One run of the engine into memory: on success the new site is served and the pages
/// that changed reload; on errors the last good site stays, and the errors go to the
/// terminal and to every open page.
fn rebuild(engine: &mut Engine, options: &engine::Options, live: &Live) -> Option<Rebuilt> {
    let start = std::time::Instant::now();
    let report = engine.run(options, false, Target::Memory(live.site()));
    let ms = start.elapsed().as_millis();
    let text = crate::report::human(&crate::report::problems(&report.diagnostics.items));
    if report.diagnostics.has_errors() {
        eprint!("{text}");
        live.set_error(text);
        return None;
    }
    // The open pages were told when the run committed (`Live::committed`).
    eprint!("{text}");
    let stages = report
        .timings
        .iter()
        .chain(&report.render_parts)
        .filter(|(_, ms)| *ms > 0)
        .map(|(s, ms)| format!("{s} {ms}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(Rebuilt {
        stages,
        files: report.files,
        left_out: report.left_out,
        rendered: report.rendered,
        changed: report.changed.len(),
        ms,
        shown: report.shown,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The URL a browser shows for an output path: `cases/x/index.html` -> `/cases/x/`.
fn page_url(path: &str) -> String {
    match path.strip_suffix("index.html") {
        Some(dir) => format!("/{dir}"),
        None => format!("/{path}"),
    }
}
