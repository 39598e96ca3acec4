// Shared by every Stage page, imported by each page module (no globals). User text only ever goes
// through textContent. The socket.io client is the one classic script: base.html loads it before any
// module runs (module scripts are deferred), so its global `io` is there when connect() is called.

import { t } from "./i18n.js";
import { mediaName } from "./lineage.js";

// Who made what, as every page words it (lineage.js), re-exported so pages import one module.
export { lineageText, madeBy } from "./lineage.js";

export const $ = (id) => document.getElementById(id);

// An element with text set through textContent (never HTML).
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// crypto.randomUUID needs a secure context; venue pages are plain HTTP, getRandomValues is not.
export function uuid4() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function randomKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (x) => x.toString(16).padStart(2, "0")).join("");
}

// The page's one socket per namespace: a second io() to the same namespace opens a second
// connection, and every broadcast then arrives twice (the crew page did: crew.js and remix.js).
const sockets = new Map();

// Consoles and displays talk to the server process that runs the show. With several processes the proxy
// sends "?conductor=1" there; a process that does not run the show (any more: a failover) refuses with
// "not_conductor", and the page connects again through the proxy, which by then knows where the show runs.
const CONDUCTOR_NAMESPACES = new Set(["/host", "/moderation", "/crew", "/display"]);

// Connect to a namespace (or return this page's socket on it: options count only the first time);
// reconnect when a backgrounded phone comes back (iOS kills its socket).
export function connect(namespace, options) {
  if (sockets.has(namespace)) return sockets.get(namespace);
  const defaults = { transports: ["websocket", "polling"] };
  const conductor = CONDUCTOR_NAMESPACES.has(namespace);
  if (conductor) Object.assign(defaults, { query: { conductor: "1" }, reconnectionDelayMax: 1000 });
  const socket = io(namespace, Object.assign(defaults, options || {}));
  sockets.set(namespace, socket);
  if (conductor) {
    // A refused namespace is not retried by socket.io itself: try again shortly, spread over a second.
    const again = () => setTimeout(() => socket.connect(), 300 + Math.random() * 700);
    socket.on("connect_error", (err) => { if (err.data && err.data.code === "not_conductor") again(); });
    // The server ends a console's socket to hand it its full state again (after the message queue came back)
    // or because its session ended; socket.io never retries a disconnect the server made. Connect again: a
    // live session gets its state, an ended one the "log in first" refusal the page already handles.
    socket.on("disconnect", (reason) => { if (reason === "io server disconnect") again(); });
  }
  // Only when nothing is underway: a second connect while the first is opening makes the server
  // refuse the namespace (seen as an empty connect_error). pageshow matters only for pages
  // restored from the back-forward cache; it also fires on every first load.
  const revive = () => { if (!socket.connected && socket.io._readyState !== "opening") socket.connect(); };
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") revive(); });
  window.addEventListener("pageshow", (event) => { if (event.persisted) revive(); });
  window.addEventListener("online", revive);
  return socket;
}

// Emit an event and wait for its ack. Always resolves, to the ack or, when none comes in time, to an
// ack-shaped refusal with code "timeout": every caller reads one shape. The timeout also takes the
// event out of socket.io's send buffer, so an action pressed while offline (a GO, a vote) does not
// fire by surprise minutes later when the connection comes back.
export function call(socket, event, data = {}, { timeout = 10000 } = {}) {
  return new Promise((resolve) => {
    socket.timeout(timeout).emit(event, data, (err, ack) => {
      const late = { code: "timeout", message: t("The server did not answer. Try again.") };
      resolve(err ? { ok: false, error: late } : ack);
    });
  });
}

export function showConnection(socket, node) {
  const set = (text, state) => { node.textContent = text; node.dataset.state = state; };
  socket.on("connect", () => set(t("Connected"), "online"));
  socket.on("disconnect", () => set(t("Reconnecting…"), "offline"));
  socket.on("connect_error", () => set(t("Cannot connect. Trying again…"), "offline"));
}

export function showError(node, error) {
  node.textContent = error ? error.message || String(error) : "";
  node.hidden = !error;
}

// An approved record's drawing, photo or clip; user media is only ever a src, never markup.
export function mediaElement(record, { autoplay = false } = {}) {
  if (!record.media) return null;
  let node;
  if (record.mime.startsWith("image/")) {
    node = document.createElement("img");
    node.alt = mediaName(record);
    node.loading = "lazy";
  } else {
    node = document.createElement(record.mime.startsWith("video/") ? "video" : "audio");
    node.controls = !autoplay;
    node.preload = "metadata";
    node.playsInline = true;
    if (autoplay) Object.assign(node, { muted: true, autoplay: true, loop: true });
  }
  node.className = "record-media";
  node.src = record.media;
  return node;
}

export function renderCues(list, snapshot) {
  list.replaceChildren(...snapshot.cues.map((cue) => {
    const item = el("li", `cue state-${cue.state}`);
    item.dataset.id = cue.id;
    item.dataset.state = cue.state;
    item.dataset.depth = cue.depth;
    if (cue.standby) item.classList.add("is-standby");
    item.style.paddingLeft = `${0.5 + cue.depth * 1.5}rem`;
    item.append(el("span", "cue-id", cue.id), el("span", "cue-name", cue.name || cue.type),
      el("span", "cue-type", cue.type), el("span", "cue-state", cue.state.replace("_", "-")),
      el("span", "cue-timer", ""));
    if (cue.error) item.append(el("span", "cue-error", cue.error));
    return item;
  }));
}

export function renderCounts(counts) {
  const set = (id, value) => { const n = $(id); if (n) n.textContent = value; };
  set("phones", counts.phones);
  set("pending", counts.pending);
  const online = Object.values(counts.displays || {}).filter((n) => n > 0).length;
  set("displays", `${online}/${Object.keys(counts.displays || {}).length}`);
  const rigs = Object.values(counts.rigs || {});
  set("rigs", `${rigs.filter((state) => state !== "offline").length}/${rigs.length}`);
  const down = $("queue-down");
  if (down) down.hidden = counts.message_queue !== "down";  // absent: one process, no queue
}
