// Words on a projector: translated phrases with values inside, type fitted to its box, credit lines.
// Every size is in cqh of #stage-display; nothing is ever smaller than MIN_TEXT (4 % of the screen height:
// what the back row of a 500-seat room still reads on a 1080p projector).
import { t } from "./i18n.js";
import { creditsText, mediaName } from "./lineage.js";

export const MIN_TEXT = 4;

// One translated message whose placeholders are elements (the URL in bold): the language orders the
// sentence, the page only puts each element where its placeholder stands.
export function phrase(node, message, parts) {
  node.replaceChildren(...message.split(/(%\(\w+\)s)/).filter(Boolean).map((piece) => {
    const name = /^%\((\w+)\)s$/.exec(piece);
    return name && parts[name[1]] ? parts[name[1]] : document.createTextNode(piece);
  }));
}

const over = (box) => box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1;

// The largest size from `start` down to MIN_TEXT at which `box` holds `text` (cqh, set as --size).
export function fitSize(text, box, start) {
  let size = start;
  text.style.setProperty("--size", `${size}cqh`);
  while (size > MIN_TEXT && over(box)) {
    size = Math.max(MIN_TEXT, size * 0.92);
    text.style.setProperty("--size", `${size}cqh`);
  }
  return size;
}

// Fit; true if the words fit at MIN_TEXT or larger.
export function fit(text, box, start) {
  fitSize(text, box, start);
  return !over(box);
}

// Fit, and where even MIN_TEXT is too large keep whole lines that fit and end the last with an ellipsis
// (the story scene shows a record in full; a card is a glimpse).
export function fitOrClamp(text, box, start) {
  unclamp(text);
  if (fit(text, box, start)) return;
  text.classList.add("clamped");
  const line = parseFloat(getComputedStyle(text).lineHeight) || 1;
  let lines = Math.max(1, Math.floor((text.clientHeight - (box.scrollHeight - box.clientHeight)) / line));
  text.style.setProperty("--lines", lines);
  while (lines > 1 && over(box)) text.style.setProperty("--lines", --lines);
}

export function unclamp(text) {
  text.style.removeProperty("--lines");
  text.classList.remove("clamped");
}

// Who made a record, as one line for the room. A take or a remix names everyone behind it ("performed by
// Chloé · written by Ada · filmed by Sam", from its structured `credits`, worded by lineage.js); anything
// else is its author's name, with what it was made from on a line of its own (lineageText).
export function creditLine(record) {
  const people = (record.kind === "take" || record.kind === "remix") ? creditsText(record) : "";
  return people || record.author || "";
}

// "Drawn by Bo for a story by Ada": the image scene's credit, one whole phrase per case.
export function imageCredit(record, caption) {
  const name = record.author;
  if (caption) {
    return record.kind === "photo"
      ? t("Photographed by %(name)s for a story by %(writer)s", { name, writer: caption.author })
      : t("Drawn by %(name)s for a story by %(writer)s", { name, writer: caption.author });
  }
  return record.kind === "photo" ? t("Photographed by %(name)s", { name }) : t("Drawn by %(name)s", { name });
}

// The media scene's credit line: everyone behind the film ("filmed by Ada"), else what it is and whose.
export function mediaCredit(record) {
  return creditsText(record) || mediaName(record);
}
