// The host console: the cue list (GO, back, jump, stop, panic, timers), displays, the audit log,
// the night's archive.
import {
  $, call, connect, el, renderCounts, renderCues as renderCueList, showConnection, showError,
} from "./common.js";
import { offerDisplays } from "./moderation.js";
import { archiveControl } from "./night_archive.js";

const socket = connect("/host");
showConnection(socket, $("conn"));
// Only a refused login leaves the page; a restarting server is just "Reconnecting…".
socket.on("connect_error", (err) => { if (err.message === "log in first") window.location.href = "/login/host"; });
// Logged out (in this tab or another) or the session expired: the server disconnects us for good.
socket.on("session_ended", () => { window.location.href = "/login/host"; });
let snapshot = null, receivedAt = 0;

const report = (ack) => showError($("go-error"), ack.ok ? null : ack.error);
const send = async (event, payload) => report(await call(socket, event, payload || {}));

function renderCues() {
  renderCueList($("cues"), snapshot);
  [...$("cues").children].forEach((li) => {
    if (li.dataset.depth === "0") li.addEventListener("click", () => send("jump", { cue: li.dataset.id }));
  });
  tick();
}

// Timers count down locally from the last snapshot; the server sends a new one on every change.
function tick() {
  if (!snapshot) return;
  const passed = (performance.now() - receivedAt) / 1000;
  snapshot.cues.forEach((cue) => {
    const li = $("cues").querySelector(`li[data-id="${CSS.escape(cue.id)}"] .cue-timer`);
    if (!li) return;
    if (cue.remaining !== undefined) li.textContent = `${Math.max(cue.remaining - passed, 0).toFixed(1)} s`;
    else if (cue.elapsed !== undefined) li.textContent = `${(cue.elapsed + passed).toFixed(1)} s`;
  });
}
setInterval(tick, 100);

socket.on("cues", (data) => { snapshot = data; receivedAt = performance.now(); renderCues(); });
socket.on("counts", renderCounts);
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
      `${name}: ${t.status}${t.error ? ` (${t.error})` : ""} · sent ${t.sent}${t.dropped ? ` · dropped ${t.dropped}` : ""}`);
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

function loadAudit() {
  const action = $("audit-action").value.trim() || null;
  $("audit-csv").href = `/host/audit.csv${action ? `?action=${encodeURIComponent(action)}` : ""}`;
  call(socket, "audit", { action, limit: 200 }).then((ack) => {
    if (!ack.ok) return report(ack);
    $("audit").replaceChildren(...ack.entries.map((entry) => {
      const tr = el("tr");
      tr.append(el("td", "", new Date(entry.at * 1000).toLocaleTimeString()), el("td", "", entry.actor),
        el("td", "", entry.action), el("td", "", entry.subject || ""));
      return tr;
    }));
  });
}
$("audit-form").addEventListener("submit", (event) => { event.preventDefault(); loadAudit(); });
socket.on("connect", loadAudit);
socket.on("cues", () => setTimeout(loadAudit, 50));

archiveControl(socket);

$("go").addEventListener("click", () => send("go"));
$("back").addEventListener("click", () => send("back"));
$("stop").addEventListener("click", () => send("stop"));
$("panic").addEventListener("click", () => send("panic"));
// The moderation panel's approved records get a "Show on <display>" button each, sent from here.
offerDisplays(document.body.dataset.displays.split(",").filter(Boolean),
  (display, record) => send("send_to_display", { display, record }));
document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select") || event.repeat) return;
  if (event.code === "Space") { event.preventDefault(); send("go"); }
  else if (event.key === "Backspace") { event.preventDefault(); send("back"); }
});
