// The page's language for its scripts: the same Babel catalog as the page's own text (stage/i18n.py puts it
// in <script id="i18n">). Message ids are the English text, placeholders are %(name)s as in the templates,
// so `make catalogs` extracts t("…") and tn("…", "…", n) from here and {{ _("…") }} from the templates alike.
const data = (() => {
  const node = document.getElementById("i18n");
  try { return node ? JSON.parse(node.textContent) : {}; } catch { return {}; }
})();
const messages = data.messages || {};
export const lang = document.documentElement.lang || "en";
// Gettext's plural forms in Babel's order (zero, one, two, few, many, other: only those the language has);
// Intl names the category of a number, so no plural expression is ever evaluated here.
const pluralTags = data.plural_tags || ["one", "other"];
const plurals = new Intl.PluralRules(lang);
const numbers = new Intl.NumberFormat(lang);

function fill(text, params) {
  return text.replace(/%\((\w+)\)s/g, (whole, key) => (key in params ? format(params[key]) : whole));
}
function format(value) {
  return typeof value === "number" ? numbers.format(value) : String(value);
}

export function t(msgid, params = {}) {
  const found = messages[msgid];
  return fill(typeof found === "string" && found ? found : msgid, params);
}

// One of several forms by the number n (also in params as %(n)s unless params names it).
export function tn(singular, plural, n, params = {}) {
  const forms = messages[singular];
  const all = Object.assign({ n }, params);
  if (Array.isArray(forms) && forms.every(Boolean)) {
    const index = pluralTags.indexOf(plurals.select(n));
    return fill(forms[index < 0 ? forms.length - 1 : index], all);
  }
  return fill(n === 1 ? singular : plural, all);
}

export const formatNumber = (n) => numbers.format(n);
export function formatTime(value) {
  return new Date(value).toLocaleTimeString(lang, { hour: "numeric", minute: "2-digit" });
}
