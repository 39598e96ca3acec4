// Performing: the offer to go on stage, with the show's consent text. From the Write tab ("I'd like to
// perform") or from a story on the wall ("Perform this"). Each is answered where it was tapped and names the
// story; without consent the person is taken to the box to tick, and told so right beside it.
import { $, call, showError } from "./common.js";
import { t } from "./i18n.js";
import { onJoined, selectTab, socket } from "./audience.js";
import { explained } from "./phone_errors.js";

const PERFORMING = "stage.performing";  // the story offered, so its words can be named after a reload
let consent = null, standing = null, chosen = null, withdrew = false;
const standingListeners = [];
export const onStanding = (listener) => standingListeners.push(listener);  // the offer changed (feed.js)

// A story as the phone names it in a sentence: its first words.
export const excerpt = (record) => {
  const text = (record && record.text) || "";
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
};

function offeredStory() {
  if (!standing || !standing.story_id) return null;
  try {
    const kept = JSON.parse(localStorage.getItem(PERFORMING) || "null");
    return kept && kept.id === standing.story_id ? kept : null;
  } catch (e) {
    return null;
  }
}

const offered = (story) => t("Thank you! You offered to perform “%(story)s” — "
  + "the host picks volunteers and will call you.", { story: excerpt(story) });

function thanks() {
  const story = offeredStory();
  return story ? offered(story)
    : t("Thank you! You offered to perform — the host picks volunteers and will call you.");
}

function stateText() {
  if (standing) return thanks();
  if (withdrew) return t("Your consent is withdrawn: the host will not call you, and your takes are hidden.");
  if (chosen) {
    return t("You picked “%(story)s” to perform. Tick the box below, then press “I'd like to perform”.",
      { story: excerpt(chosen) });
  }
  return t("Offer to perform a story tonight; the host picks volunteers.");
}

function show() {
  $("volunteer-state").textContent = stateText();
  $("volunteer").hidden = Boolean(standing);
  $("withdraw-consent").hidden = !standing;
  $("consent-check").closest("label").hidden = Boolean(standing);
  $("perform-cancel").hidden = !chosen || Boolean(standing);
  if (standing) showError($("consent-error"), null);
}

function setStanding(value) {
  if (value) withdrew = false;
  standing = value;
  show();
  standingListeners.forEach((listener) => listener(standing));
}

onJoined((state) => {
  if (state.consent) {
    consent = state.consent;
    // The standard text reads in the phone's language; a show's own text as the show wrote it.
    $("consent-text").textContent = consent.standard ? $("standard-consent").content.textContent : consent.text;
  }
  setStanding(state.volunteer);
});

// Consent counts once ticked, or once given before (an offer stands: its box is no longer shown).
const agreed = () => Boolean(standing) || $("consent-check").checked;

// Without consent: to the box on the Write tab, the reason right beside it, in view, the box focused.
function askForConsent() {
  selectTab("write");
  $("consent-box").open = true;
  showError($("consent-error"), { message: t("Tick the box to agree first, then press “I'd like to perform”.") });
  $("consent-check").closest("label").scrollIntoView({ block: "center" });
  $("consent-check").focus({ preventScroll: true });
}

// Offer to perform (a given story or any); resolves to the ack.
async function offer(story) {
  const payload = { consent_version: consent.version };
  if (story) payload.story = story.id;
  const ack = await call(socket, "volunteer", payload);
  if (ack.ok) {
    if (story) localStorage.setItem(PERFORMING, JSON.stringify({ id: story.id, text: story.text }));
    chosen = null;
    setStanding(ack.volunteer);
  }
  return ack;
}

$("consent-check").addEventListener("change", () => { if (agreed()) showError($("consent-error"), null); });
$("volunteer").addEventListener("click", async () => {
  showError($("volunteer-error"), null);
  if (!agreed()) return askForConsent();
  const ack = await offer(chosen);
  showError($("volunteer-error"), explained(ack.ok ? null : ack.error, { kind: "volunteer" }));
});
$("withdraw-consent").addEventListener("click", async () => {
  const ack = await call(socket, "withdraw_consent", {});
  showError($("volunteer-error"), explained(ack.ok ? null : ack.error));
  if (!ack.ok) return;
  $("consent-check").checked = false;  // consenting again means ticking again
  withdrew = true;
  setStanding(null);
});
$("perform-cancel").addEventListener("click", () => { chosen = null; show(); });

// What a card of the wall says when this phone's standing offer is its story ("" otherwise): drawn again
// whenever the wall is, so the answer stays on the card.
export const offerOn = (record) => (standing && standing.story_id === record.id ? offered(record) : "");

// "Perform this" on a card of the wall: the answer goes to that card (say(message, isError)).
export async function performFromCard(record, say) {
  if (!agreed()) {
    chosen = record;
    show();
    say(t("First tick the consent box on the Write tab."), false);
    return askForConsent();
  }
  say(t("Offering…"), false);
  const ack = await offer(record);
  if (ack.ok) {
    say(offered(record), false);
  } else {
    say(explained(ack.error, { kind: "volunteer" }).message, true);
  }
}
