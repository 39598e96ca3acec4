// What a refusal means, in the phone's language. The server's ack carries a stable `code` and an English
// message for logs and consoles; a phone shows the code's own message from the catalog instead, with the
// show's limits as numbers, so nothing English reaches a phone that reads Spanish or Arabic. A code this
// list does not know gets a translated generic message (never the server's English).
import { t, tn } from "./i18n.js";

// The server's own limits (stage/records/participants.py NAME_MAX, submissions.py COMMENT_MAX_CHARS,
// stage/night/audience.py MAX_CLIP_SECONDS): fixed in code, not per show, so they are fixed here too.
export const NAME_MAX = 40;
export const COMMENT_MAX = 280;
export const CLIP_MAX_SECONDS = 60;

const GENERIC = () => t("Something went wrong. Please try again.");
const RETRY_LATER = () => t("The server could not do that just now. Please try again in a moment.");
const UNREADABLE = () => t("The server could not read that. Reload the page and try again.");

// A kind that the open prompt does not take, one whole sentence per kind.
function notOpen(kind) {
  const phrases = { story: t("This prompt does not take stories."), drawing: t("This prompt does not take drawings."),
    photo: t("This prompt does not take photos."), clip: t("This prompt does not take clips.") };
  return phrases[kind] || t("This prompt does not take that.");
}

// A story over the prompt's limits (the words limit only when the prompt has one).
export function storyLimit(prompt) {
  if (!prompt) return t("Your story is too long.");
  if (prompt.max_words) {
    return t("Your story is too long: at most %(chars)s characters and %(words)s words.",
      { chars: prompt.max_chars, words: prompt.max_words });
  }
  return tn("Your story is too long: at most %(n)s character.", "Your story is too long: at most %(n)s characters.",
    prompt.max_chars);
}

function tooLong({ kind, prompt }) {
  if (kind === "comment") {
    return tn("A comment has at most %(n)s character.", "A comment has at most %(n)s characters.", COMMENT_MAX);
  }
  if (kind === "clip") {
    return tn("That clip is longer than %(n)s second.", "That clip is longer than %(n)s seconds.", CLIP_MAX_SECONDS);
  }
  return storyLimit(prompt);
}

function empty(kind) {
  if (kind === "story") return t("Write your story first.");
  if (kind === "comment") return t("Write a comment first.");
  return t("That file is empty. Please try again.");
}

function tooLarge({ maxBytes }) {
  const mb = Math.floor((maxBytes || 0) / (1024 * 1024));
  return mb > 0 ? t("That file is too big: the limit is %(mb)s MB.", { mb }) : t("That file is too big.");
}

function notApproved({ kind }) {
  if (kind === "volunteer") return t("Only a story on the wall can be performed.");
  if (kind === "recommend") return t("Only what is on the wall can be recommended.");
  return t("That is not on the wall any more.");
}

const MESSAGES = {
  timeout: () => t("The server did not answer. Try again."),
  network: () => t("The connection dropped. It is sent again as soon as it is back."),
  rate_limited: () => t("That was a lot at once: wait a few seconds, then try again."),
  busy: () => t("The server is busy with other uploads: yours goes in a moment."),
  internal: RETRY_LATER, server_error: RETRY_LATER, store: RETRY_LATER, store_unreachable: RETRY_LATER,
  not_joined: () => t("This phone is still joining. Try again in a moment."),
  unknown_phone: () => t("This phone is still joining. Try again in a moment."),
  banned: () => t("This phone can no longer send anything tonight."),
  full: () => t("The show is full right now. Try again in a moment."),
  name_empty: () => t("Pick a name first."),
  name_too_long: () => tn("A name has at most %(n)s character.", "A name has at most %(n)s characters.", NAME_MAX),
  already_joined: () => t("This page already joined as someone else. Reload the page."),
  prompt_closed: () => t("That prompt is closed now. Wait for the host to open the next one."),
  not_found: () => t("That is not there any more."),
  kind_not_open: ({ kind }) => notOpen(kind),
  empty: ({ kind }) => empty(kind),
  too_long: tooLong,
  too_large: tooLarge,
  unsupported: () => t("That kind of picture is not accepted. Please send a JPEG, PNG, WebP, GIF or HEIC photo."),
  too_many_pixels: () => t("That picture is too big. Please send a smaller one."),
  undecodable: ({ kind }) => (kind === "clip" ? t("That clip could not be read to the end. Please send it again.")
    : t("That picture could not be read. Please send it again.")),
  not_media: () => t("That file is not a video or sound clip. Please record it again."),
  source_not_approved: () => t("What you built on has left the wall. Pick another one."),
  not_approved: notApproved,
  consent_changed: () => t("The consent text changed. Read it again and tick the box."),
  not_yours: () => t("Only its author can withdraw it."),
  id_conflict: GENERIC,
  invalid_payload: UNREADABLE, invalid: UNREADABLE, unknown_event: UNREADABLE,
};

// The sentence for a refusal. context: {kind: "story" | "drawing" | "photo" | "clip" | "comment" | "recommend" |
// "volunteer" | "join", prompt: the open prompt (its limits), maxBytes: the server's upload cap}.
export function explain(error, context = {}) {
  if (!error) return "";
  const message = MESSAGES[error.code];
  return message ? message(context) : GENERIC();
}

// showError's shape ({message}) from an ack's error, translated; null stays null (clears the message).
export const explained = (error, context) => (error ? { message: explain(error, context) } : null);

// A moderator's reason reaches the phone as the moderator typed it (their words: shown as they are);
// the server's own reasons are English words of the code and get their translated sentence.
const REASONS = { banned: () => t("This phone can no longer send anything tonight."),
  "hidden by a moderator": () => t("A moderator took it off the wall.") };
export const reasonText = (reason) => (reason && REASONS[reason] ? REASONS[reason]() : reason || "");
