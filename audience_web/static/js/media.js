// The phone's drawings, photos and clips: a touch canvas, the phone's own camera app, uploads.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const phone = window.StagePhone;
  const forms = { drawing: $("drawing-form"), photo: $("photo-form"), clip: $("clip-form") };
  let illustrating = null;  // the story a drawing or photo illustrates (its source)

  // -- mode: what the open prompt takes ----------------------------------------------------------
  function setMode(mode) {
    document.querySelectorAll("#modes button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.mode === mode)));
    $("story-form").hidden = mode !== "story";
    Object.entries(forms).forEach(([kind, form]) => { form.hidden = kind !== mode; });
  }
  document.querySelectorAll("#modes button").forEach((b) => b.addEventListener("click", () => setMode(b.dataset.mode)));
  phone.onPrompt((prompt) => {
    const kinds = prompt ? prompt.kinds : [];
    document.querySelectorAll("#modes button").forEach((b) => { b.hidden = !kinds.includes(b.dataset.mode); });
    $("modes").hidden = kinds.length < 2;
    setMode(kinds.includes("story") ? "story" : (kinds[0] || "none"));
  });

  // -- drawing ------------------------------------------------------------------------------------
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
    return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
  }
  canvas.addEventListener("pointerdown", (event) => {
    canvas.setPointerCapture(event.pointerId);
    current = { colour, size, points: [point(event)] };
    strokes.push(current);
    redraw();
  });
  canvas.addEventListener("pointermove", (event) => { if (current) { current.points.push(point(event)); redraw(); } });
  ["pointerup", "pointercancel"].forEach((name) => canvas.addEventListener(name, () => { current = null; }));
  const pick = (selector, attr, apply) => document.querySelectorAll(selector).forEach((b) => b.addEventListener("click", () => {
    document.querySelectorAll(selector).forEach((other) => other.setAttribute("aria-pressed", String(other === b)));
    apply(b.dataset[attr]);
  }));
  pick(".swatch", "colour", (value) => { colour = value; });
  pick(".brush", "size", (value) => { size = Number(value); });
  document.querySelectorAll(".swatch").forEach((b) => { b.style.background = b.dataset.colour; });
  $("undo").addEventListener("click", () => { strokes.pop(); redraw(); });
  $("clear").addEventListener("click", () => { strokes.length = 0; redraw(); });
  redraw();

  forms.drawing.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!strokes.length) return Stage.showError($("media-error"), { message: "Draw something first." });
    canvas.toBlob((blob) => queue("drawing", blob, "drawing.png", () => { strokes.length = 0; redraw(); }), "image/png");
  });

  // -- photo and clip: <input capture> opens the phone's camera app (getUserMedia needs HTTPS) -----
  $("photo-input").addEventListener("change", () => {
    const file = $("photo-input").files[0];
    $("photo-preview").hidden = !file;
    if (file) $("photo-preview").src = URL.createObjectURL(file);
  });
  forms.photo.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("photo-input").files[0];
    if (!file) return Stage.showError($("media-error"), { message: "Take or choose a photo first." });
    queue("photo", file, file.name, () => { forms.photo.reset(); $("photo-preview").hidden = true; });
  });
  forms.clip.addEventListener("submit", (event) => {
    event.preventDefault();
    const file = $("clip-input").files[0];
    if (!file) return Stage.showError($("media-error"), { message: "Film or choose a clip first." });
    queue("clip", file, file.name, () => forms.clip.reset());
  });

  // -- outbox: pending uploads live in IndexedDB (it keeps Blobs) until the server has them ----------
  // Where IndexedDB cannot open (private browsing, storage blocked) an item waits in this page's memory
  // instead: it is still sent and retried, and the person is told it is lost if they close the page.
  const db = new Promise((resolve, reject) => {
    const request = indexedDB.open("stage-outbox", 1);  // may throw (SecurityError): the promise rejects
    request.onupgradeneeded = () => request.result.createObjectStore("uploads", { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  db.catch(() => {});  // a refusal is handled where the outbox is used, not reported as uncaught
  const store = (mode, work) => db.then((d) => new Promise((resolve, reject) => {
    const tx = d.transaction("uploads", mode);
    const result = work(tx.objectStore("uploads"));
    tx.oncomplete = () => resolve(result && result.result);
    tx.onerror = () => reject(tx.error);
  }));
  const sending = new Set();
  const inMemory = new Map();  // id -> item, for the items IndexedDB could not keep
  const UNSAVED = "This phone cannot save it for later: keep this page open until it is sent.";

  function queue(kind, blob, name, done) {
    const item = { id: Stage.uuid4(), kind, blob, name, prompt: phone.prompt().id,
      sources: illustrating ? [illustrating.id] : [] };
    illustrate(null);
    const accepted = () => {
      phone.addRecord({ id: item.id, kind, status: "waiting", text: `Your ${kind}` });
      done();
      send(item);
    };
    store("readwrite", (s) => s.put(item)).then(accepted, () => {
      inMemory.set(item.id, item);
      Stage.showError($("media-error"), { message: UNSAVED });
      accepted();
    });
  }

  function forget(id) {
    inMemory.delete(id);
    store("readwrite", (s) => s.delete(id)).catch(() => {});  // nothing kept there when it could not open
  }

  function resendAll() {
    inMemory.forEach((item) => send(item));
    store("readonly", (s) => s.getAll()).then((items) => items.forEach((item) => {
      phone.addRecord({ id: item.id, kind: item.kind, status: "waiting", text: `Your ${item.kind}` });
      send(item);
    }), () => {});  // IndexedDB unavailable: the in-memory items above are all there is
  }
  phone.socket.on("connect", resendAll);

  // -- upload: the same id on every retry, so the server stores it once ------------------------------
  function send(item, attempt = 0) {
    if (sending.has(item.id)) return;
    sending.add(item.id);
    const { id, kind } = item;
    const form = new FormData();
    Object.entries({ id, kind, prompt: item.prompt, device_key: phone.deviceKey }).forEach(([k, v]) => form.append(k, v));
    item.sources.forEach((source) => form.append("sources", source));
    form.append("file", item.blob, item.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress(`Sending your ${kind}…`, e.loaded / e.total); };
    xhr.onload = () => {
      let answer = {};
      try { answer = JSON.parse(xhr.responseText || "{}"); } catch (e) { answer = {}; }
      // rate_limited and busy (2 uploads of this phone in flight already) are worth a retry, never final.
      if (xhr.status >= 500 || !answer.error && !answer.ok || (answer.error && ["rate_limited", "busy"].includes(answer.error.code))) {
        return retry();
      }
      sending.delete(id);
      progress(null);
      forget(id);  // the server answered: accepted, or refused for good
      if (answer.ok) {
        Stage.showError($("media-error"), inMemory.size ? { message: UNSAVED } : null);
        phone.addRecord(answer.record);
      } else {
        Stage.showError($("media-error"), answer.error);
        phone.addRecord({ id, kind, status: "refused", text: `Your ${kind}`, reason: answer.error.message });
      }
    };
    const retry = () => {
      sending.delete(id);
      progress(`Waiting for the network to send your ${kind}…`, 0);
      setTimeout(() => { if (navigator.onLine !== false) send(item, attempt + 1); }, Math.min(2000 * 2 ** attempt, 30000));
    };
    xhr.onerror = retry;
    xhr.send(form);
  }

  function progress(text, fraction) {
    $("upload-state").hidden = $("upload-progress").hidden = !text;
    if (text) { $("upload-state").textContent = text; $("upload-progress").value = fraction || 0; }
  }
  phone.socket.on("upload_progress", (data) => progress("Preparing your clip for the screen…", data.fraction));

  function illustrate(record) {
    illustrating = record;
    $("remixing").hidden = !record;
    if (record) $("remix-of").textContent = `"${record.text.slice(0, 60)}" by ${record.author}`;
  }
  $("remix-cancel").addEventListener("click", () => illustrate(null));
  phone.illustrate = (record) => {
    illustrate(record);
    const kinds = phone.prompt() ? phone.prompt().kinds : [];
    setMode(kinds.includes("drawing") ? "drawing" : "photo");
  };
})();
