// The moderation panels (host and moderator pages): the queue with keyboard work, and approved records.
// Accidents it prevents: Ban only through a confirmation (button and key B), actions only while connected,
// "Show on <display>" only for the kinds a display shows.
import { $, call, connect, el, lineageText, mediaElement, renderCounts, showConnection, showError } from "./common.js";

// The kinds a display shows on their own (RECORD_SCENES in stage/display/board.py; a test keeps the two
// alike): the server refuses the others (a comment), so they are never offered.
export const SHOWN_ON_DISPLAYS = new Set(["story", "drawing", "photo", "clip", "take", "remix"]);

const socket = connect("/moderation");
const isHostPage = Boolean(document.body.dataset.displays);
if (!isHostPage) showConnection(socket, $("conn"));
socket.on("connect_error", (err) => {
  if (!isHostPage && err.message === "log in first") window.location.href = "/login/moderator";
});
// Logged out (in this tab or another) or the session expired: the server disconnects us for good.
socket.on("session_ended", () => { if (!isHostPage) window.location.href = "/login/moderator"; });
let selected = null;  // id of the selected queue item
let online = false;
const records = new Map();  // id -> record, for what the status line says about it
// Only the host sends records to displays, on its own /host socket: host.js tells this panel how.
let displays = [], sendToDisplay = null;
export function offerDisplays(names, send) {
  displays = names;
  sendToDisplay = send;
}

const fail = (error) => showError($("moderation-error"), error);
const say = (text) => { $("moderation-status").textContent = text; };
const items = () => [...$("queue").children];
const find = (list, id) => [...list.children].find((li) => li.dataset.id === id);
const dialog = $("ban-dialog");

// "“The cape flew…” by Ada" or "a drawing by Ada": how the status line names a record.
function describe(record) {
  if (!record) return "the record";
  const words = (record.text || "").trim();
  const what = words ? `“${words.length > 40 ? `${words.slice(0, 39)}…` : words}”` : `a ${record.kind}`;
  return `${what} by ${record.author}`;
}

function fill(node, record) {
  node.dataset.id = record.id;
  records.set(record.id, record);
  const media = mediaElement(record);
  if (media) node.querySelector(".text").before(media);
  node.querySelector(".text").textContent = record.text || "";
  node.querySelector(".author").textContent = record.author;
  return node;
}

// A button that cannot work for this record stays disabled whatever the connection does; its reason is shown.
function never(button, reason, why, id) {
  button.dataset.never = "1";
  button.disabled = true;
  Object.assign(why, { textContent: reason, hidden: false, id: `why-${id}` });
  button.setAttribute("aria-describedby", why.id);
}

function enable(root) {
  root.querySelectorAll("button").forEach((b) => { b.disabled = !online || b.dataset.never === "1"; });
}

function queueItem(record) {
  const li = fill($("queue-item").content.firstElementChild.cloneNode(true), record);
  li.dataset.participant = record.participant || "";
  li.querySelector(".kind").textContent = [record.kind, lineageText(record, " · ")].filter(Boolean).join(" · ");
  li.querySelector(".flags").textContent = (record.flags || []).map((f) => `⚑ ${f}`).join(" ");
  if ((record.flags || []).length) li.classList.add("flagged");
  li.querySelector(".approve").addEventListener("click", () => decide(record.id, "approve"));
  li.querySelector(".reject").addEventListener("click", () => decide(record.id, "reject"));
  li.querySelector(".ban").addEventListener("click", () => askBan(li));
  if (!record.participant) {
    never(li.querySelector(".ban"), "Made by the crew: no phone to ban", li.querySelector(".why"), record.id);
  }
  li.addEventListener("click", () => select(record.id));
  enable(li);
  return li;
}

function approvedItem(record) {
  const li = fill($("approved-item").content.firstElementChild.cloneNode(true), record);
  li.querySelector(".kind").textContent = record.kind;
  li.querySelector(".hide").addEventListener("click", () => decide(record.id, "hide"));
  const sendTo = li.querySelector(".send-to");
  if (sendToDisplay && SHOWN_ON_DISPLAYS.has(record.kind)) {
    displays.forEach((display) => {
      const button = el("button", "send", `Show on ${display}`);
      button.type = "button";
      button.addEventListener("click", async () => {
        const ack = await sendToDisplay(display, record.id);
        if (ack && ack.ok) say(`On ${display} now: ${describe(record)}.`);
      });
      sendTo.append(button);
    });
  } else if (sendToDisplay) {
    sendTo.append(el("span", "why", `A ${record.kind} is not shown on a display on its own.`));
  }
  enable(li);
  return li;
}

function refresh() {
  $("queue-empty").hidden = items().length > 0;
  $("approved-empty").hidden = $("approved").children.length > 0;
  if (!items().some((li) => li.dataset.id === selected)) selected = items().length ? items()[0].dataset.id : null;
  items().forEach((li) => {
    li.classList.toggle("selected", li.dataset.id === selected);
    li.setAttribute("aria-selected", String(li.dataset.id === selected));
  });
}

function select(id) { selected = id; refresh(); }

// J/K: the selection moves and takes the focus with it, so a screen reader reads the record and the
// page scrolls to it.
function move(step) {
  const list = items();
  const index = list.findIndex((li) => li.dataset.id === selected);
  if (!list.length) return;
  select(list[Math.max(0, Math.min(list.length - 1, index + step))].dataset.id);
  find($("queue"), selected).focus();
}

// A record on neither list is forgotten (the map would otherwise hold every record of the night).
const forget = (id) => { if (!find($("queue"), id) && !find($("approved"), id)) records.delete(id); };

function remove(id) {
  const li = find($("queue"), id);
  const hadFocus = li && li.contains(document.activeElement);
  if (li) li.remove();
  forget(id);
  refresh();
  const next = selected && find($("queue"), selected);
  if (hadFocus && next) next.focus();  // keyboard work goes on with the next record, not from the page top
}

function offline() {
  fail({ message: "Not connected: nothing was sent. Try again once the console is back online." });
}

function decide(id, decision) {
  if (!online) return offline();
  const record = records.get(id);  // now: its queue_remove may arrive before the ack and forget it
  call(socket, "moderate", { id, decision }).then((ack) => {
    fail(ack.ok ? null : ack.error);
    if (!ack.ok) return;
    const done = { approve: "Approved", reject: "Rejected", hide: "Hidden" }[decision];
    say(`${done}: ${describe(record)}.`);
    if (decision !== "hide") remove(id);
  });
}

// Ban: a dialog first (Cancel has the focus), for the button and for the key alike.
let banning = null;  // {participant, author} while the dialog asks
function askBan(li) {
  if (!online) return offline();
  const author = li.querySelector(".author").textContent;
  if (!li.dataset.participant) return say(`${author} is the crew: there is no phone to ban.`);
  const waiting = items().filter((item) => item.dataset.participant === li.dataset.participant).length;
  banning = { participant: li.dataset.participant, author };
  $("ban-title").textContent = `Ban ${author}?`;
  const theirs = waiting === 1 ? "Their waiting record is" : `All ${waiting} of their waiting records are`;
  $("ban-what").textContent = `${theirs} rejected, and this phone cannot send anything more tonight. There is no undo.`;
  $("ban-confirm").textContent = `Ban ${author}`;
  dialog.returnValue = "";
  dialog.showModal();
  $("ban-cancel").focus();
}

dialog.addEventListener("close", () => {
  const asked = banning;
  banning = null;
  if (asked && dialog.returnValue === "ban") ban(asked);
  else if (asked) say(`Not banned: ${asked.author}.`);
  const li = selected && find($("queue"), selected);
  if (li) li.focus();
});

function ban({ participant, author }) {
  call(socket, "ban", { participant }).then((ack) => {
    fail(ack.ok ? null : ack.error);
    if (!ack.ok) return;
    const n = ack.rejected.length;
    say(`Banned ${author}: ${n} waiting ${n === 1 ? "record" : "records"} rejected.`);
  });
}

function setOnline(state) {
  online = state;
  enable($("queue"));
  enable($("approved"));
}
socket.on("connect", () => { setOnline(true); $("moderation-offline").hidden = true; });
socket.on("disconnect", () => { setOnline(false); $("moderation-offline").hidden = false; });

socket.on("queue", (data) => { $("queue").replaceChildren(...data.records.map(queueItem)); refresh(); });
socket.on("queue_add", (data) => {
  if (!find($("queue"), data.record.id)) $("queue").append(queueItem(data.record));
  refresh();
});
socket.on("queue_remove", (data) => remove(data.id));
socket.on("approved", (data) => { $("approved").replaceChildren(...data.records.map(approvedItem)); refresh(); });
socket.on("approved_add", (data) => {
  if (!find($("approved"), data.record.id)) $("approved").prepend(approvedItem(data.record));
  refresh();
});
socket.on("approved_remove", (data) => {
  const li = find($("approved"), data.id);
  if (li) li.remove();
  forget(data.id);
  refresh();
});
socket.on("counts", renderCounts);

document.addEventListener("keydown", (event) => {
  if (dialog.open || event.target.closest("input, textarea, select, dialog")) return;
  if (event.repeat || event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.toLowerCase();
  if (key === "j") move(1);
  else if (key === "k") move(-1);
  else if (key === "a" && selected) decide(selected, "approve");
  else if (key === "r" && selected) decide(selected, "reject");
  else if (key === "b" && selected) { event.preventDefault(); askBan(find($("queue"), selected)); }
});
