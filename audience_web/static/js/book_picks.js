// The night's book: where pages come from. The night's own suggestions (book_suggestions), grouped by why
// they are suggested, each one "Add page" away; and any approved story, found by its words or its writer.
import { $, el, showError } from "./common.js";
import { clip, edit, refreshChoices, state, whenBook, whenChoices } from "./book.js";
import { pictureLabel, thumbnail } from "./book_media.js";

const GROUPS = [
  ["recommended", "Most recommended", "stories the audience recommended, with the first drawing of each"],
  ["circled", "Circled takes", "the takes the crew circled, with the story performed"],
  ["remix", "Remix cards", "a story and a picture already paired on a remix card"],
  ["projected", "Put on a projector", "what the host and the moderators showed tonight"],
];
const SHOWN = 150;  // stories listed at once: the filter finds the rest

let counter = 0;
const uid = (prefix) => `${prefix}-${++counter}`;

function storyText(story, most) {
  const words = el("p", "text pick-text", clip(story.text || "", most));
  words.dir = "auto";
  words.id = uid("pick-text");
  return words;
}

function suggestionCard(suggestion) {
  const card = el("li", "suggestion");
  card.dataset.reason = suggestion.reason;
  const picture = el("div", "suggestion-picture");
  picture.append(thumbnail(suggestion.picture, suggestion.at));
  const body = el("div", "suggestion-body");
  const described = [];
  if (suggestion.story) {
    const words = storyText(suggestion.story, 180);
    body.append(words, el("p", "muted pick-by", `by ${suggestion.story.author}`));
    described.push(words.id);
  }
  if (suggestion.picture) body.append(el("p", "muted pick-by", `Picture: ${pictureLabel(suggestion.picture)}`));
  const why = el("p", "why", suggestion.why);
  why.id = uid("why");
  described.push(why.id);
  const add = el("button", "add-page", "Add page");
  add.type = "button";
  add.setAttribute("aria-describedby", described.join(" "));
  const error = el("p", "error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  add.addEventListener("click", async () => {
    add.disabled = true;
    const ack = await edit("book_add", { story: suggestion.story && suggestion.story.id,
      picture: suggestion.picture && suggestion.picture.id, at: suggestion.at }, error);
    if (!ack) add.disabled = false;
  });
  body.append(why, add, error);
  card.append(picture, body);
  return card;
}

// The keyboard stays in the list: after "Add page" its card leaves, and the next card's button has the focus.
const focusedAdd = (box, selector) => [...box.querySelectorAll(selector)].indexOf(document.activeElement);
function refocusAdd(box, selector, index) {
  const buttons = box.querySelectorAll(`${selector}:not(:disabled)`);
  if (index >= 0 && buttons.length) buttons[Math.min(index, buttons.length - 1)].focus();
}

whenChoices(({ suggestions }) => {
  const box = $("suggestion-groups");
  const where = focusedAdd(box, ".add-page");
  const groups = GROUPS.map(([reason, title, about]) => {
    const found = suggestions.filter((s) => s.reason === reason);
    if (!found.length) return null;
    const group = el("section", "suggestion-group");
    const heading = el("h3", null, `${title} `);
    heading.id = uid("group");
    heading.append(el("span", "muted", `(${found.length})`));
    const items = el("ul", "suggestion-list");
    items.setAttribute("aria-labelledby", heading.id);
    items.append(...found.map(suggestionCard));
    group.append(heading, el("p", "muted hint", capitalized(about)), items);
    return group;
  }).filter(Boolean);
  box.replaceChildren(...groups);
  $("suggestions-empty").hidden = groups.length > 0;
  refocusAdd(box, ".add-page", where);
  showStories();
});

const capitalized = (text) => text.charAt(0).toUpperCase() + text.slice(1);

$("suggestions-refresh").addEventListener("click", async () => {
  $("suggestions-state").textContent = "Looking…";
  await refreshChoices();
  $("suggestions-state").textContent = "Up to date.";
});

// -- any approved story ------------------------------------------------------------------------------------

function storyItem(story, pages) {
  const item = el("li", "story-pick");
  const words = storyText(story, 140);
  item.append(words, el("p", "muted pick-by", `by ${story.author}`));
  const page = pages.get(story.id);
  if (page) {
    item.classList.add("is-in-book");
    item.append(el("p", "in-book", `In the book: page ${page}`));
    return item;
  }
  const add = el("button", "secondary add-story", "Add page");
  add.type = "button";
  add.setAttribute("aria-describedby", words.id);
  const error = el("p", "error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  add.addEventListener("click", async () => {
    add.disabled = true;
    if (!(await edit("book_add", { story: story.id }, error))) add.disabled = false;
  });
  item.append(add, error);
  return item;
}

function showStories() {
  const words = $("story-filter").value.trim().toLowerCase();
  const all = state.choices.stories;
  const found = all.filter((s) => !words || `${s.text || ""} ${s.author || ""}`.toLowerCase().includes(words));
  const where = focusedAdd($("story-list"), ".add-story");
  const pages = new Map((state.book ? state.book.pages : []).filter((p) => p.story).map((p) => [p.story.id,
    p.position]));
  $("story-list").replaceChildren(...found.slice(0, SHOWN).map((story) => storyItem(story, pages)));
  refocusAdd($("story-list"), ".add-story", where);
  const more = found.length > SHOWN ? `, the first ${SHOWN} shown: narrow the search` : "";
  $("stories-count").textContent = all.length
    ? `${found.length} of ${all.length} approved ${all.length === 1 ? "story" : "stories"}${more}`
    : "No approved stories yet.";
  showError($("stories-error"), null);
}

$("story-filter").addEventListener("input", showStories);
whenBook(showStories);
