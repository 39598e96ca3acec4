// The night's book: pictures as the curator sees them (a thumbnail; a still from a take or a clip), and the one
// chooser dialog that pairs any approved picture with a page or makes it the cover. User media is only ever a
// src, user text only textContent.
import { $, el, showError } from "./common.js";
import { kindBy, mediaName } from "./lineage.js";
import { seconds, state } from "./book.js";

const VIDEO = /\.(mp4|webm|mov|mkv|m4v)$/i;  // stage/book/edits.py MOVING_SUFFIXES

// A picture whose print is a still at a chosen second (stage/book/edits.py MOVING, MOVING_SUFFIXES).
export const isMoving = (record) => ["take", "clip"].includes(record.kind) || VIDEO.test(record.media || "");

// What the night knows of a picture beyond the page's record (a take's length and number), when it is listed.
const listed = (record) => state.choices.pictures.find((p) => p.id === record.id) || record;

// A small picture: an img, or for a take or clip its still at `at` (the `#t=` fragment makes the browser show
// that frame without playing). `decorative`: a button or a caption beside it already names it.
export function thumbnail(record, at, { decorative = false } = {}) {
  if (!record || !record.media) return el("span", "thumb thumb-none", "No picture");
  const name = mediaName(record) + (at != null ? `, still at ${seconds(at)}` : "");
  if (!isMoving(record)) {
    const img = Object.assign(document.createElement("img"), { src: record.media, alt: decorative ? "" : name,
      loading: "lazy", decoding: "async" });
    img.className = "thumb";
    // A lost or unreadable file: said where the picture would be (the render then names the page too).
    img.addEventListener("error", () => img.replaceWith(el("span", "thumb thumb-none thumb-missing",
      "Picture file missing")));
    return img;
  }
  // A <video> has no role to name, so a wrapper is the image and the video itself is hidden from assistive tech.
  const box = el("span", "thumb thumb-still");
  if (!decorative) { box.setAttribute("role", "img"); box.setAttribute("aria-label", name); }
  const video = Object.assign(document.createElement("video"), { muted: true, preload: "metadata",
    playsInline: true, src: `${record.media}#t=${at != null ? at : 0.1}` });
  video.setAttribute("aria-hidden", "true");
  box.append(video);
  return box;
}

// "a take by Cy · take 1 · 3.0 s"
export function pictureLabel(record) {
  const info = listed(record);
  const parts = [kindBy(record.kind, record.author)];
  if (info.number != null) parts.push(`take ${info.number}`);
  if (info.duration != null) parts.push(seconds(info.duration));
  return parts.join(" · ");
}

// -- the chooser ----------------------------------------------------------------------------------------

const dialog = $("chooser");
let asked = null;  // {use, allowNone} while the dialog is open
let picked = null;  // the picture record chosen in it

// Open the chooser. `use({picture, at})` makes the edit (picture null: no picture) and returns its ack or null;
// the dialog closes when it was taken and shows the refusal otherwise.
export function choosePicture({ title, current = null, at = null, allowNone = false, use }) {
  asked = { use, allowNone };
  picked = current ? state.choices.pictures.find((p) => p.id === current) || null : null;
  $("chooser-title").textContent = title;
  $("picture-filter").value = "";
  $("still-at").value = at != null ? at : "";
  $("chooser-none").hidden = !allowNone;
  showError($("chooser-error"), null);
  fillGrid();
  showStill();
  dialog.showModal();
  (picked ? $("picture-grid").querySelector("[aria-pressed=true]") : $("picture-filter")).focus();
}

function fillGrid() {
  const words = $("picture-filter").value.trim().toLowerCase();
  const all = state.choices.pictures;
  const shown = all.filter((p) => !words || `${pictureLabel(p)} ${p.text || ""}`.toLowerCase().includes(words));
  $("pictures-empty").hidden = all.length > 0;
  $("picture-grid").replaceChildren(...shown.slice(0, 120).map((picture) => {
    const button = el("button", "pick");
    button.type = "button";
    button.dataset.id = picture.id;
    button.setAttribute("aria-pressed", String(Boolean(picked && picked.id === picture.id)));
    const still = isMoving(picture) && picture.duration ? Math.round(picture.duration * 33) / 100 : null;
    button.append(thumbnail(picture, still, { decorative: true }), el("span", "pick-label", pictureLabel(picture)));
    button.addEventListener("click", () => {
      picked = picture;
      $("picture-grid").querySelectorAll(".pick").forEach((b) => b.setAttribute("aria-pressed",
        String(b === button)));
      $("still-at").value = "";
      showStill();
    });
    const item = el("li");
    item.append(button);
    return item;
  }));
}

// A take or a clip: the second of its still, with the video to find the frame in.
function showStill() {
  const moving = Boolean(picked && isMoving(picked));
  $("still").hidden = !moving;
  $("chooser-use").disabled = !picked;
  const video = $("still-preview");
  if (!moving) { video.removeAttribute("src"); return; }
  const length = picked.duration;
  $("still-at").max = length != null ? String(length) : "";
  $("still-hint").textContent = length != null
    ? `Between 0 and ${seconds(length)}. Empty: the take's in point.` : "Empty: the start of the clip.";
  const at = $("still-at").value;
  const src = `${picked.media}#t=${at === "" ? 0.1 : at}`;
  if (!video.src.endsWith(src)) video.src = src;
}

$("picture-filter").addEventListener("input", fillGrid);
// The preview follows the second as it is typed, so the curator sees the frame that will be printed.
$("still-at").addEventListener("input", () => {
  const field = $("still-at");
  const video = $("still-preview");
  showError($("chooser-error"), null);
  if (field.value !== "" && field.checkValidity() && video.readyState >= 1) video.currentTime = Number(field.value);
});
$("still-here").addEventListener("click", () => {
  $("still-at").value = (Math.round($("still-preview").currentTime * 10) / 10).toFixed(1);
  showError($("chooser-error"), null);
});

async function choose(picture) {
  showError($("chooser-error"), null);
  let at = null;
  if (picture && isMoving(picture) && $("still-at").value !== "") {
    const field = $("still-at");
    if (!field.checkValidity()) {
      showError($("chooser-error"), { message: `The still must be between 0 and ${seconds(field.max || 0)}.` });
      return field.focus();
    }
    at = Number(field.value);
  }
  const ack = await asked.use({ picture: picture ? picture.id : null, at });
  if (ack) dialog.close();
}

$("chooser-use").addEventListener("click", () => { if (picked) choose(picked); });
$("chooser-none").addEventListener("click", () => choose(null));
$("chooser-cancel").addEventListener("click", () => dialog.close());
dialog.addEventListener("close", () => {
  asked = null;
  $("still-preview").pause();
  $("picture-grid").replaceChildren();  // its videos stop loading
});
