//! `casebook serve`: builds the site into memory, serves it over HTTP, rebuilds on
//! every change and reloads open pages through a WebSocket.
//!
//! - [`engine`]: the incremental builder (runs on its own thread, with rayon).
//! - [`http`]: the HTTP side (axum on tokio): pages from memory, the reload socket.
//!
//! The site is a map from output path to bytes; each rebuild replaces entries under a
//! write lock, so a reader sees a page whole, old or new, and nothing but the keys of
//! that map can ever be served.

pub mod engine;
pub mod http;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::Bytes;
use notify_debouncer_full::notify::event::{EventKind, ModifyKind};
use notify_debouncer_full::notify::RecursiveMode;
use notify_debouncer_full::{new_debouncer, DebounceEventResult};
use serde_json::json;
use tokio::sync::{broadcast, watch};

use crate::config::Overrides;
use crate::render::OutputFile;

/// The port `serve` tries first when none is given.
pub const DEFAULT_PORT: u16 = 1111;
/// Events closer together than this make one rebuild.
const DEBOUNCE: Duration = Duration::from_millis(50);
/// The folders watched (recursively), with `site.toml` beside them.
const WATCHED: [&str; 5] = ["content", "templates", "static", "themes", "i18n"];

/// The live-reload script, put before `</body>` of every HTML page while serving.
pub const RELOAD_SCRIPT: &str = concat!("<script>", include_str!("reload.js"), "</script>");

#[derive(Debug, Clone)]
pub struct Options {
    pub root: PathBuf,
    pub bind: String,
    /// `None`: [`DEFAULT_PORT`], or the next free one.
    pub port: Option<u16>,
    pub drafts: bool,
    pub open: bool,
}

/// What the HTTP side and the builder share.
pub struct Live {
    files: RwLock<HashMap<String, Bytes>>,
    error: Mutex<Option<String>>,
    messages: broadcast::Sender<String>,
}

impl Default for Live {
    fn default() -> Self {
        Live { files: RwLock::new(HashMap::new()), error: Mutex::new(None), messages: broadcast::channel(64).0 }
    }
}

/// `html` with the reload script before its last `</body>` (or at its end).
pub fn inject(html: &[u8]) -> Bytes {
    let at = html.windows(7).rposition(|w| w.eq_ignore_ascii_case(b"</body>")).unwrap_or(html.len());
    let mut out = Vec::with_capacity(html.len() + RELOAD_SCRIPT.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(RELOAD_SCRIPT.as_bytes());
    out.extend_from_slice(&html[at..]);
    Bytes::from(out)
}

impl Live {
    /// The bytes served at an output path.
    pub fn get(&self, path: &str) -> Option<Bytes> {
        self.files.read().ok()?.get(path).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.files.read().map(|f| f.is_empty()).unwrap_or(true)
    }

    pub fn error(&self) -> Option<String> {
        self.error.lock().ok()?.clone()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.messages.subscribe()
    }

    /// Rendered files replace their old versions, all at once.
    pub fn put(&self, files: Vec<OutputFile>) {
        if files.is_empty() {
            return;
        }
        let files: Vec<(String, Bytes)> = files
            .into_iter()
            .map(|f| {
                let bytes = if f.path.ends_with(".html") { inject(&f.bytes) } else { Bytes::from(f.bytes) };
                (f.path, bytes)
            })
            .collect();
        if let Ok(mut map) = self.files.write() {
            map.extend(files);
        }
    }

    /// Assets as they are, and pages or assets that are gone.
    pub fn files_update(&self, assets: Vec<(String, Bytes)>, removed: &[String]) {
        if let Ok(mut map) = self.files.write() {
            for r in removed {
                map.remove(r);
            }
            map.extend(assets);
        }
    }

    /// Tells open pages to reload: those at `pages` (URLs from `/`), or all.
    pub fn reload(&self, pages: Option<Vec<String>>) {
        let msg = match pages {
            None => json!({"type": "reload", "all": true}),
            Some(p) => json!({"type": "reload", "pages": p}),
        };
        let _ = self.messages.send(msg.to_string());
    }

    pub fn set_error(&self, text: String) {
        if let Ok(mut e) = self.error.lock() {
            *e = Some(text.clone());
        }
        let _ = self.messages.send(json!({"type": "error", "text": text}).to_string());
    }

    pub fn clear_error(&self) {
        if let Ok(mut e) = self.error.lock() {
            *e = None;
        }
    }
}

/// `casebook serve`: runs until Ctrl-C.
pub fn run(options: Options) -> ExitCode {
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
    let (stop_tx, stop_rx) = watch::channel(false);
    let app = http::router(live.clone(), stop_rx.clone());
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

/// Whether a changed path can change the site.
fn relevant(root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(root) else {
        return false;
    };
    if engine::ignored(rel) {
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
    let mut debouncer = match new_debouncer(DEBOUNCE, None, tx) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("warning: cannot watch for changes ({e}); serving without rebuilds");
            None
        }
    };
    let mut watched: Vec<PathBuf> = Vec::new();
    let mut watch_new = |debouncer: &mut Option<notify_debouncer_full::Debouncer<_, _>>| {
        let Some(d) = debouncer.as_mut() else { return };
        if watched.is_empty() {
            if let Err(e) = d.watch(&root, RecursiveMode::NonRecursive) {
                eprintln!("warning: cannot watch {}: {e}", root.display());
            }
            watched.push(root.clone());
        }
        for dir in WATCHED {
            let p = root.join(dir);
            if p.is_dir() && !watched.contains(&p) {
                match d.watch(&p, RecursiveMode::Recursive) {
                    Ok(()) => watched.push(p),
                    Err(e) => eprintln!("warning: cannot watch {}: {e}", p.display()),
                }
            }
        }
    };
    watch_new(&mut debouncer);

    let mut engine = engine::Engine::new(root.clone(), overrides);
    let first = engine.run(None, &live, &|| false);
    if first.ok {
        eprintln!("built {} files in {} ms", first.pages, first.millis);
    }
    let _ = ready.send(());

    let pending: std::cell::RefCell<Vec<PathBuf>> = std::cell::RefCell::new(Vec::new());
    let collect = |r: DebounceEventResult, into: &mut Vec<PathBuf>| match r {
        // Reading a file is an event too (the builder reads them all): only writes count.
        Ok(events) => into.extend(
            events
                .into_iter()
                .filter(|e| !matches!(e.kind, EventKind::Access(_) | EventKind::Modify(ModifyKind::Metadata(_))))
                .flat_map(|e| e.event.paths),
        ),
        Err(errors) => {
            for e in errors {
                eprintln!("warning: watching: {e}");
            }
        }
    };
    loop {
        let mut paths = std::mem::take(&mut *pending.borrow_mut());
        if paths.is_empty() {
            match rx.recv() {
                Ok(r) => collect(r, &mut paths),
                Err(_) => return,
            }
        }
        while let Ok(r) = rx.try_recv() {
            collect(r, &mut paths);
        }
        watch_new(&mut debouncer);
        paths.retain(|p| relevant(&root, p));
        paths.sort();
        paths.dedup();
        if paths.is_empty() {
            continue;
        }
        let interrupted = || {
            let mut got = false;
            while let Ok(r) = rx.try_recv() {
                let mut ps = Vec::new();
                collect(r, &mut ps);
                ps.retain(|p| relevant(&root, p));
                got |= !ps.is_empty();
                pending.borrow_mut().extend(ps);
            }
            got
        };
        let outcome = engine.run(Some(&paths), &live, &interrupted);
        if outcome.ok {
            let what = match paths.as_slice() {
                [one] => crate::load::display(&root, one),
                many => format!("{} files", many.len()),
            };
            eprintln!(
                "{what} changed: {} page{} rebuilt in {} ms{}",
                outcome.pages,
                if outcome.pages == 1 { "" } else { "s" },
                outcome.millis,
                if outcome.deferred > 0 {
                    format!(" ({} left for the next change)", outcome.deferred)
                } else {
                    String::new()
                }
            );
        }
    }
}
