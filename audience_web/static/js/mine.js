// The Mine tab: what this phone sent, as one list, each with its state in plain words. audience.js owns the
// data (the outbox and the server's records) and calls render(); this module only words and draws it.
import { $, el } from "./common.js";
import { t } from "./i18n.js";
import { stateOf } from "./outbox.js";
import { reasonText } from "./phone_errors.js";

// Plain words for each state: a person in the audience reads these, not the server's statuses.
const LABELS = {
  waiting: () => t("Waiting to send"), sent: () => t("Sent — a moderator reads it next"),
  approved: () => t("On the wall"), "not-accepted": () => t("Not accepted"), withdrawn: () => t("Withdrawn"),
};

// What stands for a record without words: one whole phrase per kind.
function untitled(kind) {
  const phrases = { drawing: t("Your drawing"), photo: t("Your photo"), clip: t("Your clip"), story: t("Your story") };
  return phrases[kind] || t("What you sent");
}

// Why it waits and what the person should do, which depends on where it is kept and the connection.
function waitingHint(saved, connected) {
  if (saved === false) return t("Only on this page: keep it open until it is sent.");
  return connected ? t("Sending…") : t("Saved on this phone: it goes as soon as the connection is back.");
}

// items: [{id, kind, text, status, reason, saved}] newest first; onWithdraw(record) for sent and approved ones;
// errors: record id -> why its withdrawal was refused (shown on the item).
export function render(items, { connected, errors = new Map(), onWithdraw }) {
  $("mine").replaceChildren(...items.map((r) => {
    const state = stateOf(r.status);
    const li = el("li", `mine-item status-${r.status} state-${state}`);
    li.dataset.id = r.id;
    li.dataset.status = r.status;  // the server's word (pending, rejected…), or the phone's waiting / refused
    li.dataset.state = state;      // the one state model: waiting, sent, approved, not-accepted (withdrawn)
    const text = el("p", "text", r.text || untitled(r.kind));
    text.dir = "auto";
    const status = el("p", "status");
    status.append(el("span", "state", LABELS[state]()));
    const reason = reasonText(r.reason);
    if (reason) {
      const why = el("span", "reason", reason);
      why.dir = "auto";  // a moderator's own words may be in another script than the page
      status.append(why);
    }
    if (state === "waiting") status.append(el("span", "hint", waitingHint(r.saved, connected)));
    li.append(text, status);
    if (state === "sent" || state === "approved") {
      const withdraw = el("button", "quiet withdraw", t("Withdraw"));
      withdraw.type = "button";
      withdraw.addEventListener("click", () => onWithdraw(r));
      li.append(withdraw);
    }
    if (errors.has(r.id)) {
      const error = el("p", "error", errors.get(r.id));
      error.setAttribute("role", "alert");
      li.append(error);
    }
    return li;
  }));
  $("mine-empty").hidden = items.length > 0;
}
