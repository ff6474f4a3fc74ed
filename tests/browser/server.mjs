// A plain static file server for a built site, the way any static host serves it:
// `/x/` serves `x/index.html`, `/x` redirects to `/x/` when `x` is a folder, and a
// missing file gets `/404.html` with status 404. Listens on 127.0.0.1, on a free port.
import { createServer } from "node:http";
import { stat, readFile } from "node:fs/promises";
import { join, normalize, extname, sep } from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".xml": "application/xml",
  ".svg": "image/svg+xml",
  ".txt": "text/plain; charset=utf-8",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".webmanifest": "application/manifest+json",
};

async function isFile(p) {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDir(p) {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Serves `root`; resolves to `{ url, close() }` once listening. */
export async function serve(root) {
  const base = normalize(root).replace(/[\\/]+$/, "");
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, "http://x").pathname);
      const file = normalize(join(base, path));
      if (file !== base && !file.startsWith(base + sep)) {
        res.writeHead(403).end();
        return;
      }
      let target = null;
      if (path.endsWith("/") && (await isFile(join(file, "index.html")))) {
        target = join(file, "index.html");
      } else if (!path.endsWith("/") && (await isDir(file))) {
        res.writeHead(301, { Location: path + "/" }).end();
        return;
      } else if (await isFile(file)) {
        target = file;
      }
      let status = 200;
      if (!target) {
        status = 404;
        target = join(base, "404.html");
        if (!(await isFile(target))) {
          res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
          return;
        }
      }
      const body = await readFile(target);
      res.writeHead(status, {
        "Content-Type": TYPES[extname(target)] || "application/octet-stream",
        "Content-Length": body.length,
        "Cache-Control": "no-store",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (e) {
      res.writeHead(500, { "Content-Type": "text/plain" }).end(String(e));
    }
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
