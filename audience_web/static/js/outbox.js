// The phone's one outbox: every story, drawing, photo and clip waits here until the server has
// answered it, across lost Wi-Fi, a closed tab and a reload. IndexedDB keeps text and Blobs alike;
// where it cannot open (private browsing, storage blocked) items wait in this page's memory instead,
// are still sent and retried, and the page tells the person to keep it open.
//
// One retry policy for every kind: an item the server did not take for good is tried again after a
// backoff that doubles from 2 s to at most 30 s, each delay jittered into the upper half of its step
// (1–2 s, 2–4 s, … 15–30 s: a venue's phones lose the Wi-Fi together and must not come back in
// lockstep), and at once, from the bottom of that ladder, when the phone is back (retryNow, called on
// every successful join). Each item keeps its own ladder, so one refused-for-now upload does not hold
// back a story. The id is made once, when the person presses send, so a retry of the same item can
// never make a second record.

const DB_NAME = "stage-outbox", DB_VERSION = 2, STORE = "items";
const LEGACY_STORIES = "stage.outbox";  // where stories waited in localStorage before this outbox
const FIRST_DELAY = 2000, MAX_DELAY = 30000;
// Answers that say "not now" rather than "no": no answer, the network, a busy or briefly broken
// server, a connection that has not joined yet. Anything else is the server's final word.
const RETRY = new Set(["timeout", "network", "internal", "server_error", "rate_limited", "busy", "not_joined"]);

export const isTransient = (error) => !error || RETRY.has(error.code);

// One state per item, whatever its kind, from the server's record status (docs/protocol.md) or,
// before the server has it, "waiting". "refused" is a submission the server turned down outright.
const STATES = { waiting: "waiting", pending: "sent", approved: "approved", rejected: "not-accepted",
  refused: "not-accepted", withdrawn: "withdrawn" };
export const stateOf = (status) => STATES[status] || "sent";

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);  // may throw (SecurityError): the promise rejects
    request.onupgradeneeded = (event) => {
      const db = request.result;
      const items = db.createObjectStore(STORE, { keyPath: "id" });
      // Version 1 kept only media, in "uploads": carry what a phone still holds into the one store.
      if (event.oldVersion === 1 && db.objectStoreNames.contains("uploads")) {
        const old = request.transaction.objectStore("uploads");
        old.getAll().onsuccess = (read) => {
          read.target.result.forEach((item, i) => items.put({ created: i, ...item }));
          db.deleteObjectStore("uploads");
        };
      }
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();  // a newer page in another tab wants to upgrade: let it
      resolve(db);
    };
    request.onerror = () => reject(request.error);
    // An older tab holds the database open and will not let go: treat it as unavailable, not wait.
    request.onblocked = () => reject(new Error("the outbox database is held by another tab"));
  });
}

function legacyStories() {
  try {
    return (JSON.parse(localStorage.getItem(LEGACY_STORIES) || "[]") || [])
      .filter((o) => o && o.id && o.text && o.state !== "sent")
      .map((o, i) => ({ id: o.id, kind: "story", prompt: o.prompt, text: o.text, sources: o.sources || [],
        created: i }));
  } catch (e) {
    return [];  // unreadable: nothing this page could send anyway
  }
}

// Take a sent story out of the legacy list (only used while IndexedDB could not take them over).
function pruneLegacy(id) {
  try {
    const left = JSON.parse(localStorage.getItem(LEGACY_STORIES) || "[]").filter((o) => o.id !== id);
    if (left.length) localStorage.setItem(LEGACY_STORIES, JSON.stringify(left));
    else localStorage.removeItem(LEGACY_STORIES);
  } catch (e) { /* storage gone too: nothing left to prune */ }
}

export class Outbox {
  // canSend(): whether the phone may send now (connected and joined).
  // onChange(): the list of waiting items changed. onSettled(item, answer): the server's final word.
  constructor({ canSend, onChange = () => {}, onSettled = () => {} }) {
    this.canSend = canSend;
    this.onChange = onChange;
    this.onSettled = onSettled;
    this.lanes = new Map();    // kind -> {send(item): Promise<ack-shaped answer>, limit, inFlight}
    this.entries = new Map();  // id -> {item, saved, attempt, timer, sending}
    this.db = openDatabase();
    this.db.catch(() => {});  // a refusal is handled where the database is used, not reported as uncaught
    this.ready = this.load();
  }

  // What sends these kinds: a function of an item that resolves to {ok, record} or {ok: false, error},
  // with at most `limit` of them on their way at once (kinds registered together share it).
  register(kinds, send, { limit = Infinity } = {}) {
    const lane = { send, limit, inFlight: 0 };
    kinds.forEach((kind) => this.lanes.set(kind, lane));
    this.pump();
  }

  async load() {
    const legacy = legacyStories();
    let stored = [];
    try {
      const db = await this.db;
      if (legacy.length) {
        await this.transact(db, "readwrite", (store) => legacy.forEach((item) => store.put(item)));
        localStorage.removeItem(LEGACY_STORIES);  // only once IndexedDB holds them
      }
      stored = await this.transact(db, "readonly", (store) => store.getAll());
      stored.forEach((item) => this.track(item, true));
    } catch (e) {
      // No IndexedDB: the legacy stories stay in localStorage until sent (pruneLegacy), so a phone
      // that could keep them before does not lose them now; they count as saved.
      legacy.forEach((item) => this.track({ ...item, legacy: true }, true));
    }
    this.changed();
    this.pump();  // the phone may have joined while the database was still opening
  }

  transact(db, mode, work) {
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const request = work(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(request && request.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  track(item, saved) {
    if (!this.entries.has(item.id)) this.entries.set(item.id, { item, saved, attempt: 0, timer: null, sending: false });
  }

  // Keep a new item (IndexedDB first, memory when it cannot) and send it as soon as the phone can.
  // Resolves to {saved}: false means it lives only in this page.
  async add(item) {
    await this.ready;
    const full = { created: Date.now(), sources: [], ...item };
    let saved = true;
    try {
      await this.transact(await this.db, "readwrite", (store) => store.put(full));
    } catch (e) {
      saved = false;
    }
    this.track(full, saved);
    this.changed();
    this.pump();
    return { saved };
  }

  // Waiting items, oldest first: {item, saved}.
  waiting() {
    return [...this.entries.values()].sort((a, b) => a.item.created - b.item.created)
      .map(({ item, saved }) => ({ item, saved }));
  }

  // Items of these kinds that only this page holds (shown as a warning until they are sent).
  unsaved(kinds) {
    return [...this.entries.values()].filter((e) => !e.saved && kinds.includes(e.item.kind)).length;
  }

  // The phone is back: forget the backoff, send everything now.
  retryNow() {
    this.entries.forEach((entry) => { clearTimeout(entry.timer); entry.timer = null; entry.attempt = 0; });
    this.pump();
  }

  pump() {
    if (!this.canSend()) return;
    for (const entry of [...this.entries.values()].sort((a, b) => a.item.created - b.item.created)) {
      const lane = this.lanes.get(entry.item.kind);  // none yet: its page module has not registered
      if (lane && lane.inFlight < lane.limit && !entry.sending && !entry.timer) this.send(entry, lane);
    }
  }

  async send(entry, lane) {
    entry.sending = true;
    lane.inFlight += 1;
    let answer;
    try {
      answer = await lane.send(entry.item);
    } catch (e) {
      answer = { ok: false, error: { code: "network", message: String(e) } };
    }
    entry.sending = false;
    lane.inFlight -= 1;
    if (!answer.ok && isTransient(answer.error)) {
      this.schedule(entry);
    } else {
      await this.forget(entry);
      this.onSettled(entry.item, answer);
      this.changed();
    }
    this.pump();
  }

  schedule(entry) {
    const ceiling = Math.min(FIRST_DELAY * 2 ** entry.attempt, MAX_DELAY);
    entry.attempt += 1;
    // "Equal jitter": somewhere in the upper half of the step, never sooner than half of it.
    const delay = ceiling / 2 + Math.random() * ceiling / 2;
    entry.timer = setTimeout(() => { entry.timer = null; this.pump(); }, delay);
  }

  async forget(entry) {
    this.entries.delete(entry.item.id);
    if (entry.item.legacy) pruneLegacy(entry.item.id);
    if (!entry.saved) return;  // (a legacy item is "saved" in localStorage: the delete below just fails)
    try {
      await this.transact(await this.db, "readwrite", (store) => store.delete(entry.item.id));
    } catch (e) { /* the server has it; a leftover copy is sent again and answered with the same record */ }
  }

  changed() {
    this.onChange();
  }
}
