// The phone page: join with a device key kept in localStorage, send stories (and, through media.js,
// pictures and clips) through the one outbox, and say where each was sent what became of it. media.js,
// feed.js and perform.js import what they need from here.
import { $, call, connect, madeBy, randomKey, showConnection, showError, uuid4 } from "./common.js";
import { t } from "./i18n.js";
import { render as renderMineList } from "./mine.js";
import { Outbox } from "./outbox.js";
import { explain, explained, storyLimit } from "./phone_errors.js";
import { SentNote } from "./sent_note.js";

const KEY = "stage.deviceKey", NAME = "stage.name", REFUSED = "stage.refused";
const UNSAVED = t("This phone cannot save it for later: keep this page open until it is sent.");
export const deviceKey = localStorage.getItem(KEY) || randomKey();
localStorage.setItem(KEY, deviceKey);

const records = new Map(JSON.parse(localStorage.getItem(REFUSED) || "[]").map((r) => [r.id, r]));
let prompt = null, joined = false, source = null;
const joinedListeners = [], promptListeners = [], tabListeners = [], settledListeners = [], modeListeners = [];
const notes = [];

export const socket = connect("/audience");
showConnection(socket, $("conn"));

export const onJoined = (listener) => joinedListeners.push(listener);
export const onPrompt = (listener) => promptListeners.push(listener);
export const onTab = (listener) => tabListeners.push(listener);
export const onSettled = (listener) => settledListeners.push(listener);
export const onMode = (listener) => modeListeners.push(listener);  // media.js: which form is in front
export const currentPrompt = () => prompt;
export const online = () => socket.connected && joined;

// -- the outbox: what the phone made and the server has not answered yet ---------------------------
export const outbox = new Outbox({
  canSend: online,
  onChange: () => { renderMine(); warnUnsaved(); notes.forEach((note) => note.update()); },
  onSettled: (item, answer) => {
    if (answer.ok) addRecord(answer.record);
    else addRecord({ id: item.id, kind: item.kind, text: item.text, status: "refused", reason: explain(answer.error) });
    notes.forEach((note) => note.settled(item, answer));
    settledListeners.forEach((listener) => listener(item, answer));
  },
});

outbox.register(["story"], (item) => {
  const payload = { id: item.id, prompt: item.prompt, text: item.text };
  if (item.sources.length) payload.sources = item.sources;
  return call(socket, "submit_story", payload);
});

// A "what became of it" line next to a form's Send button (sent_note.js), kept up to date from here.
export function sentNote(id, words) {
  const node = $(id);
  const note = new SentNote(node, node.parentElement.querySelector(".to-mine"), words,
    { waiting: (itemId) => outbox.waiting().some(({ item }) => item.id === itemId), online });
  notes.push(note);
  return note;
}
document.querySelectorAll(".to-mine").forEach((button) => button.addEventListener("click", () => selectTab("mine")));

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

// Withdraw from Mine: the item's own state says it, a screen reader hears it; a refusal sits on the item.
const mineErrors = new Map();  // record id -> why its withdrawal was refused
async function withdraw(record) {
  const ack = await call(socket, "withdraw", { id: record.id });
  if (ack.ok) {
    mineErrors.delete(record.id);
    $("announce").textContent = t("Withdrawn: it no longer shows anywhere.");
    addRecord(ack.record);
  } else {
    mineErrors.set(record.id, explain(ack.error));
    renderMine();
  }
}

function renderMine() {
  const waiting = outbox.waiting().filter(({ item }) => !records.has(item.id))
    .map(({ item, saved }) => ({ id: item.id, kind: item.kind, text: item.text, status: "waiting", saved }));
  const items = [...waiting, ...[...records.values()].sort((a, b) => (b.created_at || 0) - (a.created_at || 0))];
  renderMineList(items, { connected: socket.connected, errors: mineErrors, onWithdraw: withdraw });
}

// -- joining ---------------------------------------------------------------------------------------
async function join(name) {
  const ack = await call(socket, "join", { device_key: deviceKey, name }, { timeout: 8000 });
  if (!ack.ok && ack.error.code === "timeout") return;  // reconnect will join again
  if (!ack.ok) { $("join").hidden = false; showError($("join-error"), explained(ack.error, { kind: "join" })); return; }
  localStorage.setItem(NAME, ack.participant.name);
  joined = true;
  $("join").hidden = true;
  $("main").hidden = false;
  $("me").textContent = ack.participant.name;
  standing(ack);
  outbox.retryNow();  // back (or here for the first time): whatever waits goes now
  joinedListeners.forEach((listener) => listener(ack));
}

// What the server says this phone shows: at join, and again after a resync.
function standing(state) {
  state.records.forEach((r) => records.set(r.id, r));
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
    joinedListeners.forEach((listener) => listener(state));  // the feed loads again, the volunteer state too
  }, Math.random() * 5000);
});

let lastPromptId = null;
function setPrompt(p) {
  if (p && lastPromptId && p.id !== lastPromptId) notes.forEach((note) => note.clear());  // another prompt: anew
  if (p) lastPromptId = p.id;
  prompt = p;
  $("prompt-text").textContent = p ? p.text : t("Waiting for the host to open a prompt…");
  $("story-form").hidden = !(p && p.kinds.includes("story"));
  updateCount();
  promptListeners.forEach((listener) => listener(p));
}

const words = (text) => (text ? text.split(/\s+/).length : 0);
const overLimit = (text) => text.length > prompt.max_chars
  || Boolean(prompt.max_words && words(text) > prompt.max_words);

function updateCount() {
  if (!prompt) return;
  const text = $("story").value.trim();
  $("count").textContent = prompt.max_words
    ? t("%(chars)s/%(max_chars)s characters · %(words)s/%(max_words)s words",
      { chars: text.length, max_chars: prompt.max_chars, words: words(text), max_words: prompt.max_words })
    : t("%(chars)s/%(max_chars)s characters", { chars: text.length, max_chars: prompt.max_chars });
  $("count").dataset.over = overLimit(text) ? "yes" : "no";
  $("story").setAttribute("aria-invalid", String(overLimit(text)));
}

socket.on("connect", () => {
  renderMine();
  const name = localStorage.getItem(NAME);
  if (name) join(name);
  else $("join").hidden = false;
});
socket.on("disconnect", () => {  // the waiting hints and the notes follow the link
  joined = false;
  renderMine();
  notes.forEach((note) => note.update());
});
socket.on("prompt", (data) => setPrompt(data.prompt));
socket.on("record_status", (data) => {
  addRecord(data.record);
  notes.forEach((note) => note.changed(data.record));
});

$("join-form").addEventListener("submit", (event) => {
  event.preventDefault();
  join($("name").value);
});

// -- what the next story, drawing or photo is made from (a remix, an illustration) -----------------
export function setSource(record) {
  source = record;
  $("remixing").hidden = !record;
  $("remix-of").textContent = record ? t("Remix of %(source)s", { source: madeBy(record) }) : "";
}
// Taken by whatever is sent next: the banner said so.
function takeSource() {
  const sources = source ? [source.id] : [];
  setSource(null);
  return sources;
}
$("remix-cancel").addEventListener("click", () => setSource(null));

// Everything the person sends goes through here: the outbox keeps it and sends it when it can. The id is
// made here unless the caller made it (to follow the item: sentNote), once, so a retry is never a second record.
export function send(fields) {
  return outbox.add({ id: uuid4(), prompt: prompt.id, sources: takeSource(), ...fields });
}

// -- the story form: refused here when it cannot be sent, confirmed here when it is ---------------
const STORY_WORDS = {
  sending: () => t("Sending your story…"),
  saved: () => t("Your story is saved on this phone: it goes as soon as the connection is back. "
    + "You'll see it under Mine."),
  pending: () => t("Sent — a moderator reads it next. You'll see it under Mine."),
  approved: () => t("Sent — it is on the wall now. You'll see it under Mine."),
};
const storyNote = sentNote("story-sent", (state) => STORY_WORDS[state]());

function refuseStory(message) {
  showError($("story-error"), { message });
  $("story").focus();
}

// A refusal of the story sent last: said under its form, with the words back in the box to mend.
onSettled((item, answer) => {
  if (item.kind !== "story" || answer.ok || item.id !== storyNote.id) return;
  if (!$("story").value.trim()) {
    $("story").value = item.text;
    updateCount();
    refuseStory(`${explain(answer.error, { kind: "story", prompt })} ${t("Your story is back in the box.")}`);
  } else {
    refuseStory(explain(answer.error, { kind: "story", prompt }));
  }
});

$("story").addEventListener("input", updateCount);
$("story-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("story").value.trim();
  showError($("story-error"), null);
  if (!prompt) return;
  if (!text) return refuseStory(t("Write your story first."));
  if (overLimit(text)) return refuseStory(storyLimit(prompt));  // the server would refuse it: say so now
  $("story").value = "";
  updateCount();
  const id = uuid4();
  storyNote.sent(id);
  await send({ id, kind: "story", text });
  storyNote.update();
  $("story-sent").scrollIntoView({ block: "nearest" });  // the answer is read where the thumb pressed Send
});

// -- tabs: Write, Wall, Mine (arrow keys move along them, as a tab list's keys do) -------------------
const TABS = ["write", "wall", "mine"];
export function selectTab(name) {
  TABS.forEach((tab) => {
    const selected = tab === name;
    $(`tab-${tab}`).setAttribute("aria-selected", String(selected));
    $(`tab-${tab}`).tabIndex = selected ? 0 : -1;
    $(`view-${tab}`).hidden = !selected;
  });
  tabListeners.forEach((listener) => listener(name));
}
TABS.forEach((tab, i) => {
  $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  $(`tab-${tab}`).addEventListener("keydown", (event) => {
    const rtl = document.documentElement.dir === "rtl";
    const step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[event.key];
    if (!step) return;
    const next = TABS[(i + step + TABS.length) % TABS.length];
    selectTab(next);
    $(`tab-${next}`).focus();
  });
});

export function remix(record) {
  setSource(record);
  selectTab("write");
  modeListeners.forEach((listener) => listener("story"));
  $("story").focus();
}

$("name").value = localStorage.getItem(NAME) || "";
selectTab("write");
renderMine();
