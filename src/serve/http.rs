//! The HTTP side of `casebook serve`: pages from memory, and the reload WebSocket.
//!
//! A request path is decoded once, refused if any segment is `.` or `..` or holds a
//! backslash or NUL, and then only looked up as a key of the in-memory site: there is
//! no file system path to escape from.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::sync::{broadcast, watch};

use super::Live;

/// Where open pages connect for reload and error messages.
pub const WS_PATH: &str = "/__casebook/ws";

#[derive(Clone)]
struct AppState {
    live: Arc<Live>,
    stop: watch::Receiver<bool>,
}

pub fn router(live: Arc<Live>, stop: watch::Receiver<bool>) -> Router {
    Router::new().route(WS_PATH, get(socket)).fallback(page).with_state(AppState { live, stop })
}

/// Why a request path is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not valid percent-encoding or UTF-8, or a segment that could leave the site.
    BadPath,
}

/// The output path a request path names: `/cases/x/` -> `cases/x/index.html`.
pub fn output_key(path: &str) -> Result<String, Refused> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or(Refused::BadPath)?;
            let s = std::str::from_utf8(hex).map_err(|_| Refused::BadPath)?;
            decoded.push(u8::from_str_radix(s, 16).map_err(|_| Refused::BadPath)?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(decoded).map_err(|_| Refused::BadPath)?;
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

fn content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "txt" | "md" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
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
        return respond(StatusCode::OK, content_type(&key), bytes);
    }
    // `/cases/x` -> `/cases/x/`, as static hosts do.
    if !path.ends_with('/') && live.get(&format!("{key}/index.html")).is_some() {
        let mut r = respond(StatusCode::MOVED_PERMANENTLY, "text/plain", Bytes::new());
        if let Ok(v) = HeaderValue::from_str(&format!("{path}/")) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    match live.get("404.html") {
        Some(b) => respond(StatusCode::NOT_FOUND, "text/html; charset=utf-8", b),
        None => respond(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", Bytes::from_static(b"404 not found\n")),
    }
}

async fn socket(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| talk(socket, state)).into_response()
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
            "/C:/Windows",
        ] {
            assert_eq!(output_key(bad), Err(Refused::BadPath), "{bad}");
        }
    }

    #[test]
    fn script_goes_before_body_end() {
        let out = super::super::inject(b"<html><body><p>x</p></body></html>");
        let s = String::from_utf8(out.to_vec()).unwrap();
        assert!(s.contains("<p>x</p><script>"));
        assert!(s.ends_with("</script></body></html>"));
    }
}
