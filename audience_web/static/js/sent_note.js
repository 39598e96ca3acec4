// The line under a Send button that says what became of what was just sent, and what happens next: sending,
// kept on the phone until the connection is back, with the moderators, on the wall. It follows the one item
// sent last from that form (older ones are followed on the Mine tab), and changes its text only when the
// state changes, so a screen reader hears each step once (the node is a role=status live region).
export class SentNote {
  // node: the live region; toMine: the "Open Mine" button beside it; words(state) -> the sentence for a
  // state ("sending", "saved", "pending", "approved"; "" for none); waiting(id): whether the outbox still
  // holds it; online(): whether the phone can send now.
  constructor(node, toMine, words, { waiting, online }) {
    Object.assign(this, { node, toMine, words, waiting, online, id: null, answer: null });
  }

  sent(id) {
    this.id = id;
    this.answer = null;
    this.update();
  }

  // The server's final word on an item: ours only if it is the one sent last from this form.
  settled(item, answer) {
    if (item.id !== this.id) return;
    this.answer = answer;
    this.update();
  }

  // The record moved on (record_status: a moderator approved it): the note follows while it is the last one.
  changed(record) {
    if (record.id !== this.id || !this.answer || !this.answer.ok) return;
    this.answer = { ok: true, record };
    this.update();
  }

  clear() {
    this.id = null;
    this.update();
  }

  state() {
    if (!this.id) return "";
    // Refused, rejected or withdrawn: the note steps back; the error beside the form or Mine says why.
    if (this.answer) return this.answer.ok && ["pending", "approved"].includes(this.answer.record.status)
      ? this.answer.record.status : "";
    if (this.waiting(this.id)) return this.online() ? "sending" : "saved";
    return "";
  }

  update() {
    const state = this.state();
    const text = state ? this.words(state) : "";
    if (this.node.textContent !== text) this.node.textContent = text;
    this.node.dataset.state = state || "none";
    this.toMine.hidden = !["saved", "pending", "approved"].includes(state);
  }
}
