// Shared by every Stage page. User text only ever goes through textContent.
"use strict";

const Stage = {
  // An element with text set through textContent (never HTML).
  el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  },

  // crypto.randomUUID needs a secure context; venue pages are plain HTTP, getRandomValues is not.
  uuid4() {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  },

  randomKey() {
    return Array.from(crypto.getRandomValues(new Uint8Array(24)), (x) => x.toString(16).padStart(2, "0")).join("");
  },

  // The page's one socket per namespace: a second io() to the same namespace opens a second
  // connection, and every broadcast then arrives twice (the crew page did: crew.js and remix.js).
  sockets: new Map(),

  // Connect to a namespace (or return this page's socket on it: options count only the first time);
  // reconnect when a backgrounded phone comes back (iOS kills its socket).
  connect(namespace, options) {
    if (this.sockets.has(namespace)) return this.sockets.get(namespace);
    const socket = io(namespace, Object.assign({ transports: ["websocket", "polling"] }, options || {}));
    this.sockets.set(namespace, socket);
    // Only when nothing is underway: a second connect while the first is opening makes the server
    // refuse the namespace (seen as an empty connect_error). pageshow matters only for pages
    // restored from the back-forward cache; it also fires on every first load.
    const revive = () => { if (!socket.connected && socket.io._readyState !== "opening") socket.connect(); };
    document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") revive(); });
    window.addEventListener("pageshow", (event) => { if (event.persisted) revive(); });
    window.addEventListener("online", revive);
    return socket;
  },

  showConnection(socket, node) {
    const set = (text, state) => { node.textContent = text; node.dataset.state = state; };
    socket.on("connect", () => set("Connected", "online"));
    socket.on("disconnect", () => set("Reconnecting…", "offline"));
    socket.on("connect_error", (err) => set(`Cannot connect: ${err.message}`, "offline"));
  },

  showError(node, error) {
    node.textContent = error ? error.message || String(error) : "";
    node.hidden = !error;
  },

  // An approved record's drawing, photo or clip; user media is only ever a src, never markup.
  mediaElement(record, { autoplay = false } = {}) {
    if (!record.media) return null;
    let node;
    if (record.mime.startsWith("image/")) {
      node = document.createElement("img");
      node.alt = `${record.kind} by ${record.author}`;
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
  },

  renderCues(list, snapshot) {
    list.replaceChildren(...snapshot.cues.map((cue) => {
      const item = Stage.el("li", `cue state-${cue.state}`);
      item.dataset.id = cue.id;
      item.dataset.state = cue.state;
      item.dataset.depth = cue.depth;
      if (cue.standby) item.classList.add("is-standby");
      item.style.paddingLeft = `${0.5 + cue.depth * 1.5}rem`;
      item.append(Stage.el("span", "cue-id", cue.id), Stage.el("span", "cue-name", cue.name || cue.type),
        Stage.el("span", "cue-type", cue.type), Stage.el("span", "cue-state", cue.state.replace("_", "-")),
        Stage.el("span", "cue-timer", ""));
      if (cue.error) item.append(Stage.el("span", "cue-error", cue.error));
      return item;
    }));
  },

  renderCounts(counts) {
    const set = (id, value) => { const n = document.getElementById(id); if (n) n.textContent = value; };
    set("phones", counts.phones);
    set("pending", counts.pending);
    const online = Object.values(counts.displays || {}).filter((n) => n > 0).length;
    set("displays", `${online}/${Object.keys(counts.displays || {}).length}`);
    const rigs = Object.values(counts.rigs || {});
    set("rigs", `${rigs.filter((state) => state !== "offline").length}/${rigs.length}`);
  },
};
