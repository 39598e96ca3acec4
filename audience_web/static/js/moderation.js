// The moderation panel (host and moderator pages): the queue with keyboard work, and approved records.
import { $, call, connect, el, lineageText, mediaElement, renderCounts, showConnection, showError } from "./common.js";

const socket = connect("/moderation");
const isHostPage = Boolean(document.body.dataset.displays);
if (!isHostPage) showConnection(socket, $("conn"));
socket.on("connect_error", (err) => {
  if (!isHostPage && err.message === "log in first") window.location.href = "/login/moderator";
});
// Logged out (in this tab or another) or the session expired: the server disconnects us for good.
socket.on("session_ended", () => { if (!isHostPage) window.location.href = "/login/moderator"; });
let selected = null;  // id of the selected queue item
// Only the host sends records to displays, on its own /host socket: host.js tells this panel how.
let displays = [], sendToDisplay = null;
export function offerDisplays(names, send) {
  displays = names;
  sendToDisplay = send;
}

const fail = (error) => showError($("moderation-error"), error);
const items = () => [...$("queue").children];
const find = (list, id) => [...list.children].find((li) => li.dataset.id === id);

function fill(node, record) {
  node.dataset.id = record.id;
  const media = mediaElement(record);
  if (media) node.querySelector(".text").before(media);
  node.querySelector(".text").textContent = record.text || "";
  node.querySelector(".author").textContent = record.author;
  return node;
}

function queueItem(record) {
  const li = fill($("queue-item").content.firstElementChild.cloneNode(true), record);
  li.dataset.participant = record.participant || "";
  li.querySelector(".kind").textContent = [record.kind, lineageText(record, " · ")].filter(Boolean).join(" · ");
  li.querySelector(".flags").textContent = (record.flags || []).map((f) => `⚑ ${f}`).join(" ");
  if ((record.flags || []).length) li.classList.add("flagged");
  li.querySelector(".approve").addEventListener("click", () => decide(record.id, "approve"));
  li.querySelector(".reject").addEventListener("click", () => decide(record.id, "reject"));
  li.querySelector(".ban").addEventListener("click", () => ban(li.dataset.participant));
  li.addEventListener("click", () => select(record.id));
  return li;
}

function approvedItem(record) {
  const li = fill($("approved-item").content.firstElementChild.cloneNode(true), record);
  li.querySelector(".hide").addEventListener("click", () => decide(record.id, "hide"));
  if (sendToDisplay) {
    displays.forEach((display) => {
      const button = el("button", "send", `Show on ${display}`);
      button.addEventListener("click", () => sendToDisplay(display, record.id));
      li.querySelector(".send-to").append(button);
    });
  }
  return li;
}

function refresh() {
  $("queue-empty").hidden = items().length > 0;
  if (!items().some((li) => li.dataset.id === selected)) selected = items().length ? items()[0].dataset.id : null;
  items().forEach((li) => li.classList.toggle("selected", li.dataset.id === selected));
}

function select(id) { selected = id; refresh(); }

function move(step) {
  const list = items();
  const index = list.findIndex((li) => li.dataset.id === selected);
  if (list.length) select(list[Math.max(0, Math.min(list.length - 1, index + step))].dataset.id);
}

function remove(id) { const li = find($("queue"), id); if (li) li.remove(); refresh(); }

function decide(id, decision) {
  call(socket, "moderate", { id, decision }).then((ack) => {
    fail(ack.ok ? null : ack.error);
    if (ack.ok && decision !== "hide") remove(id);
  });
}

function ban(participant) {
  if (!participant) return;
  call(socket, "ban", { participant }).then((ack) => fail(ack.ok ? null : ack.error));
}

socket.on("queue", (data) => { $("queue").replaceChildren(...data.records.map(queueItem)); refresh(); });
socket.on("queue_add", (data) => { if (!find($("queue"), data.record.id)) $("queue").append(queueItem(data.record)); refresh(); });
socket.on("queue_remove", (data) => remove(data.id));
socket.on("approved", (data) => $("approved").replaceChildren(...data.records.map(approvedItem)));
socket.on("approved_add", (data) => { if (!find($("approved"), data.record.id)) $("approved").prepend(approvedItem(data.record)); });
socket.on("approved_remove", (data) => { const li = find($("approved"), data.id); if (li) li.remove(); });
socket.on("counts", renderCounts);

document.addEventListener("keydown", (event) => {
  if (event.target.closest("input, textarea, select") || event.repeat || event.ctrlKey || event.metaKey) return;
  const key = event.key.toLowerCase();
  if (key === "j") move(1);
  else if (key === "k") move(-1);
  else if (key === "a" && selected) decide(selected, "approve");
  else if (key === "r" && selected) decide(selected, "reject");
  else if (key === "b" && selected) ban(find($("queue"), selected).dataset.participant);
});
