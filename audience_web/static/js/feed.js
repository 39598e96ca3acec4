// The phone's wall: approved records, recommend (once, undoable), comments, remix and perform. Each card
// has one main action (the remix the open prompt asks for) and quiet ones beside it, and answers every tap
// on the card itself: the recommend button's state and count (announced), the comment's fate under its
// form, the offer to perform named on the card.
import { $, call, el, lineageText, mediaElement, showError, uuid4 } from "./common.js";
import { formatNumber, t, tn } from "./i18n.js";
import { currentPrompt, onJoined, onPrompt, onTab, remix, selectTab, socket } from "./audience.js";
import { illustrate } from "./media.js";
import { offerOn, onStanding, performFromCard } from "./perform.js";
import { explain, explained } from "./phone_errors.js";

const mine = new Set();  // records this phone recommends (a broadcast cannot say so per phone)
const cards = new Map();  // id -> the record a card shows now (a prompt change redraws its actions)
const commented = new Map();  // comment id -> the record it is on, until it is on the wall
const COMMENT_SENT = () => t("Sent — your comment shows here once a moderator approves it.");
let order = "newest";

const find = (id) => [...$("feed").children].find((li) => li.dataset.id === id);
const announce = (text) => { $("announce").textContent = text; };

// Said on the card: a status (polite) or an error (an alert), never both.
function sayOn(li, message, isError) {
  li.querySelector(".card-state").textContent = isError ? "" : message;
  showError(li.querySelector(".card-error"), isError ? { message } : null);
}

// The standing offer to perform, on the card of its story (and off every other card once it changed).
function showOffer(li, record) {
  const state = li.querySelector(".card-state"), offer = offerOn(record);
  if (offer) {
    sayOn(li, offer, false);
    state.dataset.offer = "yes";
  } else if (state.dataset.offer === "yes") {
    sayOn(li, "", false);
    delete state.dataset.offer;
  }
}

// The main action: the remix the open prompt asks for first (a story for a story prompt, else a picture).
function rankActions(li, record) {
  const prompt = currentPrompt();
  const takes = (kind) => Boolean(prompt && prompt.kinds.includes(kind));
  const remixButton = li.querySelector(".remix"), illustrateButton = li.querySelector(".illustrate");
  remixButton.hidden = !takes("story");
  illustrateButton.hidden = record.kind !== "story" || !(takes("drawing") || takes("photo"));
  const ranked = prompt && prompt.kinds[0] === "story"
    ? [remixButton, illustrateButton] : [illustrateButton, remixButton];
  const main = ranked.find((button) => !button.hidden);
  li.querySelectorAll(".actions button").forEach((button) => {
    button.classList.toggle("primary", button === main);
    button.classList.toggle("quiet", button !== main);
  });
}

function showRecommend(li, id, count) {
  const button = li.querySelector(".recommend");
  button.setAttribute("aria-pressed", String(mine.has(id)));
  li.querySelector(".count").textContent = formatNumber(count);
}

function fill(li, record) {
  cards.set(record.id, record);
  const media = mediaElement(record);
  li.querySelector(".media").replaceChildren(...(media ? [media] : []));
  li.querySelector(".text").textContent = record.text || "";
  li.querySelector(".author").textContent = record.author;
  const lineage = lineageText(record);
  li.querySelector(".remix-of").textContent = lineage ? ` · ${lineage}` : "";
  showRecommend(li, record.id, record.recommendations);
  const comments = record.comments || [];
  li.querySelector(".comments").replaceChildren(...comments.map((c) => {
    const item = el("li", "comment");
    item.append(el("strong", "author", c.author), document.createTextNode(" "), el("span", "text", c.text));
    item.querySelectorAll(".author, .text").forEach((node) => { node.dir = "auto"; });
    return item;
  }));
  // This phone's comment: waiting for a moderator, or on the wall now; said where it was written, also after
  // the wall is drawn again (a tab change reloads it).
  const state = li.querySelector(".comment-state");
  const arrived = comments.filter((c) => commented.get(c.id) === record.id);
  arrived.forEach((c) => commented.delete(c.id));
  if (arrived.length) state.textContent = t("Your comment is on the wall now.");
  else if ([...commented.values()].includes(record.id)) state.textContent = COMMENT_SENT();
  showOffer(li, record);
  li.querySelector(".perform").hidden = record.kind !== "story";
  rankActions(li, record);
}

async function recommend(li, record) {
  const on = !mine.has(record.id);
  const ack = await call(socket, "recommend", { id: record.id, on });
  if (!ack.ok) return sayOn(li, explain(ack.error, { kind: "recommend" }), true);
  sayOn(li, "", false);
  if (on) mine.add(record.id); else mine.delete(record.id);
  showRecommend(li, record.id, ack.count);
  announce(on
    ? tn("You recommend this. %(n)s recommendation.", "You recommend this. %(n)s recommendations.", ack.count)
    : tn("You no longer recommend this. %(n)s recommendation.", "You no longer recommend this. %(n)s recommendations.",
      ack.count));
}

async function comment(li, record) {
  const input = li.querySelector(".comment-input"), state = li.querySelector(".comment-state");
  const error = li.querySelector(".comment-error");
  const text = input.value.trim();
  showError(error, null);
  if (!text) { showError(error, { message: t("Write a comment first.") }); input.focus(); return; }
  const id = uuid4();
  state.textContent = t("Sending your comment…");
  const ack = await call(socket, "submit_comment", { id, on: record.id, text });
  if (!ack.ok) {
    state.textContent = "";
    showError(error, explained(ack.error, { kind: "comment" }));
    input.focus();
    return;
  }
  input.value = "";
  commented.set(id, record.id);
  state.textContent = COMMENT_SENT();
}

function item(record) {
  const li = $("feed-item").content.firstElementChild.cloneNode(true);
  li.dataset.id = record.id;
  fill(li, record);
  const current = () => cards.get(record.id) || record;
  li.querySelector(".recommend").addEventListener("click", () => recommend(li, current()));
  li.querySelector(".remix").addEventListener("click", () => remix(current()));
  li.querySelector(".illustrate").addEventListener("click", () => {
    selectTab("write");
    illustrate(current());
  });
  li.querySelector(".perform").addEventListener("click", () => performFromCard(current(),
    (message, isError) => sayOn(li, message, isError)));
  li.querySelector(".comment-form").addEventListener("submit", (event) => {
    event.preventDefault();
    comment(li, current());
  });
  return li;
}

async function load() {
  const ack = await call(socket, "feed", { order, limit: 50 });
  showError($("feed-error"), explained(ack.ok ? null : ack.error));
  if (!ack.ok) return;
  ack.records.forEach((r) => { if (r.recommended) mine.add(r.id); });
  cards.clear();
  $("feed").replaceChildren(...ack.records.map(item));
  $("feed-empty").hidden = ack.records.length > 0;
}

socket.on("feed_update", (update) => {
  update.removed.forEach((id) => { const li = find(id); if (li) li.remove(); cards.delete(id); });
  update.records.forEach((record) => {
    const li = find(record.id);
    if (li) fill(li, record);
    else if (order === "newest") $("feed").prepend(item(record));
  });
  $("feed-empty").hidden = $("feed").children.length > 0;
});

// A comment of this phone that a moderator turned down: said under its form, instead of "once approved".
socket.on("record_status", ({ record }) => {
  // Approved: the feed update that carries it says so (fill).
  if (record.kind !== "comment" || !commented.has(record.id) || ["pending", "approved"].includes(record.status)) return;
  const li = find(commented.get(record.id));
  commented.delete(record.id);
  if (li) li.querySelector(".comment-state").textContent = t("A moderator did not put your comment on the wall.");
});

["newest", "top"].forEach((name) => $(`order-${name}`).addEventListener("click", () => {
  order = name;
  $("order-newest").setAttribute("aria-pressed", String(name === "newest"));
  $("order-top").setAttribute("aria-pressed", String(name === "top"));
  load();
}));
onTab((name) => { if (name === "wall") load(); });
onPrompt(() => [...$("feed").children].forEach((li) => {
  const record = cards.get(li.dataset.id);
  if (record) rankActions(li, record);
}));
onStanding(() => [...$("feed").children].forEach((li) => {
  const record = cards.get(li.dataset.id);
  if (record) showOffer(li, record);
}));
onJoined(load);
