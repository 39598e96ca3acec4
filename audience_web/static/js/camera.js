// The phone's camera inside the page: a live preview, "Take photo" (a frame as JPEG) and "Record a clip"
// (MediaRecorder, with a timer and the server's caps). Browsers give getUserMedia to secure pages only, so
// over plain HTTP none of this shows and the file input (the phone's own camera app) stays the way in.
// media.js sends what is taken here through the same outbox and upload as a chosen file.
import { $, showError } from "./common.js";
import { lang, t } from "./i18n.js";
import { CLIP_MAX_SECONDS } from "./phone_errors.js";

// stage/night/audience.py MAX_CLIP_SECONDS: the server refuses a longer clip, so recording stops there.
const MAX_SECONDS = CLIP_MAX_SECONDS;
const FORM_SLACK = 64 * 1024;  // the upload's other form fields and multipart framing, inside MAX_CONTENT_LENGTH
const TYPES = ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"];  // Chromium/Firefox, then Safari

export const available = Boolean(window.isSecureContext && navigator.mediaDevices?.getUserMedia
  && window.MediaRecorder);

let stream = null, recorder = null, photo = null, clip = null, ticker = null;
const taken = { photo: () => photo, clip: () => clip };
export const takenBlob = (kind) => (taken[kind] ? taken[kind]() : null);

// The clip's size cap: the form carries the server's limit; a bitrate that fits MAX_SECONDS well inside it.
const maxBytes = () => Math.max(0, Number($("clip-form").dataset.maxBytes || 0) - FORM_SLACK) || 25 * 1024 * 1024;
const videoBits = () => Math.max(250_000, Math.min(2_500_000, Math.floor(maxBytes() * 0.8 * 8 / MAX_SECONDS) - 96_000));
// The recording clock in the page's digits (Arabic phones read ١:٠٥); the colon is the same in every language.
const digits = new Intl.NumberFormat(lang), twoDigits = new Intl.NumberFormat(lang, { minimumIntegerDigits: 2 });
const clock = (seconds) => `${digits.format(Math.floor(seconds / 60))}:${twoDigits.format(Math.floor(seconds % 60))}`;

let opening = 0;  // which open() is current: a second tap while the first waits for the camera wins

async function open(kind) {
  close();
  showError($("media-error"), null);
  const mine = ++opening;
  let got;
  try {
    got = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
      audio: kind === "clip",
    });
  } catch (error) {
    if (mine !== opening) return;
    stream = null;
    // Refused, or no camera: the file button below still works (it opens the phone's camera app).
    const message = error && error.name === "NotAllowedError"
      ? t("Sorry, the camera was not allowed. Use the button below instead.")
      : t("Sorry, no camera could be opened. Use the button below instead.");
    showError($("media-error"), { message });
    return;
  }
  if (mine !== opening) {  // tapped again meanwhile: this stream is nobody's, so its camera light goes off now
    got.getTracks().forEach((track) => track.stop());
    return;
  }
  stream = got;
  const video = $(`${kind}-video`);
  video.srcObject = stream;
  $(`${kind}-live`).hidden = false;
  $(`${kind}-open`).hidden = true;
  await video.play().catch(() => {});  // muted inline video plays without a gesture; never fatal
}

// Stop the camera (its light goes off) and hide the preview; what was taken stays until sent or discarded.
export function close() {
  opening += 1;  // a camera still being opened is not wanted any more
  if (recorder && recorder.state !== "inactive") recorder.stop();
  if (stream) stream.getTracks().forEach((track) => track.stop());
  stream = null;
  ["photo", "clip"].forEach((kind) => {
    $(`${kind}-live`).hidden = true;
    $(`${kind}-video`).srcObject = null;
    $(`${kind}-open`).hidden = !available;
  });
}

// Once something is taken, Send is the next step: the camera button steps back and offers another go.
const AGAIN = { photo: () => [t("Take a photo"), t("Take another photo")],
  clip: () => [t("Record a clip"), t("Record again")] };
function offerAgain(kind, again) {
  $(`${kind}-open`).textContent = AGAIN[kind]()[again ? 1 : 0];
  $(`${kind}-open`).classList.toggle("secondary", again);
}

export function discard(kind) {
  offerAgain(kind, false);
  if (kind === "photo" && photo) { photo = null; $("photo-preview").hidden = true; }
  if (kind === "clip" && clip) {
    clip = null;
    URL.revokeObjectURL($("clip-preview").src);
    $("clip-preview").removeAttribute("src");
    $("clip-preview").hidden = true;
  }
}

// -- photo: one frame of the preview, as a JPEG --------------------------------------------------
function snap() {
  const video = $("photo-video");
  if (!video.videoWidth) return;  // no frame yet
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  canvas.toBlob((blob) => {
    if (!blob) return;
    $("photo-input").value = "";  // the photo just taken is the one to send
    photo = blob;
    offerAgain("photo", true);
    if ($("photo-preview").src.startsWith("blob:")) URL.revokeObjectURL($("photo-preview").src);
    $("photo-preview").src = URL.createObjectURL(blob);
    $("photo-preview").hidden = false;
    close();
    $("photo-form").querySelector("button[type=submit]").focus();
  }, "image/jpeg", 0.9);
}

// -- clip: MediaRecorder until Stop, the time cap or the size cap --------------------------------
function record() {
  discard("clip");
  const mimeType = TYPES.find((type) => MediaRecorder.isTypeSupported(type)) || "";
  const chunks = [];
  let bytes = 0;
  recorder = new MediaRecorder(stream, { mimeType, videoBitsPerSecond: videoBits(), audioBitsPerSecond: 96_000 });
  recorder.ondataavailable = (event) => {
    if (!event.data.size) return;
    chunks.push(event.data);
    bytes += event.data.size;
    if (bytes > maxBytes() * 0.95 && recorder.state === "recording") recorder.stop();  // the next chunk may not fit
  };
  recorder.onstop = () => {
    clearInterval(ticker);
    $("clip-timer").hidden = true;
    $("clip-record").hidden = false;
    $("clip-stop").hidden = true;
    if (!chunks.length) return;
    clip = new Blob(chunks, { type: (recorder.mimeType || mimeType || "video/webm").split(";")[0] });
    $("clip-input").value = "";  // the clip just recorded is the one to send
    $("clip-preview").src = URL.createObjectURL(clip);
    $("clip-preview").hidden = false;
    offerAgain("clip", true);
    close();
    $("clip-form").querySelector("button[type=submit]").focus();
  };
  const started = performance.now();
  const tick = () => {
    const seconds = (performance.now() - started) / 1000;
    $("clip-time").textContent = clock(seconds);
    if (seconds >= MAX_SECONDS && recorder.state === "recording") recorder.stop();
  };
  recorder.start(1000);  // a chunk a second: the size cap is checked as it grows
  tick();
  ticker = setInterval(tick, 250);
  $("clip-timer").hidden = false;
  $("clip-record").hidden = true;
  $("clip-stop").hidden = false;
  $("clip-stop").focus();
}

if (available) {
  $("clip-max").textContent = clock(MAX_SECONDS);
  $("photo-input-label").textContent = t("Or choose a photo from the phone");
  $("clip-input-label").textContent = t("Or choose a clip from the phone (at most %(time)s)",
    { time: clock(MAX_SECONDS) });
  $("photo-open").addEventListener("click", () => open("photo"));
  $("clip-open").addEventListener("click", () => open("clip"));
  $("photo-snap").addEventListener("click", snap);
  $("clip-record").addEventListener("click", record);
  $("clip-stop").addEventListener("click", () => recorder && recorder.state === "recording" && recorder.stop());
  $("photo-close").addEventListener("click", close);
  $("clip-close").addEventListener("click", close);
  // A phone put away or switched to another app: the camera goes off (a recording keeps what it has).
  document.addEventListener("visibilitychange", () => { if (document.hidden) close(); });
  close();
}
