// The night's book in print: "Render the book" runs `stage book` on the server (stage/book/jobs.py), one render
// at a time for every console; its steps arrive as book_progress, its end as book_done (the files to fetch)
// or book_failed (why, naming the page when a picture's file is missing or corrupt).
import { $, call, el, showError } from "./common.js";
import { formatTime } from "./i18n.js";
import { plural, socket, whenBook, whenRender } from "./book.js";

// The steps `stage book` reports (stage/book/cli.py and render.py), in the console's words.
const STEPS = {
  starting: "Starting the render", "reading the night": "Reading the night", pictures: "Preparing the pictures",
  typesetting: "Typesetting", "writing the PDF": "Writing the PDF", "HTML edition": "Writing the HTML edition",
  "share statement": "Writing the share statement", done: "Done",
};

let last = null;  // the render as last heard
let book = null;  // the book as last heard
let pressed = false;  // this console started the render running now
let empty = true;  // nothing to print: the button says why instead of rendering an empty book

function show(render) {
  if (!render) return;
  const running = render.state === "running";
  $("render").disabled = running || empty;
  $("render-progress-box").hidden = !running;
  if (running) {
    const progress = $("render-progress");
    progress.max = Math.max(render.total || 1, 1);
    progress.value = Math.min(render.done || 0, progress.max);
    const step = STEPS[render.stage] || render.stage || "Rendering";
    const count = render.total > 1 ? ` (${render.done} of ${render.total})` : "";
    $("render-step").textContent = `${step}${count}…`;
  } else {
    $("render-step").textContent = "";
  }
  showError($("render-error"), render.state === "failed" ? { message: `The render failed: ${render.error}` } : null);
  $("render-result").hidden = render.state !== "ready";
  if (render.state === "ready") {
    const when = render.finished_at ? ` at ${formatTime(render.finished_at * 1000)}` : "";
    $("render-summary").textContent = render.pages
      ? `Rendered${when}: ${plural(render.pages, "printed page", "printed pages")}.` : `Rendered${when}.`;
    $("render-left-out-title").hidden = !(render.left_out || []).length;
    $("render-left-out").replaceChildren(...(render.left_out || []).map((line) => el("li", "left-out", line)));
  }
  last = render;
  showLeftOut();
}

// What the book leaves out now, under the render: only when it is not what the last print left out already.
function showLeftOut() {
  const now = book ? book.left_out : [];
  const printed = last && last.state === "ready" ? last.left_out || [] : null;
  const same = printed !== null && printed.length === now.length && printed.every((line, i) => line === now[i]);
  $("book-left-out").replaceChildren(...(same ? [] : now).map((line) => el("li", "left-out", line)));
  $("book-left-out-title").hidden = same || now.length === 0;
}

whenRender(show);
socket.on("book_progress", show);
socket.on("book_done", (render) => {
  show(render);
  // The console that pressed Render: the files come into view (the side column may have scrolled them away).
  if (pressed) $("render-result").scrollIntoView({ block: "nearest" });
  pressed = false;
});
socket.on("book_failed", (render) => {
  show(render);
  if (pressed) $("render-error").scrollIntoView({ block: "nearest" });
  pressed = false;
});

whenBook((view) => {
  book = view;
  showLeftOut();
  empty = view.totals.pages === 0;
  $("render-hint").textContent = empty
    ? "Add a page (one that may be shown) first: there is nothing to print yet."
    : `Prints ${plural(view.totals.pages, "page", "pages")} at ${view.book.trim.size_mm} mm square, with a cover, `
      + "the contributors' index, an HTML edition and the share statement.";
  $("render").disabled = empty || Boolean(last && last.state === "running");
});

$("render").addEventListener("click", async () => {
  showError($("render-error"), null);
  $("render").disabled = true;
  const ack = await call(socket, "book_render");
  if (!ack.ok) {
    showError($("render-error"), ack.error);
    $("render").disabled = empty;
    return;
  }
  pressed = true;
  show(ack.render);
});
