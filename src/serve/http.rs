//! The HTTP side of `casebook serve`: pages from memory, and the reload WebSocket.
//!
//! A request path is decoded once, refused if any segment is `.` or `..` or holds a
//! backslash or NUL, and then only looked up as a key of the in-memory site: there is
//! no file system path to escape from.
//!
//! A preview on loopback is still reachable from any page the writer's browser opens, so
//! every request must name this server in `Host` (a loopback name or address, or the
//! `--bind` address: no DNS rebinding), the reload socket takes only pages of this site
//! (`Origin`), and only so many sockets at once.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{broadcast, watch, Semaphore};

use super::Live;

/// Where open pages connect for reload and error messages.
pub(crate) const WS_PATH: &str = "/__casebook/ws";

/// Reload sockets open at once: one per open tab is a handful; each holds a task.
pub(crate) const MAX_SOCKETS: usize = 256;

#[derive(Clone)]
struct AppState {
    live: Arc<Live>,
    stop: watch::Receiver<bool>,
    /// The address listened on: a `Host` naming it is this server too.
    bind: IpAddr,
    sockets: Arc<Semaphore>,
}

pub(crate) fn router(live: Arc<Live>, stop: watch::Receiver<bool>, bind: IpAddr) -> Router {
    let state = AppState { live, stop, bind, sockets: Arc::new(Semaphore::new(MAX_SOCKETS)) };
    Router::new()
        .route(WS_PATH, get(socket))
        .fallback(page)
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    respond(status, "text/plain; charset=utf-8", Bytes::from_static(body.as_bytes()))
}

/// The host part of a `Host` header value: `[::1]:8080` -> `::1`, `localhost:1111` -> `localhost`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// Whether `Host` names this server: a loopback name or address, or the bound address.
pub(crate) fn host_allowed(host: &str, bind: IpAddr) -> bool {
    let name = host_name(host).trim_end_matches('.').to_ascii_lowercase();
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    match name.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip == bind,
        Err(_) => false,
    }
}

/// What every request passes first: GET or HEAD only, and a `Host` naming this server.
async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        let mut r = text(StatusCode::METHOD_NOT_ALLOWED, "405 method not allowed: this preview only reads\n");
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    if !host_allowed(host, state.bind) {
        return text(StatusCode::FORBIDDEN, "403 forbidden: this preview answers only to localhost\n");
    }
    next.run(request).await
}

/// Whether a socket request comes from a page of this site: browsers always send
/// `Origin`, and it must be this server as the page's `Host` names it.
fn origin_allowed(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Not a browser page: nothing a web page could use.
        return true;
    };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    origin.to_str().is_ok_and(|o| o.strip_prefix("http://").is_some_and(|h| h.eq_ignore_ascii_case(host)))
}

/// Why a request path is refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not valid percent-encoding or UTF-8, or a segment that could leave the site.
    BadPath,
}

/// The output path a request path names: `/cases/x/` -> `cases/x/index.html`.
pub(crate) fn output_key(path: &str) -> Result<String, Refused> {
    // Every `%` must start a valid escape: `%+2` or `%zz` is refused, not guessed at.
    let bytes = path.as_bytes();
    let valid = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'%')
        .all(|(i, _)| bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)));
    if !valid {
        return Err(Refused::BadPath);
    }
    let decoded = crate::parse::markdown::percent_decode(path).ok_or(Refused::BadPath)?;
    if decoded.contains(['\\', '\0']) {
        return Err(Refused::BadPath);
    }
    let mut segments = Vec::new();
    for seg in decoded.split('/') {
        match seg {
            "" => {}
            "." | ".." => return Err(Refused::BadPath),
            s if s.contains(':') => return Err(Refused::BadPath),
            s => segments.push(s),
        }
    }
    let mut key = segments.join("/");
    if key.is_empty() {
        key = "index.html".into();
    } else if decoded.ends_with('/') {
        key.push_str("/index.html");
    }
    Ok(key)
}

/// The type a static host would send, with UTF-8 named for text.
fn content_type(key: &str) -> String {
    let mime = mime_guess::from_path(key).first_or_octet_stream();
    let textual = mime.type_() == mime_guess::mime::TEXT
        || matches!(mime.subtype().as_str(), "javascript" | "json" | "xml" | "svg")
        || mime.suffix().is_some_and(|s| s == mime_guess::mime::XML || s == mime_guess::mime::JSON);
    if textual {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    }
}

fn respond(status: StatusCode, ctype: &str, body: Bytes) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    // A preview is always fresh: no caching, and no guessing of types.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    r
}

/// Shown while the first build runs, or when it failed: reloads when a build succeeds.
fn placeholder(live: &Live) -> Response {
    let text = if live.error().is_some() {
        "The site has errors; fix them and this page reloads."
    } else {
        "Building the site; this page reloads when it is ready."
    };
    let html = format!(
        "<!doctype html><html data-casebook-building><head><meta charset=\"utf-8\"><title>casebook serve</title></head>\
         <body><p>{text}</p></body></html>"
    );
    respond(StatusCode::SERVICE_UNAVAILABLE, "text/html; charset=utf-8", super::inject(html.as_bytes()))
}

async fn page(State(state): State<AppState>, uri: Uri) -> Response {
    let live = &state.live;
    let path = uri.path();
    let key = match output_key(path) {
        Ok(k) => k,
        Err(Refused::BadPath) => {
            return respond(
                StatusCode::BAD_REQUEST,
                "text/plain; charset=utf-8",
                Bytes::from_static(b"400 bad request: the path leaves the site\n"),
            )
        }
    };
    if live.is_empty() {
        return placeholder(live);
    }
    if let Some(bytes) = live.get(&key) {
        return respond(StatusCode::OK, &content_type(&key), bytes);
    }
    // Not there, perhaps not yet: a page shown early may link to one its run is making.
    if !live.site().shown_gone(&key) {
        live.settled().await;
        if let Some(bytes) = live.get(&key) {
            return respond(StatusCode::OK, &content_type(&key), bytes);
        }
    }
    // `/cases/x` -> `/cases/x/`, as static hosts do; made from the key, so `//x` can never
    // become a link to another host.
    if !path.ends_with('/') && live.has(&format!("{key}/index.html")) {
        let mut r = respond(StatusCode::MOVED_PERMANENTLY, "text/plain", Bytes::new());
        if let Ok(v) = HeaderValue::from_str(&format!("/{key}/")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    match live.not_found() {
        Some(b) => respond(StatusCode::NOT_FOUND, "text/html; charset=utf-8", b),
        None => respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", Bytes::from_static(b"404 not found\n")),
    }
}

async fn socket(State(state): State<AppState>, headers: HeaderMap, ws: WebSocketUpgrade) -> Response {
    if !origin_allowed(&headers) {
        return text(StatusCode::FORBIDDEN, "403 forbidden: the reload socket is for pages of this site\n");
    }
    let Ok(permit) = state.sockets.clone().try_acquire_owned() else {
        return text(StatusCode::SERVICE_UNAVAILABLE, "503 too many open reload sockets; close some tabs\n");
    };
    ws.on_upgrade(move |socket| async move {
        talk(socket, state).await;
        drop(permit);
    })
    .into_response()
}

async fn talk(mut socket: WebSocket, state: AppState) {
    let mut messages = state.live.subscribe();
    let mut stop = state.stop.clone();
    // A page opened while the site is broken shows why at once.
    if let Some(text) = state.live.error() {
        let msg = serde_json::json!({"type": "error", "text": text}).to_string();
        if socket.send(Message::Text(msg.into())).await.is_err() {
            return;
        }
    }
    loop {
        tokio::select! {
            m = messages.recv() => {
                let text = match m {
                    Ok(t) => t,
                    // Missed messages: reloading is always right.
                    Err(broadcast::error::RecvError::Lagged(_)) => r#"{"type":"reload","all":true}"#.to_string(),
                    Err(broadcast::error::RecvError::Closed) => break,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            _ = stop.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(output_key("/").unwrap(), "index.html");
        assert_eq!(output_key("/cases/x/").unwrap(), "cases/x/index.html");
        assert_eq!(output_key("/casebook.css").unwrap(), "casebook.css");
        assert_eq!(output_key("/cases/x").unwrap(), "cases/x");
        assert_eq!(output_key("//etc/passwd").unwrap(), "etc/passwd");
        for bad in [
            "/../Cargo.toml",
            "/%2e%2e/",
            "/%2E%2E/x",
            "/..%2f..%2fetc/passwd",
            "/a/./b",
            "/a%5c..%5cb",
            "/%00",
            "/%zz",
            "/%c3",
            "/%+2",
            "/%2",
            "/C:/Windows",
        ] {
            assert_eq!(output_key(bad), Err(Refused::BadPath), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        let bind: IpAddr = "127.0.0.1".parse().unwrap();
        for ok in ["localhost", "localhost:1111", "127.0.0.1:1111", "127.1.2.3", "[::1]:80", "app.localhost:9"] {
            assert!(host_allowed(ok, bind), "{ok}");
        }
        for bad in ["", "evil.example", "evil.example:1111", "localhost.evil.example", "10.0.0.1:1111", "[::2]"] {
            assert!(!host_allowed(bad, bind), "{bad}");
        }
        assert!(host_allowed("192.168.1.5:1111", "192.168.1.5".parse().unwrap()), "the --bind address");
    }

    #[test]
    fn types() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x/stix.json"), "application/json; charset=utf-8");
        assert_eq!(content_type("favicon.svg"), "image/svg+xml; charset=utf-8");
        assert_eq!(content_type("a.png"), "image/png");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = super::super::inject(b"<html><body><p>x</p></body></html>");
        let s = String::from_utf8(out.to_vec()).unwrap();
        assert!(s.contains("<p>x</p><script>"));
        assert!(s.ends_with("</script></body></html>"));
    }
}
