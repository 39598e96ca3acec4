// The night's book (/book): the crew's workspace for curating the night into a printed book. This module holds
// the page's one /crew socket and the book as last heard; the panels (book_pages.js, book_picks.js,
// book_side.js, book_render.js) import from here and redraw when it changes. Every edit's ack and every
// `book` event carry the whole book (stage/book/view.py), so a panel only ever draws the latest one.
import { $, call, connect, renderCounts, showConnection, showError } from "./common.js";

export const socket = connect("/crew");
showConnection(socket, $("conn"));
// As on the crew console: only a refused login leaves the page; a restarting server is just "Reconnecting…".
const LOGIN = "/login/crew?next=/book";  // back here once logged in (stage/web/auth.py RETURN_TO)
socket.on("connect_error", (err) => { if (err.message === "log in first") window.location.href = LOGIN; });
socket.on("session_ended", () => { window.location.href = LOGIN; });
socket.on("counts", renderCounts);

// The book as last heard, and what may go in it (book_suggestions: suggestions, stories, pictures).
export const state = { book: null, choices: { suggestions: [], stories: [], pictures: [] } };
const listeners = { book: [], choices: [], render: [] };

// A panel's drawing function, called now if there is something to draw and after every change.
export function whenBook(fn) { listeners.book.push(fn); if (state.book) fn(state.book); }
export function whenChoices(fn) { listeners.choices.push(fn); fn(state.choices); }
export function whenRender(fn) { listeners.render.push(fn); }
export const renderChanged = (render) => listeners.render.forEach((fn) => fn(render));

function show(view) {
  // An ack and the broadcast of the same edit both arrive; an older revision never replaces a newer one.
  // The same revision is drawn again: a re-read after a withdrawal has new left-out pages, not a new revision.
  if (state.book && view.book.revision < state.book.book.revision) return;
  state.book = view;
  listeners.book.forEach((fn) => fn(view));
}

// One question at a time; whatever asks while one is out gets one more after it (a burst is two reads).
function coalesced(task) {
  let running = null;
  let again = false;
  const run = async () => {
    if (running) { again = true; return running; }
    running = task();
    await running;
    running = null;
    if (again) { again = false; run(); }
  };
  return run;
}

export const reread = coalesced(async () => {
  const ack = await call(socket, "book_get");
  showError($("pages-error"), ack.ok ? null : ack.error);
  if (!ack.ok) return;
  show(ack);
  renderChanged(ack.render);
});

export const refreshChoices = coalesced(async () => {
  const ack = await call(socket, "book_suggestions");
  showError($("suggestions-error"), ack.ok ? null : ack.error);
  if (!ack.ok) return;
  state.choices = { suggestions: ack.suggestions, stories: ack.stories, pictures: ack.pictures };
  listeners.choices.forEach((fn) => fn(state.choices));
});

// An edit of the book; its refusal goes to `errorNode` (the field, card or panel it came from). Returns the
// ack when it was taken, else null. The suggestions change with the book (a story in it is not suggested).
export async function edit(event, data, errorNode) {
  const ack = await call(socket, event, data);
  if (errorNode) showError(errorNode, ack.ok ? null : ack.error);
  if (!ack.ok) return null;
  show(ack);
  refreshChoices();
  return ack;
}

// First connect and every reconnect: the whole book again (edits made meanwhile were not heard).
socket.on("connect", () => { reread(); refreshChoices(); });
// Edits, and pages that leave or come back without one (a withdrawal, a moderator's decision, a performer's
// withdrawn consent): the server sends the book each time.
socket.on("book", (view) => { show(view); refreshChoices(); });
// New work and recommendations change the suggestions. The counters come after every decision and, during
// doors, many times a second: the suggestions (a read of the whole night) are asked at most every 15 s.
const SUGGESTIONS_EVERY_MS = 15000;
let lastAsked = 0, pending = null;
function soon() {
  if (pending) return;
  const wait = Math.max(0, lastAsked + SUGGESTIONS_EVERY_MS - Date.now());
  pending = setTimeout(() => { pending = null; lastAsked = Date.now(); refreshChoices(); }, wait);
}
socket.on("counts", soon);
socket.on("takes", soon);

// -- shared wording -------------------------------------------------------------------------------------

export const clip = (text, most) => (text.length > most ? `${text.slice(0, most - 1).trimEnd()}…` : text);
export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
export const seconds = (at) => `${Number(at).toFixed(1)} s`;
export const capital = (text) => text.charAt(0).toUpperCase() + text.slice(1);
