// The phone's wall: approved records, recommend (once, undoable), comments, remix and perform.
import { $, call, el, lineageText, mediaElement, showError, uuid4 } from "./common.js";
import { currentPrompt, onJoined, onTab, perform, remix, selectTab, socket } from "./audience.js";
import { illustrate } from "./media.js";

const mine = new Set();  // records this phone recommends (a broadcast cannot say so per phone)
let order = "newest";

const find = (id) => [...$("feed").children].find((li) => li.dataset.id === id);
const fail = (error) => showError($("feed-error"), error);

function fill(li, record) {
  const media = mediaElement(record);
  li.querySelector(".media").replaceChildren(...(media ? [media] : []));
  li.querySelector(".text").textContent = record.text || "";
  li.querySelector(".author").textContent = record.author;
  const lineage = lineageText(record);
  li.querySelector(".remix-of").textContent = lineage ? ` · ${lineage}` : "";
  li.querySelector(".count").textContent = record.recommendations;
  li.querySelector(".recommend").setAttribute("aria-pressed", String(mine.has(record.id)));
  li.querySelector(".comments").replaceChildren(...(record.comments || []).map((c) => {
    const item = el("li", "comment");
    item.append(el("strong", "author", c.author), document.createTextNode(" "), el("span", "text", c.text));
    return item;
  }));
  li.querySelector(".perform").hidden = record.kind !== "story";
  const prompt = currentPrompt();
  const canIllustrate = prompt && ["drawing", "photo"].some((kind) => prompt.kinds.includes(kind));
  li.querySelector(".illustrate").hidden = record.kind !== "story" || !canIllustrate;
  li.querySelector(".remix").hidden = record.kind === "story" && !(prompt && prompt.kinds.includes("story"));
}

function item(record) {
  const li = $("feed-item").content.firstElementChild.cloneNode(true);
  li.dataset.id = record.id;
  fill(li, record);
  li.querySelector(".recommend").addEventListener("click", () => {
    const on = !mine.has(record.id);
    call(socket, "recommend", { id: record.id, on }).then((ack) => {
      fail(ack.ok ? null : ack.error);
      if (!ack.ok) return;
      if (on) mine.add(record.id); else mine.delete(record.id);
      li.querySelector(".count").textContent = ack.count;
      li.querySelector(".recommend").setAttribute("aria-pressed", String(on));
    });
  });
  li.querySelector(".remix").addEventListener("click", () => remix(record));
  li.querySelector(".illustrate").addEventListener("click", () => {
    selectTab("write");
    illustrate(record);
  });
  li.querySelector(".perform").addEventListener("click", () => perform(record));
  li.querySelector(".comment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = li.querySelector(".comment-input");
    const text = input.value.trim();
    if (!text) return;
    call(socket, "submit_comment", { id: uuid4(), on: record.id, text }).then((ack) => {
      fail(ack.ok ? null : ack.error);
      if (ack.ok) { input.value = ""; input.placeholder = "Sent: it shows once approved"; }
    });
  });
  return li;
}

async function load() {
  const ack = await call(socket, "feed", { order, limit: 50 });
  if (!ack.ok) return fail(ack.error);
  ack.records.forEach((r) => { if (r.recommended) mine.add(r.id); });
  $("feed").replaceChildren(...ack.records.map(item));
  $("feed-empty").hidden = ack.records.length > 0;
}

socket.on("feed_update", (update) => {
  update.removed.forEach((id) => { const li = find(id); if (li) li.remove(); });
  update.records.forEach((record) => {
    const li = find(record.id);
    if (li) fill(li, record);
    else if (order === "newest") $("feed").prepend(item(record));
  });
  $("feed-empty").hidden = $("feed").children.length > 0;
});

["newest", "top"].forEach((name) => $(`order-${name}`).addEventListener("click", () => {
  order = name;
  $("order-newest").setAttribute("aria-pressed", String(name === "newest"));
  $("order-top").setAttribute("aria-pressed", String(name === "top"));
  load();
}));
onTab((name) => { if (name === "wall") load(); });
onJoined(load);
