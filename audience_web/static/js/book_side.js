// The night's book as a whole: its title, foreword and trim (each saved when it changes, "Saved" or the
// refusal beside the field), its cover (a picture, or a typographic cover), and what it holds so far.
import { $, el, madeBy } from "./common.js";
import { formatTime } from "./i18n.js";
import { edit, plural, seconds, socket, whenBook } from "./book.js";
import { choosePicture, thumbnail } from "./book_media.js";

// Each field: the book_settings key, where its value lives in the book, and the line that says it was saved
// (the three trim fields share one: three narrow columns have no room for a sentence each).
const FIELDS = [
  ["book-title", "title", (b) => b.title, "book-title-state"],
  ["book-foreword", "foreword", (b) => b.foreword, "book-foreword-state"],
  ["book-size", "size_mm", (b) => b.trim.size_mm, "book-trim-state"],
  ["book-margin", "margin_mm", (b) => b.trim.margin_mm, "book-trim-state"],
  ["book-bleed", "bleed_mm", (b) => b.trim.bleed_mm, "book-trim-state"],
];
let book = null;  // the book's own fields as last heard
let cover = null;  // the cover as last heard: the chooser starts from it
const NAMES = { title: "The title", size_mm: "The page size", margin_mm: "The margin", bleed_mm: "The bleed" };

function said([id, , , stateId], text, failed = false) {
  const node = $(stateId);
  node.textContent = text;
  node.classList.toggle("error", failed);
  $(id).setAttribute("aria-invalid", String(failed));
}

// A refusal the browser can give at once, in words (the server's would name the payload field). The field then
// shows the book's value again, so it never shows a size the print will not have.
function problem(field, key, kept) {
  if (key === "title" && !field.value.trim()) return `The book needs a title; it stays “${kept}”.`;
  if (field.type === "number" && (field.value === "" || !field.checkValidity())) {
    return `${NAMES[key]} must be between ${field.min} and ${field.max} mm; it stays ${kept} mm.`;
  }
  return null;
}

FIELDS.forEach((spec) => {
  const [id, key, value] = spec;
  const field = $(id);
  field.addEventListener("input", () => { said(spec, ""); field.dataset.typed = "1"; });
  field.addEventListener("change", async () => {
    const kept = book ? value(book) : "";
    const wrong = problem(field, key, kept);
    if (wrong) {
      delete field.dataset.typed;
      field.value = kept;
      return said(spec, wrong, true);
    }
    said(spec, "Saving…");
    const sent = field.type === "number" ? Number(field.value) : field.value;
    const error = el("span");  // edit() writes the refusal here; it is shown beside the field
    delete field.dataset.typed;
    const ack = await edit("book_settings", { [key]: sent }, error);
    said(spec, ack ? "Saved" : error.textContent, !ack);
  });
});
$("settings-form").addEventListener("submit", (event) => event.preventDefault());  // Enter saves by `change`

whenBook((view) => {
  book = view.book;
  FIELDS.forEach(([id, , value]) => {
    const field = $(id);
    // Another console's edit: shown, except in a field with this curator's unsaved words (being typed, saved on
    // change; or refused, beside its error). A field that only has the focus (Tab passed through it) shows it.
    if (!field.dataset.typed) field.value = value(book) ?? "";
  });
  $("settings-by").textContent = book.updated_at
    ? `Last change: ${whose(book.updated_by)}, at ${formatTime(book.updated_at * 1000)}.` : "";
  showTotals(view);
  showCover(view);
});

// The server names an editor by role and socket ("crew:Ab12Cd34"): this console, or which kind of console.
function whose(actor) {
  if (!actor) return "unknown";
  if (socket.id && actor === `crew:${socket.id.slice(0, 8)}`) return "this console";
  if (actor.startsWith("host:")) return "the host console";
  return actor.startsWith("crew:") ? "another crew console" : actor;
}

// "12 pages by 9 people, from 140 contributions by 60 people tonight"
function showTotals(view) {
  const t = view.totals;
  const out = view.pages.filter((p) => p.left_out).length;
  $("totals").textContent = `${plural(t.pages, "page", "pages")} by ${plural(t.people, "person", "people")}, from `
    + `${plural(t.night_contributions, "contribution", "contributions")} by `
    + `${plural(t.night_people, "person", "people")} tonight`
    + (out ? ` (${plural(out, "page", "pages")} left out)` : "");
  $("pages-title").textContent = view.pages.length ? `Pages (${view.pages.length})` : "Pages";
}

function showCover(view) {
  cover = view.cover;
  if (!cover) {
    const plain = el("div", "cover-plain");
    plain.append(el("span", "cover-plain-title", view.book.title));
    $("cover-picture").replaceChildren(plain);
    $("cover-caption").textContent = "Typographic cover: the title set in type, no picture.";
  } else {
    $("cover-picture").replaceChildren(thumbnail(cover.record, cover.at));
    $("cover-caption").textContent = `Cover: ${madeBy(cover.record)}`
      + (cover.at != null ? `, still at ${seconds(cover.at)}` : "");
  }
  $("cover-plain").disabled = !cover;
}

$("cover-choose").addEventListener("click", () => choosePicture({
  title: "A picture for the cover", current: cover && cover.record.id, at: cover && cover.at,
  use: ({ picture, at }) => edit("book_cover", { record: picture, at }, $("chooser-error")),
}));
$("cover-plain").addEventListener("click", () => edit("book_cover", { record: null }, $("cover-error")));
