//! `casebook serve` end to end: the built binary on a free loopback port, a real HTTP
//! client and a WebSocket client. Every wait is bounded; no test can hang.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tungstenite::stream::MaybeTlsStream;

const WAIT: Duration = Duration::from_secs(60);

fn case(title: &str, date: &str, techniques: &[&str]) -> String {
    let mut s = format!(
        "+++\ntitle = \"{title}\"\ndate = {date}\norganizations = [\"Example Corp\"]\n\
         summary = \"A test case.\"\ntags = [\"phishing\"]\n\n[incident]\nsectors = [\"Retail\"]\n\
         countries = [\"JP\"]\n"
    );
    for t in techniques {
        s.push_str(&format!("\n[[techniques]]\nid = \"{t}\"\n"));
    }
    s.push_str("+++\nWhat happened, in a paragraph.\n");
    s
}

fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("content/cases")).unwrap();
    std::fs::create_dir_all(root.join("static")).unwrap();
    std::fs::write(root.join("site.toml"), "# SITE-TOML-MARKER\ntitle = \"Serve test\"\n").unwrap();
    std::fs::write(
        root.join("content/cases/alpha-2024.md"),
        case("Alpha breach", "2024-05-01", &["T1078", "T1566.001"]),
    )
    .unwrap();
    std::fs::write(root.join("content/cases/beta-2023.md"), case("Beta breach", "2023-02-01", &["T1190"])).unwrap();
    dir
}

struct Server {
    child: Child,
    addr: String,
    stderr: mpsc::Receiver<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(root: &Path, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_casebook"))
        .arg("serve")
        .arg("--root")
        .arg(root)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn start(root: &Path) -> Server {
    let (child, stderr) = spawn(root, &["--port", "0"]);
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = stderr.recv_timeout(left).expect("the server said where it serves");
        if let Some(rest) = line.strip_prefix("serving http://") {
            let addr = rest.split('/').next().unwrap().to_string();
            assert!(addr.starts_with("127.0.0.1:"), "loopback by default: {addr}");
            return Server { child, addr, stderr };
        }
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

fn get(s: &Server, path: &str) -> (u16, String) {
    let mut r = agent().get(&format!("http://{}{path}", s.addr)).call().unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_to_string().unwrap_or_default())
}

/// A request written by hand, so nothing normalizes the path on the way.
fn raw_get(s: &Server, target: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "GET {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", s.addr).unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    let status = out.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (status, out)
}

type Ws = tungstenite::WebSocket<MaybeTlsStream<TcpStream>>;

fn ws(s: &Server) -> Ws {
    let (mut ws, _) = tungstenite::connect(format!("ws://{}/__casebook/ws", s.addr)).unwrap();
    if let MaybeTlsStream::Plain(t) = ws.get_mut() {
        t.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    }
    ws
}

/// The next message of `kind` (`reload` or `error`), skipping others.
fn next(ws: &mut Ws, kind: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        match ws.read() {
            Ok(tungstenite::Message::Text(t)) => {
                let v: Value = serde_json::from_str(t.as_str()).unwrap();
                if v["type"] == kind {
                    return v;
                }
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => panic!("websocket: {e}"),
        }
    }
    panic!("no {kind} message within {WAIT:?}");
}

fn edit(path: PathBuf, text: &str) {
    // Let the watcher settle, then write the way editors do: whole file.
    std::thread::sleep(Duration::from_millis(200));
    std::fs::write(path, text).unwrap();
}

/// Waits for the terminal line that ends a run after an edit: the pages looked at
/// reload as soon as they are made, the rest of the site is in place by then.
fn settled(s: &Server) {
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = s.stderr.recv_timeout(left).expect("the run ends with a line in the terminal");
        if line.contains(" changed: ") {
            return;
        }
    }
}

fn wait_exit(child: &mut Child) -> Option<ExitStatus> {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[test]
fn serves_the_site_with_the_reload_script() {
    let dir = site();
    let s = start(dir.path());
    let (status, home) = get(&s, "/");
    assert_eq!(status, 200);
    assert!(home.contains("Alpha breach"));
    assert!(home.contains("/__casebook/ws"), "reload script injected");
    let (status, page) = get(&s, "/cases/alpha-2024/");
    assert_eq!(status, 200);
    assert!(page.contains("Alpha breach"));
    assert_eq!(page.matches("/__casebook/ws").count(), 1);
    let (status, _) = get(&s, "/cases/alpha-2024");
    assert_eq!(status, 301, "a folder without its slash redirects");
    let (status, _) = get(&s, "/no/such/page/");
    assert_eq!(status, 404);
    // Only HTML gets the script.
    let (status, css) = get(&s, "/casebook.css");
    assert_eq!(status, 200);
    assert!(!css.contains("__casebook"));
}

#[test]
fn an_edit_is_served_and_reloads_open_pages() {
    let dir = site();
    let s = start(dir.path());
    let mut socket = ws(&s);
    edit(
        dir.path().join("content/cases/alpha-2024.md"),
        &case("Alpha breach, revised", "2024-05-01", &["T1078", "T1566.001"]),
    );
    let msg = next(&mut socket, "reload");
    let pages = msg["pages"].as_array().cloned().unwrap_or_default();
    assert!(msg["all"] == true || pages.iter().any(|p| p == "/cases/alpha-2024/"), "{msg}");
    let (_, page) = get(&s, "/cases/alpha-2024/");
    assert!(page.contains("Alpha breach, revised"));
    // The lists that show its card follow (second phase, right after the first).
    let deadline = Instant::now() + WAIT;
    while !get(&s, "/sectors/retail/").1.contains("Alpha breach, revised") {
        assert!(Instant::now() < deadline, "the sector page shows the new title");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A change to the index (a new technique) goes the long way and is served too.
    edit(
        dir.path().join("content/cases/alpha-2024.md"),
        &case("Alpha breach, revised", "2024-05-01", &["T1078", "T1486"]),
    );
    next(&mut socket, "reload");
    let deadline = Instant::now() + WAIT;
    while get(&s, "/techniques/T1486/").0 != 200 {
        assert!(Instant::now() < deadline, "the new technique page appears");
        std::thread::sleep(Duration::from_millis(50));
    }
    // A new case.
    edit(dir.path().join("content/cases/gamma-2025.md"), &case("Gamma breach", "2025-01-01", &["T1190"]));
    next(&mut socket, "reload");
    let deadline = Instant::now() + WAIT;
    while !get(&s, "/").1.contains("Gamma breach") {
        assert!(Instant::now() < deadline, "the new case is listed on home");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(get(&s, "/cases/gamma-2025/").0, 200);
}

#[test]
fn a_broken_edit_shows_errors_and_keeps_the_last_good_site() {
    let dir = site();
    let s = start(dir.path());
    let mut socket = ws(&s);
    let path = dir.path().join("content/cases/beta-2023.md");
    edit(path.clone(), &case("Beta breach, broken", "2023-02-01", &["T9999"]));
    let msg = next(&mut socket, "error");
    let text = msg["text"].as_str().unwrap();
    assert!(text.contains("content/cases/beta-2023.md:"), "FILE:LINE:COL: {text}");
    assert!(text.contains("T9999"), "{text}");
    let (status, page) = get(&s, "/cases/beta-2023/");
    assert_eq!(status, 200, "the last good site is still served");
    assert!(page.contains("Beta breach") && !page.contains("broken"));
    // A page opened now is told at once.
    let mut late = ws(&s);
    next(&mut late, "error");
    edit(path, &case("Beta breach, fixed", "2023-02-01", &["T1190"]));
    let msg = next(&mut socket, "reload");
    assert_eq!(msg["all"], true, "fixing clears the overlay on every page");
    let (_, page) = get(&s, "/cases/beta-2023/");
    assert!(page.contains("Beta breach, fixed"));
}

#[test]
fn requests_cannot_leave_the_site() {
    let dir = site();
    // Something beside the site that must never be served.
    std::fs::write(dir.path().join("secret.txt"), "TOP-SECRET").unwrap();
    let s = start(dir.path());
    for target in [
        "/../Cargo.toml",
        "/../site.toml",
        "/%2e%2e/",
        "/%2e%2e/site.toml",
        "/..%2f..%2fetc/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/static/..%5c..%5csite.toml",
        "/etc/passwd",
        "//etc/passwd",
        "/secret.txt",
        "/site.toml",
        "/content/cases/alpha-2024.md",
        "http://example.org/../site.toml",
    ] {
        let (status, body) = raw_get(&s, target);
        assert!(status == 400 || status == 404, "{target}: status {status}");
        assert!(
            !["root:", "TOP-SECRET", "SITE-TOML-MARKER", "[package]", "+++"].iter().any(|m| body.contains(m)),
            "{target} leaked: {body}"
        );
    }
    // A symbolic link out of the site is refused, and the last good site stays.
    #[cfg(unix)]
    {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "TOP-SECRET").unwrap();
        let mut socket = ws(&s);
        std::os::unix::fs::symlink(outside.path().join("secret.txt"), dir.path().join("static/leak.txt")).unwrap();
        let msg = next(&mut socket, "error");
        assert!(msg["text"].as_str().unwrap().contains("leak.txt"));
        let (status, body) = raw_get(&s, "/leak.txt");
        assert_eq!(status, 404);
        assert!(!body.contains("TOP-SECRET"));
    }
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let dir = site();
    let (mut child, stderr) = spawn(dir.path(), &["--port", &port]);
    let status = wait_exit(&mut child).expect("exits at once");
    assert_eq!(status.code(), Some(1));
    let said: Vec<String> = stderr.try_iter().collect();
    assert!(said.iter().any(|l| l.contains(&port) && l.contains("taken")), "{said:?}");
}

#[test]
fn a_bad_bind_address_is_a_usage_error() {
    let dir = site();
    let (mut child, _) = spawn(dir.path(), &["--bind", "not-an-address", "--port", "0"]);
    assert_eq!(wait_exit(&mut child).unwrap().code(), Some(2));
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_cleanly() {
    let dir = site();
    let mut s = start(dir.path());
    let _socket = ws(&s);
    let ok = Command::new("kill").args(["-INT", &s.child.id().to_string()]).status().unwrap();
    assert!(ok.success());
    let status = wait_exit(&mut s.child).expect("stops within the deadline");
    assert!(status.success(), "{status:?}");
    let said: Vec<String> = s.stderr.try_iter().collect();
    assert!(said.iter().any(|l| l.contains("stopping")), "{said:?}");
}

/// A request written by hand with its own method and headers.
fn raw(s: &Server, head: &str) -> String {
    let mut stream = TcpStream::connect(&s.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(stream, "{head}Connection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = stream.read_to_string(&mut out);
    out
}

fn status_of(response: &str) -> u16 {
    response.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0)
}

#[test]
fn withdrawn_cases_answer_404_everywhere() {
    let dir = site();
    let s = start(dir.path());
    let mut socket = ws(&s);
    for p in ["/cases/alpha-2024/", "/cases/alpha-2024/stix.json", "/cases/alpha-2024/attack-layer.json"] {
        assert_eq!(get(&s, p).0, 200, "{p}");
    }
    let text = case("Alpha breach", "2024-05-01", &["T1078"]).replace("date = 2024", "tlp = \"amber\"\ndate = 2024");
    edit(dir.path().join("content/cases/alpha-2024.md"), &text);
    // The pages just looked at are shown gone first, in a reload of their own; the home
    // page, which lists the case but was not looked at, follows with the rest.
    let pages = |msg: &Value| msg["pages"].as_array().cloned().unwrap_or_default();
    let msg = next(&mut socket, "reload");
    assert!(pages(&msg).iter().any(|p| p == "/cases/alpha-2024/") && !pages(&msg).iter().any(|p| p == "/"), "{msg}");
    for p in ["/cases/alpha-2024/", "/cases/alpha-2024/stix.json", "/cases/alpha-2024/attack-layer.json"] {
        assert_eq!(get(&s, p).0, 404, "{p} is still served after the case became TLP:AMBER");
    }
    let msg = next(&mut socket, "reload");
    assert!(pages(&msg).iter().any(|p| p == "/"), "{msg}");
    settled(&s);
    let (_, home) = get(&s, "/");
    assert!(!home.contains("Alpha breach"), "the home page still lists the withheld case");
    let (_, all) = get(&s, "/api/cases.json");
    assert!(!all.contains("alpha-2024"));
    // Deleted: gone too.
    std::fs::remove_file(dir.path().join("content/cases/beta-2023.md")).unwrap();
    next(&mut socket, "reload");
    settled(&s);
    assert_eq!(get(&s, "/cases/beta-2023/stix.json").0, 404);
}

#[test]
fn serve_reports_a_broken_link_as_build_does() {
    let dir = site();
    let s = start(dir.path());
    let mut socket = ws(&s);
    let text = case("Alpha breach", "2024-05-01", &["T1078"]) + "\nSee [the report](../no-such-case/).\n";
    edit(dir.path().join("content/cases/alpha-2024.md"), &text);
    let msg = next(&mut socket, "error");
    let text = msg["text"].as_str().unwrap();
    assert!(text.contains("link-broken") || text.contains("no-such-case"), "{text}");
    assert!(text.contains("content/cases/alpha-2024.md:"), "{text}");
}

#[test]
fn only_local_pages_reach_the_preview() {
    let dir = site();
    let s = start(dir.path());
    let ok = raw(&s, &format!("GET / HTTP/1.1\r\nHost: {}\r\n", s.addr));
    assert_eq!(status_of(&ok), 200);
    let ok = raw(&s, "GET / HTTP/1.1\r\nHost: localhost:1111\r\n");
    assert_eq!(status_of(&ok), 200);
    // DNS rebinding: a page of another host, resolved to 127.0.0.1.
    let evil = raw(&s, "GET / HTTP/1.1\r\nHost: evil.example:1111\r\n");
    assert_eq!(status_of(&evil), 403, "{evil}");
    assert!(!evil.contains("Alpha breach"));
    // Reads only.
    let post = raw(&s, &format!("POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\n", s.addr));
    assert_eq!(status_of(&post), 405);
    assert!(post.to_ascii_lowercase().contains("allow: get, head"), "{post}");
    // `//host` never becomes a redirect to another host.
    let slash = raw(&s, &format!("GET //cases/alpha-2024 HTTP/1.1\r\nHost: {}\r\n", s.addr));
    assert_eq!(status_of(&slash), 301);
    let location = slash.lines().find(|l| l.to_ascii_lowercase().starts_with("location:")).unwrap();
    assert_eq!(location.split_once(':').unwrap().1.trim(), "/cases/alpha-2024/");
    // The socket takes pages of this site only.
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{}/__casebook/ws", s.addr)).unwrap();
    req.headers_mut().insert("Origin", "http://evil.example".parse().unwrap());
    assert!(tungstenite::connect(req).is_err(), "a socket from another origin was accepted");
    let mut req =
        tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{}/__casebook/ws", s.addr)).unwrap();
    req.headers_mut().insert("Origin", format!("http://{}", s.addr).parse().unwrap());
    assert!(tungstenite::connect(req).is_ok(), "a page of the site could not connect");
}

#[test]
fn reload_sockets_are_capped() {
    let dir = site();
    let s = start(dir.path());
    let mut open: Vec<Ws> = Vec::new();
    for _ in 0..256 {
        open.push(ws(&s));
    }
    let refused = tungstenite::connect(format!("ws://{}/__casebook/ws", s.addr));
    match refused {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status().as_u16(), 503),
        other => panic!("socket 257 was not refused cleanly: {:?}", other.map(|_| ())),
    }
    // Pages are still served, and a closed socket frees its place.
    assert_eq!(get(&s, "/").0, 200);
    let mut first = open.remove(0);
    first.close(None).unwrap();
    let _ = first.flush();
    let deadline = Instant::now() + WAIT;
    while tungstenite::connect(format!("ws://{}/__casebook/ws", s.addr)).is_err() {
        assert!(Instant::now() < deadline, "a closed socket never freed its place");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Left-out cases are counted once, not listed again on every save (that is `check`'s
/// job); problems are still listed.
#[test]
fn the_terminal_counts_left_out_cases_instead_of_listing_them() {
    let dir = site();
    let amber = case("Gamma breach", "2022-01-01", &["T1078"]).replace("date = 2022", "tlp = \"amber\"\ndate = 2022");
    std::fs::write(dir.path().join("content/cases/gamma-2022.md"), amber).unwrap();
    let (child, stderr) = spawn(dir.path(), &["--port", "0"]);
    let s = Server { child, addr: String::new(), stderr };
    let mut said = Vec::new();
    let wait_for = |what: &str, said: &mut Vec<String>| loop {
        let line = s.stderr.recv_timeout(WAIT).unwrap_or_else(|_| panic!("no line with {what:?} in {said:?}"));
        said.push(line.clone());
        if line.contains(what) {
            return line;
        }
    };
    let built = wait_for("built ", &mut said);
    assert!(built.contains("(1 case left out"), "{built}");
    wait_for("serving http://", &mut said);
    edit(dir.path().join("content/cases/alpha-2024.md"), &case("Alpha breach, edited", "2024-05-01", &["T1078"]));
    wait_for("changed:", &mut said);
    assert!(!said.iter().any(|l| l.contains("case-left-out") || l.contains("gamma")), "{said:#?}");
}
