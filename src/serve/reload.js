(() => {
  // Injected by `casebook serve` only; never part of a built site.
  const building = document.documentElement.hasAttribute("data-casebook-building");
  const here = () => location.pathname.replace(/index\.html$/, "");
  let overlay = null;
  function show(text) {
    if (!overlay) {
      overlay = document.createElement("div");
      overlay.id = "casebook-error-overlay";
      overlay.setAttribute("role", "alert");
      overlay.setAttribute("style", "position:fixed;inset:0;z-index:2147483647;overflow:auto;" +
        "background:#18181b;color:#fafafa;padding:2rem;font:14px/1.5 ui-monospace,monospace;text-align:left");
      const title = document.createElement("strong");
      title.textContent = "casebook: the site has errors; this is the last good build.";
      const pre = document.createElement("pre");
      // Its own colours: the site's stylesheet must not paint it (its <pre> is beige).
      pre.setAttribute("style", "white-space:pre-wrap;margin:1rem 0 0;padding:0;border:0;" +
        "background:transparent;color:inherit;font:inherit");
      overlay.append(title, pre);
      document.body.appendChild(overlay);
    }
    overlay.querySelector("pre").textContent = text;
  }
  function connect(retry) {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/__casebook/ws");
    ws.onopen = () => { if (retry) location.reload(); };
    ws.onmessage = (e) => {
      let m;
      try { m = JSON.parse(e.data); } catch (_) { return; }
      if (m.type === "error") {
        show(m.text);
      } else if (m.type === "reload" && (m.all || building || overlay || (m.pages || []).includes(here()))) {
        location.reload();
      }
    };
    ws.onclose = () => setTimeout(() => connect(true), 1000);
  }
  connect(false);
})();
