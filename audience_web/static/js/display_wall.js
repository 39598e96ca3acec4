// The wall (and the leaderboard, which is laid out the same): cards that fill the frame for 1 to 200
// records. One record is one large card; up to six make a balanced grid; more turn calmly through pages
// of six, every page full (the last one takes its missing cards from the first), never a scrolling list.
import { $, el, lineageText, mediaElement } from "./common.js";
import { formatNumber, t } from "./i18n.js";
import { MIN_TEXT, creditLine, fitOrClamp, fitSize, phrase, unclamp } from "./display_text.js";
import { mediaName } from "./lineage.js";

const PAGE = 6;  // 3 x 2: the most cards a 16:9 frame holds at text the back row reads
const PAGE_SECONDS = 12;  // time to read six tiny stories before the page turns
const TURN_MS = 700;  // the page's fade out, then in (none under prefers-reduced-motion)
const START = { 1: 10, 2: 7, 3: 6.5, 4: 6, 5: 5.4, 6: 5.4 };  // cqh: a short story's size, fitted down from

const wall = { records: [], size: 200, page: 0, fresh: false, shown: false, timer: null, queued: false,
  prompt: null, join: null, onProblem: () => {} };
const calm = () => window.matchMedia("(prefers-reduced-motion: reduce)").matches;

// One record as a card: its picture or film (at least half the card), its words, who made it.
export function card(record, onProblem, extra, family = "wall-card") {
  const item = el("li", `card ${family} kind-${record.kind}`);
  item.dataset.id = record.id;
  if (extra) item.append(extra);
  const media = mediaElement(record, { autoplay: true });
  if (media) {
    media.setAttribute("aria-label", mediaName(record));
    media.addEventListener("error", () => { media.hidden = true; onProblem(record); });
    item.classList.add("has-media");
    item.append(media);
  }
  if (record.text) {
    const text = el("p", "text", record.text);
    text.dir = "auto";
    item.append(text);
  }
  const who = creditLine(record);
  item.append(Object.assign(el("p", "author", who), { dir: "auto" }));
  const from = lineageText(record);  // a remix's lineage is its credits: said once
  if (from && from !== who) item.append(Object.assign(el("p", "lineage", from), { dir: "auto" }));
  return item;
}

// Put `cards` in `list` as the grid for their number (display.css), then fit each card's words to its box.
export function layOut(list, cards) {
  list.dataset.cards = cards.length;
  list.replaceChildren(...cards);
  fitCards(list);
}

// One size for the words of cards of one size (six sizes on a page read as noise): the largest at which
// each fits, never below MIN_TEXT; a card too long even then is clamped with an ellipsis. A film's or
// picture's caption is fitted on its own, in the room its media leaves.
export function fitCards(list) {
  const start = START[Math.min(list.children.length, PAGE)] || START[PAGE];
  const groups = new Map();
  for (const item of list.children) {
    const text = roomFor(item);
    if (!text) continue;
    const box = item.getBoundingClientRect();
    const group = item.classList.contains("has-media") ? item : `${Math.round(box.width)}x${Math.round(box.height)}`;
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push({ item, text });
  }
  for (const [group, cards] of groups) {
    const hero = list.dataset.cards === "3" && cards[0].item === list.firstElementChild;  // the large one of three
    const most = group instanceof Element ? Math.min(start, 5) : hero ? START[1] : start;
    const sizes = cards.map(({ item, text }) => { unclamp(text); return fitSize(text, item, most); });
    const size = Math.max(MIN_TEXT, Math.min(...sizes));
    for (const { item, text } of cards) fitOrClamp(text, item, size);
  }
}

// The picture (at least half the card) and who made it come first; the lineage line goes when there is
// no room for it. Returns the card's words, which take what is left.
function roomFor(item) {
  const text = item.querySelector(".text"), from = item.querySelector(".lineage");
  if (from) from.hidden = false;
  if (text) text.hidden = true;
  if (from && item.scrollHeight > item.clientHeight + 1) from.hidden = true;
  if (text) text.hidden = false;
  return text;
}

// The records on the current page: every page full, wrapping round to the newest.
function pageOf(records, page) {
  if (records.length <= PAGE) return records;
  return Array.from({ length: PAGE }, (_, i) => records[(page * PAGE + i) % records.length]);
}

function pages() {
  return Math.max(1, Math.ceil(wall.records.length / PAGE));
}

function render(turned = false) {
  wall.queued = false;
  if (!wall.shown) return;
  const empty = wall.records.length === 0;
  $("wall-empty").hidden = !empty;
  $("wall").hidden = empty;
  $("wall").dataset.records = wall.records.length;
  $("wall").dataset.page = wall.page;
  if (empty) { askForStories(); return; }
  const before = new Set([...$("wall").children].map((c) => c.dataset.id));
  layOut($("wall"), pageOf(wall.records, wall.page).map((r) => card(r, wall.onProblem)));
  // A card that just arrived rises in; a turned page fades in whole instead.
  if (!turned) for (const item of $("wall").children) if (!before.has(item.dataset.id)) item.classList.add("arriving");
  keepTurning();
}

// Many records arriving at once (a moderator approving a batch) make one new layout, not one each.
function later() {
  if (wall.queued) return;
  wall.queued = true;
  requestAnimationFrame(() => render());
}

function keepTurning() {
  clearTimeout(wall.timer);
  wall.timer = null;
  if (wall.shown && pages() > 1) wall.timer = setTimeout(turn, PAGE_SECONDS * 1000);
}

// The next page; after new records arrived, the newest first (the room waits to see its own).
function turn() {
  const next = wall.fresh ? 0 : (wall.page + 1) % pages();
  wall.fresh = false;
  const go = () => { wall.page = next; render(true); $("wall").classList.remove("turning"); };
  if (calm()) { go(); return; }
  $("wall").classList.add("turning");
  wall.timer = setTimeout(go, TURN_MS);
}

// The empty wall asks the room for the open prompt and shows how to join: latecomers can still scan.
function askForStories() {
  const prompt = wall.prompt;
  $("wall-lead").hidden = !prompt;
  $("wall-prompt").textContent = prompt ? prompt.text : document.querySelector("#scene-join .show-title").textContent;
  $("wall-qr").hidden = !wall.join;
  if (wall.join) {
    $("wall-qr").src = wall.join.qr;
    phrase($("wall-join"), t("Scan to join, or open %(url)s"), { url: el("strong", "url", wall.join.url) });
  }
  const box = $("wall-empty").querySelector(".wall-ask");
  fitOrClamp($("wall-prompt"), box, 9);
}

export function showWall(payload, onProblem) {
  wall.records = payload.records || [];
  wall.size = payload.wall_size || wall.size;
  wall.prompt = payload.prompt || null;
  wall.join = payload.join || wall.join;
  wall.onProblem = onProblem;
  wall.page = 0;
  wall.fresh = false;
  wall.shown = true;
  $("wall").replaceChildren();
  render(true);
}

export function hideWall() {
  wall.shown = false;
  clearTimeout(wall.timer);
  $("wall").replaceChildren();  // no films playing behind another scene
}

export function addToWall(record) {
  if (wall.records.some((r) => r.id === record.id)) return;
  wall.records.unshift(record);
  wall.records.length = Math.min(wall.records.length, wall.size);
  $("wall").dataset.records = wall.records.length;
  // On one page the new card comes in now; on several it heads the next page, so no page is cut short.
  if (wall.records.length <= PAGE) later();
  else { wall.fresh = true; if (!wall.timer) keepTurning(); }
  if (wall.records.length === PAGE + 1) later();  // the grid became a pager: lay out its first page
}

export function removeFromWall(id) {
  const before = wall.records.length;
  wall.records = wall.records.filter((r) => r.id !== id);
  if (wall.records.length === before) return;
  $("wall").dataset.records = wall.records.length;
  wall.page %= pages();
  if (wall.records.length <= PAGE || $("wall").querySelector(`li[data-id="${CSS.escape(id)}"]`)) later();
}

export function setPrompt(prompt) {
  wall.prompt = prompt;
  if (wall.shown && wall.records.length === 0) later();
}

export function refitWall() {
  if (wall.shown) later();
}

// The leaderboard: the most recommended, laid out as the wall is, each card with its place and hearts.
export function showLeaderboard(records, onProblem) {
  layOut($("leaderboard"), records.slice(0, PAGE).map((r, i) => {
    const badge = el("p", "rank");
    badge.append(el("span", "place", formatNumber(i + 1)));
    if (r.recommendations) badge.append(el("span", "hearts", `♥ ${formatNumber(r.recommendations)}`));
    return card(r, onProblem, badge, "board-card");
  }));
}
