// A projector display: shows its scene and comes back to it by itself after any reconnect.
import { $, connect, el, lineageText, mediaElement } from "./common.js";

const name = document.body.dataset.name, key = document.body.dataset.key;
const socket = connect("/display", { auth: { name, key } });
const BEAT_MS = 5000;  // stage/display/heartbeats.py: three missed beats and the host is told
let wallSize = 24;
let current = { type: "", id: null };
let liveFrame = null, liveTimer = null;

// The show's theme for this display, and a box of its aspect ratio inside the safe area.
function applyTheme() {
  const theme = JSON.parse(document.body.dataset.theme);
  const root = $("stage-display").style;
  root.setProperty("--bg", theme.background);
  root.setProperty("--text", theme.text);
  root.setProperty("--accent", theme.accent);
  root.setProperty("--panel", theme.panel);
  root.setProperty("--font", theme.font);
}
function layout() {
  const [w, h] = document.body.dataset.resolution.split("x").map(Number);
  const safe = JSON.parse(document.body.dataset.safe);
  const scale = Math.min(innerWidth / w, innerHeight / h);
  const box = $("stage-display").style;
  const width = w * scale, height = h * scale;
  box.width = `${width * (1 - (safe.left + safe.right) / 100)}px`;
  box.height = `${height * (1 - (safe.top + safe.bottom) / 100)}px`;
  box.marginLeft = `${width * safe.left / 100 - width * safe.right / 100}px`;
  box.marginTop = `${height * safe.top / 100 - height * safe.bottom / 100}px`;
}

function card(record) {
  const li = el("li", `wall-card kind-${record.kind}`);
  li.dataset.id = record.id;
  const media = guarded(mediaElement(record, { autoplay: true }), `the ${record.kind} by ${record.author}`);
  if (media) li.append(media);
  const text = el("p", "text", record.text || "");
  text.dir = "auto";
  const author = el("p", "author", record.author);
  author.dir = "auto";
  li.append(text, author);
  const lineage = lineageText(record);
  if (lineage) li.append(el("p", "remix-of", lineage));
  return li;
}

function addToWall(record) {
  if ($("wall").querySelector(`li[data-id="${CSS.escape(record.id)}"]`)) return;
  $("wall").prepend(card(record));
  while ($("wall").children.length > wallSize) $("wall").lastElementChild.remove();
}

// The largest type at which the whole story fits the screen, whatever its length.
function fit(text, box) {
  let size = 12;
  text.style.fontSize = `${size}cqh`;
  while (size > 1.5 && box.scrollHeight > box.clientHeight) {
    size *= 0.9;
    text.style.fontSize = `${size}cqh`;
  }
}

// A media file that does not load shows nothing rather than a broken frame, and the host is told.
function report(what) {
  socket.emit("problem", { message: what });
}
function guarded(node, what) {
  if (node) node.addEventListener("error", () => { node.hidden = true; report(`${what} could not be shown`); });
  return node;
}

// cut: the new scene replaces the old; crossfade: the old fades out over the new one.
function swap(type, transition) {
  const next = $(`scene-${type}`);
  const current = [...document.querySelectorAll(".scene")].find((s) => !s.hidden && s !== next);
  const seconds = transition && transition.type === "crossfade" ? transition.seconds : 0;
  next.hidden = false;
  next.classList.remove("fading");
  if (current && seconds > 0 && !window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    current.style.setProperty("--fade", `${seconds}s`);
    current.classList.add("fading");
    setTimeout(() => { current.hidden = true; current.classList.remove("fading"); }, seconds * 1000);
  } else if (current) {
    current.hidden = true;
  }
  document.querySelectorAll(".scene").forEach((s) => { if (s !== next && s !== current) s.hidden = true; });
  document.body.dataset.scene = type;
  $("scene-media").querySelectorAll("video, audio").forEach((m) => { if (type !== "media") m.pause(); });
}

function beat() {
  socket.emit("heartbeat", { scene: current.type || "none", scene_id: current.id });
}

// The live scene: the rig's preview frames (JPEG) arrive while this display shows it.
function liveShow(data) {
  if (current.type !== "live") return;
  const url = URL.createObjectURL(new Blob([data.jpeg], { type: "image/jpeg" }));
  $("live").src = url;
  if (liveFrame) URL.revokeObjectURL(liveFrame);
  liveFrame = url;
  $("live-wait").hidden = true;
  clearTimeout(liveTimer);  // no frame for 3 s: say so rather than freeze on the last one
  liveTimer = setTimeout(() => { $("live-wait").hidden = false; }, 3000);
}

function show(payload) {
  const type = payload.scene.type;
  swap(type, payload.scene.transition);
  current = { type, id: payload.scene.id || null };
  beat();
  if (type === "join") {
    $("join-qr").src = `${payload.join.qr}?t=${Date.now()}`;
    $("join-url").textContent = payload.join.url;
    $("phone-count").textContent = payload.join.phones;
    const wifi = payload.join.wifi;
    $("wifi").hidden = !wifi;
    $("join-step").hidden = !wifi;
    if (wifi) {
      $("wifi-qr").src = `${wifi.qr}?t=${Date.now()}`;
      $("wifi-ssid").textContent = wifi.ssid;
      $("wifi-password").textContent = wifi.password ? `password ${wifi.password}` : "";
    }
  } else if (type === "credits") {
    // Every contributor with their roles; the roll loops while the room empties (about 1.6 s a name).
    $("credits").replaceChildren(...payload.credits.map((c) => {
      const li = el("li", "credit");
      const who = el("span", "name", c.name);
      who.dir = "auto";
      li.append(who, el("span", "roles", c.roles.join(" · ")));
      return li;
    }));
    const roll = $("credits-roll");
    roll.style.setProperty("--roll", `${Math.max(20, payload.credits.length * 1.6 + 10)}s`);
    roll.style.animationName = "none";  // restart the roll from the bottom on every showing
    void roll.offsetHeight;
    roll.style.animationName = "";
  } else if (type === "live") {
    $("live").alt = `live camera: ${payload.rig}`;
    $("live-wait").hidden = false;
  } else if (type === "wall") {
    wallSize = payload.wall_size;
    $("wall").replaceChildren(...payload.records.map(card));
  } else if (type === "story") {
    $("story-text").textContent = payload.record ? payload.record.text : "";
    const lineage = payload.record ? lineageText(payload.record) : "";
    $("story-author").textContent = payload.record ? `— ${payload.record.author}${lineage ? `, ${lineage}` : ""}` : "";
    fit($("story-text"), $("scene-story").querySelector(".story-box"));
  } else if (type === "image") {
    const r = payload.record;
    $("image").hidden = !r;
    if (r) { $("image").src = r.media; $("image").alt = `${r.kind} by ${r.author}`; }
    $("image-caption").textContent = payload.caption ? payload.caption.text : "";
    const source = payload.caption ? `, illustrating ${payload.caption.author}` : "";
    $("image-credit").textContent = r ? `${r.kind === "drawing" ? "Drawn" : "Photographed"} by ${r.author}${source}` : "";
  } else if (type === "media") {
    const r = payload.record;
    const player = r ? guarded(mediaElement(r), `the ${r.kind} by ${r.author}`) : null;
    if (player) {
      player.controls = false; player.autoplay = true; player.currentTime = 0;
      player.loop = payload.scene.end === "loop";
      const showing = payload.scene.id;  // the end action is for this showing only
      player.addEventListener("ended", () => socket.emit("media_ended", { scene_id: showing }));
    }
    $("media-box").replaceChildren(...(player ? [player] : []));
    $("media-credit").textContent = r ? `${r.kind} by ${r.author}` : "";
  } else if (type === "leaderboard") {
    $("leaderboard").replaceChildren(...payload.records.map((r) => {
      const li = el("li", "board-row");
      const media = guarded(mediaElement(r, { autoplay: true }), `the ${r.kind} by ${r.author}`);
      if (media) li.append(media);
      const text = el("p", "text", r.text || "");
      text.dir = "auto";
      li.append(el("span", "count", `♥ ${r.recommendations}`), text, el("p", "author", r.author));
      return li;
    }));
  } else if (type === "message") {
    $("message").textContent = payload.scene.text;
  }
}

applyTheme();
layout();
addEventListener("resize", layout);
setInterval(beat, BEAT_MS);
socket.on("preview", liveShow);
socket.on("connect", () => { $("offline").hidden = true; });
socket.on("disconnect", () => { $("offline").hidden = false; });
socket.on("connect_error", (err) => { $("offline").hidden = false; $("offline").textContent = err.message; });
guarded($("image"), "the picture");
socket.on("scene", show);
socket.on("wall_add", (data) => addToWall(data.record));
socket.on("wall_remove", (data) => {
  const item = $("wall").querySelector(`li[data-id="${CSS.escape(data.id)}"]`);
  if (item) item.remove();
});
socket.on("phones", (data) => { $("phone-count").textContent = data.count; });
