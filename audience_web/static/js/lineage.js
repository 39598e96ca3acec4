// Who made what, as every page words it. Every phrase is one message of the catalog (i18n.js), so each
// language words it whole rather than from English pieces.
import { t } from "./i18n.js";

// A record as its lineage names it: its words when it has some ("The cape…" by Ada), else its kind.
export function madeBy(record) {
  return record.text
    ? t('"%(words)s" by %(name)s', { words: record.text.slice(0, 60), name: record.author })
    : kindBy(record.kind, record.author);
}

// "a drawing by Ada": one message per kind, so each language words it in full.
export function kindBy(kind, name) {
  const phrases = {
    story: t("a story by %(name)s", { name }), drawing: t("a drawing by %(name)s", { name }),
    photo: t("a photo by %(name)s", { name }), clip: t("a clip by %(name)s", { name }),
    take: t("a take by %(name)s", { name }), remix: t("a remix by %(name)s", { name }),
    comment: t("a comment by %(name)s", { name }),
  };
  return phrases[kind] || t("a contribution by %(name)s", { name });
}

// What a record was made from, as every page words it: "remix of a story by Ada" (a comment is "on"
// the record it answers), several sources joined by `separator`; "" for an original.
export function lineageText(record, separator = ", ") {
  const on = record.kind === "comment";
  return (record.remix_of || []).map((source) => (on ? t("on %(source)s", { source: madeBy(source) })
    : t("remix of %(source)s", { source: madeBy(source) }))).join(separator);
}


// A media element's accessible name: what it is and who made it.
export function mediaName(record) {
  return kindBy(record.kind, record.author);
}
