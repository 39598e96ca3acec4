// The crew console's rigs (state, live health, preview, record/stop) and take library
// (by story and cue: play, circle, in/out points, delete). Text only ever through textContent.
import { $, call, el, showError } from "./common.js";
import { socket } from "./crew.js"; // the page's one /crew socket

const rigNodes = new Map(); // rig name -> {item, health, meter, preview, url}
const watching = new Set(); // rigs whose preview this console asked for

// A crew action: its refusal (or silence) is shown under the panel it came from.
async function ask(event, data, errorNode) {
  const ack = await call(socket, event, data);
  showError(errorNode, ack.ok ? null : ack.error);
  return ack.ok ? ack : null;
}

const seconds = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}`;
const gib = (bytes) => (bytes == null ? "?" : `${(bytes / 1024 ** 3).toFixed(1)} GiB`);

// -- rigs -------------------------------------------------------------------------------------

function rigItem(rig) {
  const item = el("li", "rig");
  item.dataset.rig = rig.name;
  const title = el("p", "rig-title");
  const name = el("strong", null, rig.name);
  const state = el("span", "rig-state");
  title.append(name, " ", state);
  const health = el("p", "rig-health muted");
  const upload = el("p", "rig-upload muted");
  // The audio level, labelled so it reads as one (an unlabelled bar looked broken) and said in numbers too.
  const level = el("div", "rig-level");
  const meterId = `rig-meter-${rig.name}`;
  const levelLabel = el("label", "rig-level-label", "Audio level");
  levelLabel.htmlFor = meterId;
  const meter = document.createElement("meter");
  Object.assign(meter, { id: meterId, min: -60, max: 0, low: -20, high: -6, optimum: -12, value: -60 });
  meter.className = "rig-meter";
  const levelValue = el("span", "rig-level-value muted", "no report yet");
  level.append(levelLabel, meter, levelValue);
  const preview = document.createElement("img");
  preview.className = "rig-preview";
  preview.alt = `preview of rig ${rig.name}`;
  preview.hidden = true;
  const operator = operatorForm(rig);
  const actions = el("div", "actions");
  const record = el("button", "record-take", "● Record");
  const stop = el("button", "stop-take", "■ Stop");
  const look = el("button", "watch", "Preview");
  record.addEventListener("click", () => ask("record", { rig: rig.name }, $("rig-error")));
  stop.addEventListener("click", () => ask("stop_recording", { rig: rig.name }, $("rig-error")));
  look.addEventListener("click", () => togglePreview(rig.name));
  actions.append(record, stop, look);
  item.append(title, health, upload, level, operator.form, preview, actions);
  const node = { item, state, health, upload, meter, levelValue, operator, preview, record, stop, look, url: null,
    uploading: null };
  rigNodes.set(rig.name, node);
  return node;
}

// Who films with this rig tonight: the camera credit of its next takes. Blank: nobody is credited.
function operatorForm(rig) {
  const form = el("form", "rig-operator");
  const fieldId = `rig-operator-${rig.name}`;
  const label = el("label", null, "Camera operator");
  label.htmlFor = fieldId;
  const field = Object.assign(document.createElement("input"), { id: fieldId, name: "operator", maxLength: 40,
    autocomplete: "off", placeholder: "nobody (no camera credit)" });
  const save = el("button", "set-operator", "Set operator");
  const said = el("span", "rig-operator-state muted");
  said.setAttribute("role", "status");
  form.append(label, field, save, said);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ack = await ask("set_operator", { rig: rig.name, operator: field.value }, $("rig-error"));
    if (ack) {
      field.value = ack.operator || "";
      said.textContent = ack.operator ? `Takes are credited “filmed by ${ack.operator}”.` : "No camera credit.";
    }
  });
  return { form, field, said };
}

function renderRigs(data) {
  $("rigs-empty").hidden = data.rigs.length > 0;
  $("rig-list").replaceChildren(...data.rigs.map((rig) => {
    const node = rigNodes.get(rig.name) || rigItem(rig);
    node.item.dataset.state = rig.status;
    node.state.textContent = rig.status;
    node.record.disabled = rig.status !== "online";
    node.stop.disabled = rig.status !== "recording";  // nothing to stop: it looks it
    // Another console's change shows here too, but never over what this crew member is typing.
    if (document.activeElement !== node.operator.field) node.operator.field.value = rig.operator || "";
    if (rig.health) renderHealth(rig.name, rig.health);
    else if (rig.status === "offline") node.health.textContent = rig.local ? "agent starting…" : "no agent connected";
    return node.item;
  }));
}

function renderHealth(name, h) {
  const node = rigNodes.get(name);
  if (!node) return;
  const parts = [`in ${h.fps_in.toFixed(1)} fps`, `out ${h.fps_out.toFixed(1)} fps`, `dropped ${h.dropped}`,
    `overflows ${h.overflows}`, `disk ${gib(h.disk_free)}`];
  if (h.recording) parts.unshift(`REC ${seconds(h.seconds)}`);
  if (h.error) parts.push(`problem: ${h.error}`);
  node.health.textContent = parts.join(" · ");
  node.meter.value = h.audio_db == null ? -60 : Math.max(-60, h.audio_db);
  node.levelValue.textContent = h.audio_db == null ? "no microphone signal" : `${h.audio_db.toFixed(0)} dBFS`;
  node.item.classList.toggle("is-recording", Boolean(h.recording));
}

async function togglePreview(name) {
  const on = !watching.has(name);
  if (!(await ask("watch_preview", { rig: name, on }, $("rig-error")))) return;
  const node = rigNodes.get(name);
  if (on) watching.add(name); else watching.delete(name);
  node.look.textContent = on ? "Hide preview" : "Preview";
  node.preview.hidden = !on;
}

socket.on("rigs", renderRigs);
socket.on("rig_health", (h) => renderHealth(h.rig, h));
socket.on("take_state", (t) => {
  if (t.state !== "failed") return;
  showError($("rig-error"), { message: `rig ${t.rig}: take failed — ${t.reason || "no reason given"}` });
});
socket.on("take_upload", (u) => {
  const node = rigNodes.get(u.rig);
  if (!node) return;
  node.uploading = u.take_id;
  node.upload.textContent = `Uploading the take: ${(u.received / 1024 ** 2).toFixed(1)} MiB received`;
});
socket.on("preview", (p) => {
  const node = rigNodes.get(p.rig);
  if (!node || !watching.has(p.rig)) return;
  if (node.url) URL.revokeObjectURL(node.url);
  node.url = URL.createObjectURL(new Blob([p.jpeg], { type: "image/jpeg" }));
  node.preview.src = node.url;
});
// A reconnected socket is a new one: ask for the previews again.
socket.on("connect", () => watching.forEach((name) => ask("watch_preview", { rig: name, on: true }, $("rig-error"))));

// -- takes --------------------------------------------------------------------------------------

function takeItem(take) {
  const item = el("li", "take record");
  item.dataset.id = take.id;
  if (take.circled) item.classList.add("is-circled");
  const title = `${take.circled ? "◯ " : ""}Take ${take.take} · ${take.rig}` +
    (take.performer ? ` · ${take.performer}` : "") + (take.operator ? ` · filmed by ${take.operator}` : "") +
    (take.duration ? ` · ${take.duration.toFixed(1)} s` : "") +
    (take.in_point != null || take.out_point != null
      ? ` · plays ${take.in_point ?? 0}–${take.out_point ?? "end"} s` : "");
  const video = document.createElement("video");
  // In/out points play through a media fragment (#t=in,out): the file itself is never cut.
  const trimmed = take.in_point != null || take.out_point != null;
  const fragment = trimmed ? `#t=${take.in_point ?? 0}${take.out_point != null ? `,${take.out_point}` : ""}` : "";
  Object.assign(video, { controls: true, preload: "metadata", playsInline: true, src: take.media + fragment });
  video.className = "record-media take-video";
  video.setAttribute("aria-label", `Take ${take.take}` + (take.performer ? `, performed by ${take.performer}` : ""));
  const points = el("form", "take-points");
  const inField = Object.assign(document.createElement("input"), { type: "number", step: "0.1", min: "0",
    name: "in", placeholder: "in (s)", value: take.in_point ?? "" });
  const outField = Object.assign(document.createElement("input"), { type: "number", step: "0.1", min: "0",
    name: "out", placeholder: "out (s)", value: take.out_point ?? "" });
  inField.setAttribute("aria-label", "in point, seconds");
  outField.setAttribute("aria-label", "out point, seconds");
  const markIn = el("button", null, "In = here");
  markIn.type = "button";
  markIn.addEventListener("click", () => { inField.value = video.currentTime.toFixed(1); });
  const markOut = el("button", null, "Out = here");
  markOut.type = "button";
  markOut.addEventListener("click", () => { outField.value = video.currentTime.toFixed(1); });
  const save = el("button", null, "Set in/out");
  points.append(inField, markIn, outField, markOut, save);
  points.addEventListener("submit", (event) => {
    event.preventDefault();
    const num = (field) => (field.value === "" ? null : Number(field.value));
    ask("trim_take", { id: take.id, in_point: num(inField), out_point: num(outField) }, $("take-error"));
  });
  const actions = el("div", "actions");
  const circle = el("button", "circle", take.circled ? "Uncircle" : "Circle");
  circle.addEventListener("click", () => ask("circle_take", { id: take.id, circled: !take.circled }, $("take-error")));
  const remove = el("button", "reject delete", "Delete");
  remove.addEventListener("click", () => {
    if (window.confirm(`Delete take ${take.take}? It leaves the library (the file is kept).`)) {
      ask("delete_take", { id: take.id }, $("take-error"));
    }
  });
  actions.append(circle, remove);
  item.append(el("p", "text", title), video, points, actions);
  return item;
}

function renderTakes(data) {
  $("takes-empty").hidden = data.takes.length > 0;
  for (const node of rigNodes.values()) {
    const stored = data.takes.find((take) => take.id === node.uploading);
    if (stored) node.upload.textContent = `Take ${stored.take} stored`;
  }
  const groups = new Map(); // story -> cue -> takes (the server sends them in that order)
  for (const take of data.takes) {
    const story = take.story_id || "";
    if (!groups.has(story)) groups.set(story, { text: take.story, cues: new Map() });
    const cues = groups.get(story).cues;
    if (!cues.has(take.cue || "")) cues.set(take.cue || "", []);
    cues.get(take.cue || "").push(take);
  }
  $("takes").replaceChildren(...[...groups.values()].map((group) => {
    const section = el("section", "take-story");
    section.append(el("h3", null, group.text ? `“${group.text}”` : "No story chosen"));
    for (const [cue, takes] of group.cues) {
      section.append(el("h4", "muted", cue ? `cue ${cue}` : "from the crew console"));
      const list = el("ul", "queue");
      list.append(...takes.map(takeItem));
      section.append(list);
    }
    return section;
  }));
}

socket.on("takes", renderTakes);
