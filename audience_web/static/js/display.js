// A projector display: shows its scene and comes back to it by itself after any reconnect. While the
// server is away (stopped, restarting, the network down) the last scene stays up with a small, calm
// "Reconnecting…": a room never sees an error message.
import { $, connect, el, lineageText, mediaElement } from "./common.js";
import { formatNumber, t, tn } from "./i18n.js";
import { fit, fitOrClamp, imageCredit, mediaCredit, phrase } from "./display_text.js";
import { mediaName, roleName } from "./lineage.js";
import {
  addToWall, hideWall, refitWall, removeFromWall, setPrompt, showLeaderboard, showWall,
} from "./display_wall.js";

const name = document.body.dataset.name, key = document.body.dataset.key;
const socket = connect("/display", { auth: { name, key } });
const BEAT_MS = 5000;  // stage/display/heartbeats.py: three missed beats and the host is told
const OFFLINE_AFTER_MS = 1500;  // a reconnect quicker than this (the server re-sending state) shows nothing
let current = { type: "", id: null };
let last = null;  // the last scene payload: re-fitted on resize
let liveFrame = null, liveTimer = null, offlineTimer = null;

// The show's theme for this display, and a box of its aspect ratio inside the safe area.
function applyTheme() {
  const theme = JSON.parse(document.body.dataset.theme);
  const root = $("stage-display").style;
  for (const part of ["background", "text", "accent", "panel", "muted"]) {
    if (theme[part]) root.setProperty(part === "background" ? "--bg" : `--${part}`, theme[part]);
  }
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

// A media file that does not load shows nothing rather than a broken frame, and the host is told
// (in English: the host console's language).
function problem(record) {
  const message = `the ${record.kind} by ${record.author} could not be shown`;
  if (socket.connected) socket.emit("problem", { message });
}
function guarded(node, record) {
  if (node) node.addEventListener("error", () => { node.hidden = true; problem(record); });
  return node;
}

// cut: the new scene replaces the old; crossfade: the old fades out over the new one.
function swap(type, transition) {
  const next = $(`scene-${type}`);
  const old = [...document.querySelectorAll(".scene")].find((s) => !s.hidden && s !== next);
  const seconds = transition && transition.type === "crossfade" ? transition.seconds : 0;
  next.hidden = false;
  next.classList.remove("fading");
  if (old && seconds > 0 && !window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    old.style.setProperty("--fade", `${seconds}s`);
    old.classList.add("fading");
    setTimeout(() => {
      if (document.body.dataset.scene !== old.id.slice(6)) old.hidden = true;  // unless it was shown again meanwhile
      old.classList.remove("fading");
    }, seconds * 1000);
  } else if (old) {
    old.hidden = true;
  }
  document.querySelectorAll(".scene").forEach((s) => { if (s !== next && s !== old) s.hidden = true; });
  document.body.dataset.scene = type;
  if (type !== "wall") hideWall();
  $("scene-media").querySelectorAll("video, audio").forEach((m) => { if (type !== "media") m.pause(); });
}

function beat() {
  // Only while connected: socket.io would buffer every missed beat and send them all on reconnect.
  if (socket.connected) socket.emit("heartbeat", { scene: current.type || "none", scene_id: current.id });
}

// The live scene: the rig's preview frames (JPEG) arrive while this display shows it.
function liveShow(data) {
  if (current.type !== "live") return;
  const url = URL.createObjectURL(new Blob([data.jpeg], { type: "image/jpeg" }));
  $("live").src = url;
  $("live").hidden = false;
  if (liveFrame) URL.revokeObjectURL(liveFrame);
  liveFrame = url;
  $("live-wait").hidden = true;
  clearTimeout(liveTimer);  // no frame for 3 s: say so rather than freeze on the last one
  liveTimer = setTimeout(() => { $("live-wait").hidden = false; }, 3000);
}

// The count is its own element (#phone-count) inside the one message, so it can change alone.
function phones(count) {
  if (!count) { $("join-count").textContent = t("Be the first to join"); return; }
  const message = tn("%(n)s phone joined", "%(n)s phones joined", count, { n: "%(n)s" });  // placeholder kept
  phrase($("join-count"), message, { n: el("span", "", formatNumber(count)) });
  const number = $("join-count").querySelector("span");
  if (number) number.id = "phone-count";
}

function showJoin(join) {
  $("join-qr").src = `${join.qr}?t=${Date.now()}`;
  phones(join.phones);
  const wifi = join.wifi;
  $("wifi").hidden = !wifi;
  const url = Object.assign(el("strong", "url", join.url), { id: "join-url" });
  phrase($("join-text"), wifi ? t("2. Scan to join, or open %(url)s") : t("Scan to join, or open %(url)s"), { url });
  if (wifi) {
    $("wifi-qr").src = `${wifi.qr}?t=${Date.now()}`;
    const network = Object.assign(el("strong", "", wifi.ssid), { dir: "auto" });
    phrase($("wifi-name"), t("1. Wi-Fi %(network)s"), { network });
    $("wifi-password").hidden = !wifi.password;
    phrase($("wifi-password"), t("password %(password)s"),
      { password: Object.assign(el("strong", "", wifi.password || ""), { dir: "auto" }) });
  }
}

// Every contributor with their roles; the roll loops while the room empties (about 1.6 s a name).
function showCredits(credits) {
  $("credits").replaceChildren(...credits.map((c) => {
    const li = el("li", "credit");
    li.append(Object.assign(el("span", "name", c.name), { dir: "auto" }),
      el("span", "roles", c.roles.map(roleName).filter(Boolean).join(" · ")));
    return li;
  }));
  const roll = $("credits-roll");
  roll.style.setProperty("--roll", `${Math.max(20, credits.length * 1.6 + 10)}s`);
  roll.style.animationName = "none";  // restart the roll from the bottom on every showing
  void roll.offsetHeight;
  roll.style.animationName = "";
}

// A story as large as the screen holds it; one too long for the screen even at MIN_TEXT rolls slowly up.
function showStory(record) {
  $("story-text").textContent = record ? record.text : "";
  $("story-author").textContent = record ? t("— %(name)s", { name: record.author }) : "";
  $("story-lineage").textContent = record ? lineageText(record) : "";
  const box = $("story-box"), roll = $("story-roll");
  roll.classList.remove("rolling");
  if (fit($("story-text"), box, 12)) return;
  roll.style.setProperty("--overflow", `${box.scrollHeight - box.clientHeight}px`);
  roll.style.setProperty("--read", `${Math.max(20, record.text.length / 15)}s`);  // ~15 characters a second
  roll.classList.add("rolling");
}

function showImage(payload) {
  const r = payload.record;
  $("image").hidden = !r;
  if (r) { $("image").src = r.media; $("image").alt = mediaName(r); }
  $("image-caption").textContent = payload.caption ? payload.caption.text : "";
  $("image-card").classList.toggle("captioned", Boolean(payload.caption && payload.caption.text));
  $("image-credit").textContent = r ? imageCredit(r, payload.caption) : "";
  if (payload.caption) fitOrClamp($("image-caption"), $("image-words"), 7);
}

function showMedia(payload) {
  const r = payload.record;
  const player = r ? guarded(mediaElement(r), r) : null;
  if (player) {
    player.controls = false; player.autoplay = true; player.currentTime = 0;
    player.loop = payload.scene.end === "loop";
    player.setAttribute("aria-label", mediaName(r));
    const showing = payload.scene.id;  // the end action is for this showing only
    player.addEventListener("ended", () => socket.emit("media_ended", { scene_id: showing }));
  }
  $("media-box").replaceChildren(...(player ? [player] : []));
  $("media-credit").textContent = r ? mediaCredit(r) : "";
}

function show(payload) {
  const type = payload.scene.type;
  swap(type, payload.scene.transition);
  current = { type, id: payload.scene.id || null };
  last = payload;
  beat();
  if (type === "join") showJoin(payload.join);
  else if (type === "credits") showCredits(payload.credits);
  else if (type === "live") {
    $("live-wait").hidden = false;
    $("live").hidden = true;  // until its first frame: an image without one shows a broken icon and its alt text
  }
  else if (type === "wall") showWall(payload, problem);
  else if (type === "story") showStory(payload.record);
  else if (type === "image") showImage(payload);
  else if (type === "media") showMedia(payload);
  else if (type === "leaderboard") showLeaderboard(payload.records, problem);
  else if (type === "message") {
    $("message").textContent = payload.scene.text;
    fit($("message"), $("scene-message"), 9);
  }
}

// Words sized to the frame are sized again when the window changes (the kiosk going full screen).
function refit() {
  layout();
  if (!last) return;
  const type = last.scene.type;
  if (type === "wall") refitWall();
  else if (type === "story") showStory(last.record);
  else if (type === "image") showImage(last);
  else if (type === "leaderboard") showLeaderboard(last.records, problem);
  else if (type === "message") fit($("message"), $("scene-message"), 9);
}

// Away: show the indicator once the outage outlasts a quick reconnect (each failed retry must not restart
// that wait, or it would never show); back: hide it.
function offline(away) {
  if (!away) {
    clearTimeout(offlineTimer);
    offlineTimer = null;
    $("offline").hidden = true;
  } else if (!offlineTimer) {
    offlineTimer = setTimeout(() => { $("offline").hidden = false; }, OFFLINE_AFTER_MS);
  }
}

applyTheme();
layout();
addEventListener("resize", refit);
setInterval(beat, BEAT_MS);
$("image").addEventListener("error", () => {
  $("image").hidden = true;
  if (last && last.record) problem(last.record);
});
socket.on("preview", liveShow);
socket.on("connect", () => offline(false));
socket.on("disconnect", () => offline(true));
socket.on("connect_error", () => offline(true));  // never its message: "websocket error" is not for the room
socket.on("scene", show);
socket.on("wall_add", (data) => addToWall(data.record));
socket.on("wall_remove", (data) => removeFromWall(data.id));
socket.on("prompt", (data) => setPrompt(data.prompt));
socket.on("phones", (data) => phones(data.count));
