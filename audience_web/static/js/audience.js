// The phone page: join with a device key kept in localStorage, send stories (and, through media.js,
// pictures and clips) through the one outbox, follow what became of each. media.js and feed.js
// import what they need from here.
import { $, el, call, connect, madeBy, randomKey, showConnection, showError, uuid4 } from "./common.js";
import { Outbox, stateOf } from "./outbox.js";

const KEY = "stage.deviceKey", NAME = "stage.name", REFUSED = "stage.refused";
const UNSAVED = "This phone cannot save it for later: keep this page open until it is sent.";
export const deviceKey = localStorage.getItem(KEY) || randomKey();
localStorage.setItem(KEY, deviceKey);

const records = new Map(JSON.parse(localStorage.getItem(REFUSED) || "[]").map((r) => [r.id, r]));
let prompt = null, joined = false, source = null, consent = null;
const joinedListeners = [], promptListeners = [], tabListeners = [];

export const socket = connect("/audience");
showConnection(socket, $("conn"));

export const onJoined = (listener) => joinedListeners.push(listener);
export const onPrompt = (listener) => promptListeners.push(listener);
export const onTab = (listener) => tabListeners.push(listener);
export const currentPrompt = () => prompt;

// -- the outbox: what the phone made and the server has not answered yet ---------------------------
const settledListeners = [];
export const onSettled = (listener) => settledListeners.push(listener);
export const outbox = new Outbox({
  canSend: () => socket.connected && joined,
  onChange: () => { renderMine(); warnUnsaved(); },
  onSettled: (item, answer) => {
    if (answer.ok) addRecord(answer.record);
    else addRecord({ id: item.id, kind: item.kind, text: item.text, status: "refused", reason: answer.error.message });
    settledListeners.forEach((listener) => listener(item, answer));
  },
});

outbox.register(["story"], (item) => {
  const payload = { id: item.id, prompt: item.prompt, text: item.text };
  if (item.sources.length) payload.sources = item.sources;
  return call(socket, "submit_story", payload);
});

// While something lives only in this page's memory, the person is told, next to where they sent it.
const WARNINGS = [["story-error", ["story"]], ["media-error", ["drawing", "photo", "clip"]]];
function warnUnsaved() {
  WARNINGS.forEach(([id, kinds]) => {
    const ours = $(id).textContent === UNSAVED;
    // Never over or instead of another message (a refusal, "Draw something first.").
    if (outbox.unsaved(kinds) && ($(id).hidden || ours)) showError($(id), { message: UNSAVED });
    else if (!outbox.unsaved(kinds) && ours) showError($(id), null);
  });
}

// What the person sent, as one list: waiting in the outbox, then what the server holds.
function addRecord(record) {
  records.set(record.id, record);
  // A refused story stays on the phone (its text is the author's) even after a reload.
  localStorage.setItem(REFUSED, JSON.stringify([...records.values()].filter((r) => r.status === "refused")));
  renderMine();
}

// Plain words for each state: a person in the audience reads these, not the server's statuses.
const LABELS = { waiting: "Waiting to send", sent: "Sent — waiting for the host", approved: "On the wall",
  "not-accepted": "Not accepted", withdrawn: "Withdrawn" };

// Why it waits and what the person should do, which depends on where it is kept and the connection.
function waitingHint(saved) {
  if (saved === false) return "Only on this page: keep it open until it is sent.";
  return socket.connected ? "Sending…" : "Saved on this phone: it goes as soon as the connection is back.";
}

function renderMine() {
  const waiting = outbox.waiting().filter(({ item }) => !records.has(item.id))
    .map(({ item, saved }) => ({ id: item.id, kind: item.kind, text: item.text, status: "waiting", saved }));
  const items = [...waiting, ...[...records.values()].sort((a, b) => (b.created_at || 0) - (a.created_at || 0))];
  $("mine").replaceChildren(...items.map((r) => {
    const state = stateOf(r.status);
    const li = el("li", `mine-item status-${r.status} state-${state}`);
    li.dataset.id = r.id;
    li.dataset.status = r.status;  // the server's word (pending, rejected…), or the phone's waiting / refused
    li.dataset.state = state;      // the one state model: waiting, sent, approved, not-accepted (withdrawn)
    const text = el("p", "text", r.text || (r.kind ? `Your ${r.kind}` : ""));
    text.dir = "auto";
    const status = el("p", "status");
    status.append(el("span", "state", LABELS[state]));
    if (r.reason) status.append(el("span", "reason", `: ${r.reason}`));
    if (state === "waiting") status.append(el("span", "hint", waitingHint(r.saved)));
    li.append(text, status);
    if (state === "sent" || state === "approved") {
      const withdraw = el("button", "secondary withdraw", "Withdraw");
      withdraw.type = "button";
      withdraw.addEventListener("click", async () => {
        const ack = await call(socket, "withdraw", { id: r.id });
        if (ack.ok) addRecord(ack.record);
      });
      li.append(withdraw);
    }
    return li;
  }));
  $("mine-empty").hidden = items.length > 0;
}

// -- joining ---------------------------------------------------------------------------------------
async function join(name) {
  const ack = await call(socket, "join", { device_key: deviceKey, name }, { timeout: 8000 });
  if (!ack.ok && ack.error.code === "timeout") return;  // reconnect will join again
  if (!ack.ok) { $("join").hidden = false; showError($("join-error"), ack.error); return; }
  localStorage.setItem(NAME, ack.participant.name);
  joined = true;
  $("join").hidden = true;
  $("main").hidden = false;
  $("me").textContent = ack.participant.name;
  consent = ack.consent;
  $("consent-text").textContent = consent.text;
  standing(ack);
  outbox.retryNow();  // back (or here for the first time): whatever waits goes now
  joinedListeners.forEach((listener) => listener(ack));
}

// What the server says this phone shows: at join, and again after a resync.
function standing(state) {
  state.records.forEach((r) => records.set(r.id, r));
  setVolunteer(state.volunteer);
  setPrompt(state.prompt);
  renderMine();
}

// The server's processes lost touch for a while (their message queue was down): updates meant for this phone
// may not have come. Ask again, read only, at a moment of its own so the whole house does not ask at once.
socket.on("resync", () => {
  setTimeout(async () => {
    if (!joined) return;  // not joined yet: the join brings everything
    const state = await call(socket, "state");
    if (!state.ok) return;
    standing(state);
    joinedListeners.forEach((listener) => listener(state));  // the feed loads again
  }, Math.random() * 5000);
});

function setPrompt(p) {
  prompt = p;
  $("prompt-text").textContent = p ? p.text : "Waiting for the host to open a prompt…";
  $("story-form").hidden = !(p && p.kinds.includes("story"));
  updateCount();
  promptListeners.forEach((listener) => listener(p));
}

function updateCount() {
  if (!prompt) return;
  const text = $("story").value.trim();
  const words = text ? text.split(/\s+/).length : 0;
  let label = `${text.length}/${prompt.max_chars} characters`;
  if (prompt.max_words) label += ` · ${words}/${prompt.max_words} words`;
  $("count").textContent = label;
  const over = text.length > prompt.max_chars || (prompt.max_words && words > prompt.max_words);
  $("count").dataset.over = over ? "yes" : "no";
}

socket.on("connect", () => {
  renderMine();
  const name = localStorage.getItem(NAME);
  if (name) join(name);
  else $("join").hidden = false;
});
socket.on("disconnect", () => { joined = false; renderMine(); });  // the waiting hints follow the link
socket.on("prompt", (data) => setPrompt(data.prompt));
socket.on("record_status", (data) => addRecord(data.record));

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  join($("name").value);
});

// -- what the next story, drawing or photo is made from (a remix, an illustration) -----------------
export function setSource(record) {
  source = record;
  $("remixing").hidden = !record;
  $("remix-of").textContent = record ? madeBy(record) : "";
}
// Taken by whatever is sent next: the banner said so.
function takeSource() {
  const sources = source ? [source.id] : [];
  setSource(null);
  return sources;
}
$("remix-cancel").addEventListener("click", () => setSource(null));

// Everything the person sends goes through here: the outbox keeps it and sends it when it can.
export function send(fields) {
  return outbox.add({ id: uuid4(), prompt: prompt.id, sources: takeSource(), ...fields });
}

$("story").addEventListener("input", updateCount);
$("story-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("story").value.trim();
  showError($("story-error"), null);
  if (!text || !prompt) return;
  $("story").value = "";
  updateCount();
  await send({ kind: "story", text });
});

// -- performing ------------------------------------------------------------------------------------
function setVolunteer(standing) {
  $("volunteer-state").textContent = standing
    ? "Thank you! You offered to perform; the host will call you." : "Offer to perform a story tonight; the host picks volunteers.";
  $("volunteer").hidden = Boolean(standing);
  $("withdraw-consent").hidden = !standing;
  $("consent-check").closest("label").hidden = Boolean(standing);
}

async function volunteer(story) {
  if (!$("consent-check").checked) {
    selectTab("write");
    $("consent-box").open = true;
    showError($("volunteer-error"), { message: "Read and tick the consent first." });
    $("consent-check").focus();
    return;
  }
  const payload = { consent_version: consent.version };
  if (story) payload.story = story;
  const ack = await call(socket, "volunteer", payload);
  showError($("volunteer-error"), ack.ok ? null : ack.error);
  if (ack.ok) setVolunteer(ack.volunteer);
}
$("volunteer").addEventListener("click", () => volunteer(null));
$("withdraw-consent").addEventListener("click", async () => {
  const ack = await call(socket, "withdraw_consent", {});
  if (ack.ok) setVolunteer(null);
});
export const perform = (record) => volunteer(record.id);

// -- tabs ------------------------------------------------------------------------------------------
export function selectTab(name) {
  ["write", "wall", "mine"].forEach((tab) => {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    $(`view-${tab}`).hidden = tab !== name;
  });
  tabListeners.forEach((listener) => listener(name));
}
["write", "wall", "mine"].forEach((tab) => $(`tab-${tab}`).addEventListener("click", () => selectTab(tab)));

export function remix(record) {
  setSource(record);
  selectTab("write");
  $("story").focus();
}

$("name").value = localStorage.getItem(NAME) || "";
renderMine();
