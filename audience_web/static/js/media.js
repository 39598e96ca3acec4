// The phone's drawings, photos and clips: a touch canvas, the phone's own camera app (and over HTTPS the
// in-page camera, camera.js), uploads. What is sent waits in the phone's one outbox (outbox.js) until
// the server has it, like a story.
import { $, showError, uuid4 } from "./common.js";
import { t } from "./i18n.js";
import { currentPrompt, deviceKey, onMode, onPrompt, onSettled, outbox, send, sentNote, setSource, socket }
  from "./audience.js";
import { isTransient } from "./outbox.js";
import { explained } from "./phone_errors.js";
import * as camera from "./camera.js";

const MEDIA = ["drawing", "photo", "clip"];
const forms = { drawing: $("drawing-form"), photo: $("photo-form"), clip: $("clip-form") };

// -- mode: what the open prompt takes ------------------------------------------------------------
function setMode(mode) {
  document.querySelectorAll("#modes button").forEach((b) => {
    b.setAttribute("aria-pressed", String(b.dataset.mode === mode));
  });
  $("story-form").hidden = mode !== "story";
  Object.entries(forms).forEach(([kind, form]) => { form.hidden = kind !== mode; });
  camera.close();  // the camera is on only while its own form is in front
}
onMode(setMode);
document.querySelectorAll("#modes button").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));
onPrompt((prompt) => {
  const kinds = prompt ? prompt.kinds : [];
  document.querySelectorAll("#modes button").forEach((b) => { b.hidden = !kinds.includes(b.dataset.mode); });
  $("modes").hidden = kinds.length < 2;
  setMode(kinds.includes("story") ? "story" : (kinds[0] || "none"));
});

// -- drawing --------------------------------------------------------------------------------------
const canvas = $("canvas"), ctx = canvas.getContext("2d");
const strokes = [];
let colour = "#111111", size = 16, current = null;

function redraw() {
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  strokes.forEach((stroke) => {
    ctx.strokeStyle = stroke.colour;
    ctx.lineWidth = stroke.size;
    ctx.lineCap = ctx.lineJoin = "round";
    ctx.beginPath();
    stroke.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
    if (stroke.points.length === 1) ctx.lineTo(stroke.points[0][0] + 0.1, stroke.points[0][1]);
    ctx.stroke();
  });
}
function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width,
    (event.clientY - box.top) * canvas.height / box.height];
}
canvas.addEventListener("pointerdown", (event) => {
  canvas.setPointerCapture(event.pointerId);
  current = { colour, size, points: [point(event)] };
  strokes.push(current);
  redraw();
});
canvas.addEventListener("pointermove", (event) => { if (current) { current.points.push(point(event)); redraw(); } });
["pointerup", "pointercancel"].forEach((name) => canvas.addEventListener(name, () => { current = null; }));
function pick(selector, attr, apply) {
  document.querySelectorAll(selector).forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(selector).forEach((other) => other.setAttribute("aria-pressed", String(other === b)));
    apply(b.dataset[attr]);
  }));
}
pick(".swatch", "colour", (value) => { colour = value; });
pick(".brush", "size", (value) => { size = Number(value); });
document.querySelectorAll(".swatch").forEach((b) => { b.style.background = b.dataset.colour; });
$("undo").addEventListener("click", () => { strokes.pop(); redraw(); });
$("clear").addEventListener("click", () => { strokes.length = 0; redraw(); });
redraw();

forms.drawing.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!strokes.length) return showError($("media-error"), { message: t("Draw something first.") });
  canvas.toBlob((blob) => queue("drawing", blob, "drawing.png", () => { strokes.length = 0; redraw(); }), "image/png");
});

// -- photo and clip: <input capture> opens the phone's camera app; over HTTPS camera.js also films
// and photographs in the page. Whichever was made last is what Send sends.
const EXTENSIONS = { "image/jpeg": "jpg", "video/webm": "webm", "video/mp4": "mp4" };
function chosen(kind) {
  const blob = camera.takenBlob(kind);
  if (blob) return { blob, name: `${kind}.${EXTENSIONS[blob.type] || "bin"}` };
  const file = $(`${kind}-input`).files[0];
  return file ? { blob: file, name: file.name } : null;
}
$("photo-input").addEventListener("change", () => {
  const file = $("photo-input").files[0];
  if (file) camera.discard("photo");
  $("photo-preview").hidden = !file;
  if (file) $("photo-preview").src = URL.createObjectURL(file);
});
$("clip-input").addEventListener("change", () => { if ($("clip-input").files[0]) camera.discard("clip"); });
forms.photo.addEventListener("submit", (event) => {
  event.preventDefault();
  const photo = chosen("photo");
  if (!photo) return showError($("media-error"), { message: t("Take or choose a photo first.") });
  queue("photo", photo.blob, photo.name, () => {
    forms.photo.reset();
    camera.discard("photo");
    $("photo-preview").hidden = true;
  });
});
forms.clip.addEventListener("submit", (event) => {
  event.preventDefault();
  const clip = chosen("clip");
  if (!clip) return showError($("media-error"), { message: t("Film or choose a clip first.") });
  queue("clip", clip.blob, clip.name, () => { forms.clip.reset(); camera.discard("clip"); });
});

// What became of the picture or clip sent last, said under the forms (sent_note.js): one whole sentence
// per kind and state, so each language words it in full.
const MEDIA_WORDS = {
  drawing: { sending: () => t("Sending your drawing…"),
    saved: () => t("Your drawing is saved on this phone: it goes as soon as the connection is back. "
      + "You'll see it under Mine."),
    pending: () => t("Your drawing is sent — a moderator looks at it next. You'll see it under Mine."),
    approved: () => t("Your drawing is sent — it is on the wall now. You'll see it under Mine.") },
  photo: { sending: () => t("Sending your photo…"),
    saved: () => t("Your photo is saved on this phone: it goes as soon as the connection is back. "
      + "You'll see it under Mine."),
    pending: () => t("Your photo is sent — a moderator looks at it next. You'll see it under Mine."),
    approved: () => t("Your photo is sent — it is on the wall now. You'll see it under Mine.") },
  clip: { sending: () => t("Sending your clip…"),
    saved: () => t("Your clip is saved on this phone: it goes as soon as the connection is back. "
      + "You'll see it under Mine."),
    pending: () => t("Your clip is sent — a moderator looks at it next. You'll see it under Mine."),
    approved: () => t("Your clip is sent — it is on the wall now. You'll see it under Mine.") },
};
let lastKind = "drawing";
// While it uploads, the progress line says so: the note waits for the answer.
const mediaNote = sentNote("media-sent", (state) => (state === "sending" ? "" : MEDIA_WORDS[lastKind][state]()));

// Into the outbox (the form is cleared once it holds the file), sent from there.
async function queue(kind, blob, name, done) {
  showError($("media-error"), null);
  const id = uuid4();
  lastKind = kind;
  mediaNote.sent(id);
  await send({ id, kind, blob, name });
  mediaNote.update();
  done();
}

// -- upload: the same id on every retry, so the server stores it once ------------------------------
// A Wi-Fi that goes silent (no reset) would hold an upload open for minutes and it would never be
// retried, not even on reconnect: no progress for this long while sending is a lost upload.
const STALL_MS = 30000;

function upload(item) {
  const { id, kind } = item;
  return new Promise((resolve) => {
    const form = new FormData();
    Object.entries({ id, kind, prompt: item.prompt, device_key: deviceKey }).forEach(([k, v]) => form.append(k, v));
    item.sources.forEach((source) => form.append("sources", source));
    form.append("file", item.blob, item.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    let stall = null;
    const watch = () => { clearTimeout(stall); stall = setTimeout(() => xhr.abort(), STALL_MS); };
    xhr.upload.onprogress = (e) => {
      watch();
      if (e.lengthComputable) progress(MEDIA_WORDS[kind].sending(), e.loaded / e.total);
    };
    xhr.upload.onload = () => clearTimeout(stall);  // all sent: the server works on it (a clip: minutes)
    xhr.onload = () => {
      clearTimeout(stall);  // an early answer (413 too large) can come before the whole body is sent
      let answer = null;
      try { answer = JSON.parse(xhr.responseText || "null"); } catch (e) { answer = null; }
      // A proxy's error page or a crash is no answer about the file: worth a retry, never final.
      if (xhr.status >= 500 || !answer || (!answer.ok && !answer.error)) {
        answer = { ok: false, error: { code: "server_error", message: `the server answered ${xhr.status}` } };
      }
      after(kind, answer);
      resolve(answer);
    };
    xhr.onerror = xhr.onabort = () => {
      clearTimeout(stall);
      const answer = { ok: false, error: { code: "network", message: "the upload was cut off" } };
      after(kind, answer);
      resolve(answer);
    };
    xhr.send(form);
    watch();
  });
}
// The server takes at most 2 uploads of one phone at a time (429 busy beyond): never ask for more.
outbox.register(MEDIA, upload, { limit: 2 });

const WAITING = { drawing: () => t("Waiting for the network to send your drawing…"),
  photo: () => t("Waiting for the network to send your photo…"),
  clip: () => t("Waiting for the network to send your clip…") };
function after(kind, answer) {
  if (!answer.ok && isTransient(answer.error)) progress(WAITING[kind](), 0);
  else progress(null);
}

// The server's final word on a picture or clip: said where the person sent it, in the phone's language.
const maxBytes = () => Number($("clip-form").dataset.maxBytes || 0);
onSettled((item, answer) => {
  if (!MEDIA.includes(item.kind)) return;
  showError($("media-error"), explained(answer.ok ? null : answer.error, { kind: item.kind, maxBytes: maxBytes() }));
});

function progress(text, fraction) {
  $("upload-state").hidden = $("upload-progress").hidden = !text;
  if (text) { $("upload-state").textContent = text; $("upload-progress").value = fraction || 0; }
}
socket.on("upload_progress", (data) => progress(t("Preparing your clip for the screen…"), data.fraction));

// A drawing or photo of a story on the wall: the story is its source (feed.js offers it).
export function illustrate(record) {
  setSource(record);
  const prompt = currentPrompt();
  const kinds = prompt ? prompt.kinds : [];
  setMode(kinds.includes("drawing") ? "drawing" : "photo");
}
