// The night's book: its pages in order, each with its words, picture, credits and, when its story or picture
// was withdrawn since, why it is left out. Reordered by dragging (HTML5 drag and drop) or by Move up / Move
// down from the keyboard; a removal can be undone. Every control calls one /crew book event (book.js).
import { $, el, showError } from "./common.js";
import { creditsText } from "./lineage.js";
import { capital, clip, edit, seconds, state, whenBook } from "./book.js";
import { choosePicture, thumbnail } from "./book_media.js";

const list = $("pages");
const errors = $("pages-error");
const ids = (view) => view.pages.map((p) => p.id);

// The focused control, by page and action, so a redraw (this console's edit or another's) keeps the keyboard
// where it was: pressing Move up again moves the same page again.
function focused() {
  const node = document.activeElement;
  const item = node && node.closest ? node.closest("#pages li") : null;
  return item ? { page: item.dataset.id, action: node.dataset.action } : null;
}

function refocus(where) {
  if (!where) return;
  const item = list.querySelector(`li[data-id="${CSS.escape(where.page)}"]`);
  if (!item) return;
  const wanted = item.querySelector(`[data-action="${where.action}"]:not(:disabled)`);
  (wanted || item.querySelector("button:not(:disabled)") || item).focus();
}

function button(action, text, label, onClick, className = "secondary") {
  const node = el("button", className, text);
  node.type = "button";
  node.dataset.action = action;
  node.setAttribute("aria-label", `${text}, ${label}`);
  node.addEventListener("click", onClick);
  return node;
}

const move = (page, index) => edit("book_move", { page: page.id, index }, errors);

function pageItem(page, count) {
  const item = el("li", "page");
  item.dataset.id = page.id;
  item.draggable = true;
  const label = `page ${page.position}`;
  const number = el("span", "page-number", page.position);
  number.title = "Drag to move this page";
  number.setAttribute("aria-hidden", "true");
  const picture = el("div", "page-picture");
  picture.append(thumbnail(page.picture, page.at));
  const body = el("div", "page-body");
  if (page.story && page.story.text) {
    const words = el("p", "text page-text", clip(page.story.text, 320));
    words.dir = "auto";
    body.append(words);
  } else if (page.story) {  // withheld: the server sends what it was, never its words (they show nowhere now)
    body.append(el("p", "page-text withheld", "A story that may no longer be shown."));
  } else {
    body.append(el("p", "muted page-text", "A picture page (no story)."));
  }
  if (page.credits.length) body.append(el("p", "page-credits", capital(creditsText({ credits: page.credits }))));
  if (page.at != null) body.append(el("p", "muted page-still", `Still at ${seconds(page.at)}`));
  if (page.left_out) {
    item.classList.add("is-left-out");
    const warning = el("p", "left-out");
    warning.append(el("strong", null, "Left out of the book: "), `${page.left_out}. It will not be printed; remove the`
      + " page, or change its picture if that is what was withdrawn.");
    body.append(warning);
  }
  const actions = el("div", "page-actions");
  const up = button("up", "Move up", label, () => move(page, page.position - 2));
  const down = button("down", "Move down", label, () => move(page, page.position));
  up.disabled = page.position === 1;
  down.disabled = page.position === count;
  const change = button("picture", page.picture ? "Change picture" : "Add a picture", label, () => choosePicture({
    title: `A picture for page ${page.position}`, current: page.picture && page.picture.id, at: page.at,
    allowNone: Boolean(page.story && page.picture),
    use: ({ picture, at }) => edit("book_update", { page: page.id, story: page.story ? page.story.id : null,
      picture, at }, $("chooser-error")),
  }));
  const cover = button("cover", "Use as cover", label, () => edit("book_cover",
    { record: page.picture.id, at: page.at }, errors));
  cover.disabled = !page.picture || Boolean(page.left_out);
  const remove = button("remove", "Remove", label, () => removePage(page), "secondary remove");
  actions.append(up, down, change, cover, remove);
  body.append(actions);
  item.append(number, picture, body);
  return item;
}

whenBook((view) => {
  const where = focused();
  const count = view.pages.length;
  list.replaceChildren(...view.pages.map((page) => pageItem(page, count)));
  $("pages-empty").hidden = count > 0;
  refocus(where);
});

// -- remove, and undo ------------------------------------------------------------------------------------

let removed = null;  // the last page removed here: {page, index}
let undoTimer = null;

async function removePage(page) {
  const ack = await edit("book_remove", { page: page.id }, errors);
  if (!ack) return;
  removed = { page, index: page.position - 1 };
  const words = page.story && page.story.text ? `“${clip(page.story.text, 40)}”` : "a picture page";
  $("undo-text").textContent = `Page ${page.position} removed (${words}).`;
  $("undo-bar").hidden = false;
  $("undo-state").textContent = `Page ${page.position} removed. Undo is after the page list.`;
  $("undo").focus();
  clearTimeout(undoTimer);
  undoTimer = setTimeout(() => { $("undo-bar").hidden = true; removed = null; }, 60000);
}

$("undo").addEventListener("click", async () => {
  if (!removed) return;
  const { page, index } = removed;
  const ack = await edit("book_add", { story: page.story ? page.story.id : null,
    picture: page.picture ? page.picture.id : null, at: page.at, index }, errors);
  if (!ack) return;
  removed = null;
  $("undo-bar").hidden = true;
  $("undo-state").textContent = `Page ${index + 1} is back.`;
  const back = ack.pages[Math.min(index, ack.pages.length - 1)];
  refocus(back ? { page: back.id, action: "remove" } : null);
});

// -- drag and drop ------------------------------------------------------------------------------------------

let dragged = null;  // the page id being dragged

const clearMarks = () => list.querySelectorAll(".drop-before, .drop-after, .is-dragged").forEach((n) => {
  n.classList.remove("drop-before", "drop-after", "is-dragged");
});

// Above the middle of a page: before it; below: after it.
const before = (item, event) => event.clientY < item.getBoundingClientRect().top + item.offsetHeight / 2;

list.addEventListener("dragstart", (event) => {
  const item = event.target.closest && event.target.closest("li.page");
  if (!item) return;
  dragged = item.dataset.id;
  event.dataTransfer.effectAllowed = "move";
  event.dataTransfer.setData("text/plain", dragged);
  item.classList.add("is-dragged");
});

list.addEventListener("dragover", (event) => {
  const item = event.target.closest("li.page");
  if (!dragged || !item) return;
  event.preventDefault();
  event.dataTransfer.dropEffect = "move";
  list.querySelectorAll(".drop-before, .drop-after").forEach((n) => n.classList.remove("drop-before", "drop-after"));
  if (item.dataset.id !== dragged) item.classList.add(before(item, event) ? "drop-before" : "drop-after");
});

list.addEventListener("drop", (event) => {
  const item = event.target.closest("li.page");
  const page = dragged;
  clearMarks();
  dragged = null;
  if (!page || !item || item.dataset.id === page || !state.book) return;
  event.preventDefault();
  const order = ids(state.book);
  const from = order.indexOf(page);
  let to = order.indexOf(item.dataset.id) + (before(item, event) ? 0 : 1);
  if (from < to) to -= 1;  // book_move takes the page out first, then inserts it at `to`
  if (from !== to) edit("book_move", { page, index: to }, errors);
});

list.addEventListener("dragend", () => { clearMarks(); dragged = null; });
showError(errors, null);
