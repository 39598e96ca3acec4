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

// One credit of a record's `credits` ({name, role}, roles as stage/records/credits.py ROLES): "performed by
// Chloé". One message per role; a role this page does not know yet still names the person.
export function creditText(credit) {
  const name = credit.name;
  const phrases = {
    wrote: () => t("written by %(name)s", { name }), drew: () => t("drawn by %(name)s", { name }),
    photographed: () => t("photographed by %(name)s", { name }), filmed: () => t("filmed by %(name)s", { name }),
    performed: () => t("performed by %(name)s", { name }), remix: () => t("remix by %(name)s", { name }),
  };
  return (phrases[credit.role] || (() => name))();
}

// Everyone behind a record, each with what they did: "written by Ada · performed by Chloé · filmed by Sam".
export function creditsText(record, separator = " · ") {
  return (record.credits || []).map(creditText).join(separator);
}

// A role on the credits roll (credits scene, `roles` of a roll entry): "writer", "camera"...
export function roleName(role) {
  const names = {
    wrote: () => t("writer"), drew: () => t("illustrator"), photographed: () => t("photographer"),
    filmed: () => t("camera"), performed: () => t("performer"), remix: () => t("remix"),
  };
  return (names[role] || (() => role))();
}

// What a record was made from, as every page words it. A take or a remix names the people behind it from its
// `credits` ("performed by Chloé · written by Ada · filmed by Sam · remix by Stage crew"); another remix says
// "remix of a story by Ada" (a comment is "on" the record it answers), several sources joined by `separator`;
// "" for an original.
export function lineageText(record, separator = ", ") {
  const on = record.kind === "comment";
  if (!on && (record.kind === "take" || record.kind === "remix") && (record.credits || []).length) {
    return creditsText(record);
  }
  return (record.remix_of || []).map((source) => (on ? t("on %(source)s", { source: madeBy(source) })
    : t("remix of %(source)s", { source: madeBy(source) }))).join(separator);
}


// A media element's accessible name: what it is and who made it (a remix or take: the people behind it).
export function mediaName(record) {
  const credits = (record.kind === "take" || record.kind === "remix") ? creditsText(record, ", ") : "";
  if (!credits) return kindBy(record.kind, record.author);
  return record.kind === "take" ? t("a take, %(credits)s", { credits }) : t("a remix, %(credits)s", { credits });
}
