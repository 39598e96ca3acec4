// The host console: the cue list (GO, back, jump, stop, panic, timers, light fades), what records and what the
// displays, OSC targets and DMX nodes do, the grand master, the audit log, the night's archive. Buttons that
// cannot work now are disabled and the line under GO says why.
import {
  $, call, connect, el, renderCounts, renderCues as renderCueList, showConnection, showError,
} from "./common.js";
import { offerDisplays } from "./moderation.js";
import { lightsControl, panicLine } from "./host_lights.js";
import { archiveControl } from "./night_archive.js";

const socket = connect("/host");
showConnection(socket, $("conn"));
// Only a refused login leaves the page; a restarting server is just "Reconnecting…".
socket.on("connect_error", (err) => { if (err.message === "log in first") window.location.href = "/login/host"; });
// Logged out (in this tab or another) or the session expired: the server disconnects us for good.
socket.on("session_ended", () => { window.location.href = "/login/host"; });
let snapshot = null, receivedAt = 0, online = false;

const report = (ack) => { showError($("go-error"), ack.ok ? null : ack.error); return ack; };
const send = async (event, payload) => report(await call(socket, event, payload || {}));

function renderCues() {
  renderCueList($("cues"), snapshot);
  snapshot.cues.forEach((cue) => {
    const li = $("cues").querySelector(`li[data-id="${CSS.escape(cue.id)}"]`);
    if (cue.recording) {  // a record cue whose take still rolls (it and its group stay running meanwhile)
      li.classList.add("is-recording");
      li.querySelector(".cue-state").textContent = "● REC";
      li.querySelector(".cue-state").title = `recording on ${cue.recording}`;
    }
    if (cue.standby) li.setAttribute("aria-current", "step");
    if (cue.fade && cue.state === "running") {  // a light cue mid-fade: tick() fills the bar as the timer counts
      li.classList.add("is-fading");
      const bar = el("progress", "cue-fade");
      bar.max = 1;
      bar.value = 0;
      bar.setAttribute("aria-label", `Fade to ${cue.fade.to}, ${cue.fade.seconds} s`);
      li.append(bar);
    }
    if (li.dataset.depth !== "0") return;
    li.title = "Click (or Enter) to put this cue in standby";
    li.tabIndex = 0;
    li.addEventListener("click", () => send("jump", { cue: li.dataset.id }));
    li.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); send("jump", { cue: li.dataset.id }); }
    });
  });
  goState();
  renderRigs();
  tick();
}

// What GO, Back and Stop all would do now, and why one of them cannot.
function goState() {
  const cues = snapshot ? snapshot.cues.filter((c) => c.depth === 0) : [];
  const next = cues.find((c) => c.id === (snapshot && snapshot.standby));
  const running = snapshot ? snapshot.running.length : 0;
  let line;
  if (!online) line = "Not connected: GO, Back and Stop all wait until this console is back online.";
  else if (!snapshot) line = "";
  else if (!next) line = "End of the cue list: click a cue to put it in standby.";
  else line = `Next: cue ${next.id} · ${next.name || next.type}`;
  $("go-next").textContent = line;
  $("go-next").classList.toggle("is-blocked", !online || (snapshot && !next));
  $("go").disabled = !online || !next;
  $("back").disabled = !online || !snapshot || (next && cues[0] && next.id === cues[0].id);
  $("stop").disabled = !online || running === 0;
  $("stop-why").textContent = running === 0 ? "Nothing is running." : "";
}

// Timers count down locally from the last snapshot; the server sends a new one on every change.
function tick() {
  if (!snapshot) return;
  const passed = (performance.now() - receivedAt) / 1000;
  snapshot.cues.forEach((cue) => {
    const row = $("cues").querySelector(`li[data-id="${CSS.escape(cue.id)}"]`);
    const timer = row && row.querySelector(".cue-timer");
    if (!timer) return;
    const left = cue.remaining !== undefined ? Math.max(cue.remaining - passed, 0) : undefined;
    if (left !== undefined) timer.textContent = `${left.toFixed(1)} s`;
    else if (cue.elapsed !== undefined) timer.textContent = `${(cue.elapsed + passed).toFixed(1)} s`;
    const bar = row.querySelector(".cue-fade");
    if (bar && left !== undefined && cue.fade.seconds > 0) bar.value = 1 - left / cue.fade.seconds;
  });
}
setInterval(tick, 100);

// Recording, from counts.rigs ({rig: offline | online | recording}) and from the cue list (a record cue whose
// take rolls names its rig: REC shows at the GO, before the agent's first report): the REC line, each rig.
let recordingNow = "", rigStates = {};
function renderRigs() {
  const rigs = { ...rigStates };
  (snapshot ? snapshot.cues : []).forEach((cue) => { if (cue.recording) rigs[cue.recording] = "recording"; });
  const names = Object.keys(rigs);
  const rolling = names.filter((name) => rigs[name] === "recording");
  const rec = $("rec");
  rec.hidden = names.length === 0;
  const text = rolling.length ? `● REC ${rolling.join(", ")}` : "Not recording";
  if (text !== recordingNow) rec.textContent = text;  // unchanged text is not announced again
  recordingNow = text;
  rec.classList.toggle("is-recording", rolling.length > 0);
  $("rig-list").replaceChildren(...names.map((name) => {
    const state = rigs[name];
    const words = { recording: "● recording", online: "ready", offline: "offline: no capture agent" }[state] || state;
    const li = el("li", state === "offline" ? "is-offline" : state === "recording" ? "is-recording" : "is-online",
      `${name}: ${words}`);
    li.dataset.name = name;
    li.dataset.state = state;
    return li;
  }));
}

socket.on("connect", () => { online = true; goState(); });
socket.on("disconnect", () => { online = false; goState(); });
socket.on("cues", (data) => { snapshot = data; receivedAt = performance.now(); renderCues(); });
socket.on("counts", (counts) => { renderCounts(counts); rigStates = counts.rigs || {}; renderRigs(); });
socket.on("prompt", (data) => { $("prompt-open").textContent = data.prompt ? data.prompt.text : "none"; });
socket.on("displays", (data) => {
  $("display-list").replaceChildren(...data.displays.map((d) => {
    // offline: no connection; not responding: connected, but its page missed three heartbeats.
    const state = !d.online ? "offline" : d.responding ? "online" : "not responding";
    const showing = d.online && d.showing && d.showing !== d.scene ? ` (showing ${d.showing})` : "";
    const li = el("li", d.responding ? "is-online" : "is-offline", `${d.name}: ${d.scene}${showing} — ${state}`);
    li.dataset.name = d.name;
    li.dataset.online = d.online;
    li.dataset.state = state;
    return li;
  }));
});

socket.on("display_problem", (data) => {
  $("go-error").hidden = false;
  $("go-error").textContent = `Display ${data.display}: ${data.message}`;
});
socket.on("osc", (data) => {
  $("osc-targets").replaceChildren(...Object.entries(data.targets).map(([name, t]) => {
    const li = el("li", t.status === "down" ? "is-offline" : "is-online",
      `${name}: ${t.status}${t.error ? ` (${t.error})` : ""} · sent ${t.sent}`
      + `${t.dropped ? ` · dropped ${t.dropped}` : ""}`);
    li.dataset.name = name;
    li.dataset.status = t.status;
    return li;
  }));
});
socket.on("osc_feedback", (data) => {
  $("osc-feedback").prepend(el("li", "", `${data.address} ${data.args.join(" ")}`));
  while ($("osc-feedback").children.length > 8) $("osc-feedback").lastElementChild.remove();
});

socket.on("volunteers", (data) => {
  $("volunteers").replaceChildren(...data.volunteers.map((v) => {
    const li = el("li", `record volunteer${v.withdrawn_at ? " withdrawn" : ""}`);
    li.dataset.participant = v.participant_id;
    li.append(el("p", "author", v.name));
    if (v.story_text) li.append(el("p", "text", v.story_text));
    const when = new Date(v.given_at * 1000).toLocaleTimeString();
    li.append(el("p", "meta", v.withdrawn_at ? "consent withdrawn" : `consent v${v.consent_version} at ${when}`));
    return li;
  }));
  $("volunteers-empty").hidden = data.volunteers.length > 0;
});

// The log keeps ids; the table shows the names the server adds (who: a phone's name or a role; what: the
// record, phone, cue or take), with the id on hover for the rare look into the CSV.
function loadAudit() {
  const action = $("audit-action").value.trim() || null;
  $("audit-csv").href = `/host/audit.csv${action ? `?action=${encodeURIComponent(action)}` : ""}`;
  call(socket, "audit", { action, limit: 200 }).then((ack) => {
    if (!ack.ok) return report(ack);
    $("audit").replaceChildren(...ack.entries.map((entry) => {
      const tr = el("tr");
      const who = el("td", "", entry.who || entry.actor);
      who.title = entry.actor;
      who.dir = "auto";
      const what = el("td", "", entry.about !== undefined ? entry.about : entry.subject || "");
      if (entry.subject) what.title = entry.subject;
      what.dir = "auto";
      const when = el("td", "", new Date(entry.at * 1000).toLocaleTimeString([], { hour12: false }));
      tr.append(when, who, el("td", "", entry.action), what);
      return tr;
    }));
  });
}
$("audit-form").addEventListener("submit", (event) => { event.preventDefault(); loadAudit(); });
socket.on("connect", loadAudit);
socket.on("cues", () => setTimeout(loadAudit, 50));

archiveControl(socket);
lightsControl(socket, report);

// The last PANIC's line stays until the next GO: the crew reads what happened (lights held or blacked out).
const goNow = () => { $("panic-result").hidden = true; send("go"); };
async function panicNow() {
  const ack = await send("panic");
  if (!ack.ok) return;
  $("panic-result").textContent = panicLine(ack.panic);
  $("panic-result").hidden = false;
}
$("go").addEventListener("click", goNow);
$("back").addEventListener("click", () => send("back"));
$("stop").addEventListener("click", () => send("stop"));
$("panic").addEventListener("click", panicNow);
// The moderation panel's approved records get a "Show on <display>" button each, sent from here.
offerDisplays(document.body.dataset.displays.split(",").filter(Boolean),
  (display, record) => send("send_to_display", { display, record }));
document.addEventListener("keydown", (event) => {
  // A dialog (the ban confirmation) has the keyboard: Space there presses its focused button, never GO.
  if (document.querySelector("dialog[open]")) return;
  // Typing is not a command; a slider (the grand master) has the arrows, so Space still means GO there.
  if (event.target.closest("input:not([type=range]), textarea, select") || event.repeat) return;
  if (event.code === "Space") { event.preventDefault(); if (!$("go").disabled) goNow(); }
  else if (event.key === "Backspace") { event.preventDefault(); if (!$("back").disabled) send("back"); }
});
