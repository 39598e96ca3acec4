// The phone page: join with a device key kept in localStorage, submit stories through an outbox.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const KEY = "stage.deviceKey", NAME = "stage.name", OUTBOX = "stage.outbox", REFUSED = "stage.refused";
  // Answers worth retrying: the server was busy or briefly broken. Anything else is final.
  const TRANSIENT = new Set(["rate_limited", "internal"]);
  const deviceKey = localStorage.getItem(KEY) || Stage.randomKey();
  localStorage.setItem(KEY, deviceKey);

  const records = new Map(JSON.parse(localStorage.getItem(REFUSED) || "[]").map((r) => [r.id, r]));
  let outbox = JSON.parse(localStorage.getItem(OUTBOX) || "[]");  // [{id, prompt, text, state, error}]
  const inflight = new Set();  // ids sent and not answered yet
  let prompt = null, joined = false, retryDelay = 2000, retryTimer = null, remixOf = null, consent = null;
  const joinedListeners = [], promptListeners = [];

  const socket = Stage.connect("/audience");
  Stage.showConnection(socket, $("conn"));

  const saveOutbox = () => localStorage.setItem(OUTBOX, JSON.stringify(outbox));

  function join(name) {
    socket.timeout(8000).emit("join", { device_key: deviceKey, name }, (err, ack) => {
      if (err) return;  // reconnect will join again
      if (!ack.ok) { $("join").hidden = false; Stage.showError($("join-error"), ack.error); return; }
      localStorage.setItem(NAME, ack.participant.name);
      joined = true;
      $("join").hidden = true;
      $("main").hidden = false;
      $("me").textContent = ack.participant.name;
      ack.records.forEach((r) => records.set(r.id, r));
      consent = ack.consent;
      $("consent-text").textContent = consent.text;
      setVolunteer(ack.volunteer);
      setPrompt(ack.prompt);
      renderMine();
      flush();
      joinedListeners.forEach((listener) => listener(ack));
    });
  }

  function setPrompt(p) {
    prompt = p;
    $("prompt-text").textContent = p ? p.text : "Waiting for the host to open a prompt…";
    $("story-form").hidden = !(p && p.kinds.includes("story"));
    updateCount();
    promptListeners.forEach((listener) => listener(p));
  }

  function updateCount() {
    if (!prompt) return;
    const text = $("story").value.trim();
    const words = text ? text.split(/\s+/).length : 0;
    let label = `${text.length}/${prompt.max_chars} characters`;
    if (prompt.max_words) label += ` · ${words}/${prompt.max_words} words`;
    $("count").textContent = label;
    const over = text.length > prompt.max_chars || (prompt.max_words && words > prompt.max_words);
    $("count").dataset.over = over ? "yes" : "no";
  }

  // Exactly once: the id is made here, so a retry of the same item can never make a second record.
  function flush() {
    clearTimeout(retryTimer);
    if (!socket.connected || !joined) return;
    const waiting = outbox.filter((item) => item.state === "waiting");
    waiting.filter((item) => !inflight.has(item.id)).forEach((item) => {
      inflight.add(item.id);
      const payload = { id: item.id, prompt: item.prompt, text: item.text };
      if (item.sources && item.sources.length) payload.sources = item.sources;
      socket.timeout(10000).emit("submit_story", payload, (err, ack) => {
        inflight.delete(item.id);
        if (err || (!ack.ok && TRANSIENT.has(ack.error.code))) return;  // stays in the outbox, retried
        outbox = outbox.filter((o) => o.id !== item.id);
        if (ack.ok) records.set(ack.record.id, ack.record);
        else records.set(item.id, { id: item.id, text: item.text, status: "refused", reason: ack.error.message });
        saveOutbox();
        // A refused story stays on the phone (its text is the author's) even after a reload.
        localStorage.setItem(REFUSED, JSON.stringify([...records.values()].filter((r) => r.status === "refused")));
        renderMine();
      });
    });
    if (waiting.length) {
      retryTimer = setTimeout(flush, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    } else {
      retryDelay = 2000;
    }
  }

  const LABELS = { waiting: "Waiting to send", pending: "Sent — waiting for the host", approved: "On the wall",
    rejected: "Not accepted", refused: "Not accepted", withdrawn: "Withdrawn" };

  function renderMine() {
    const items = [...outbox.map((o) => ({ id: o.id, text: o.text, status: "waiting" })),
      ...[...records.values()].sort((a, b) => (b.created_at || 0) - (a.created_at || 0))];
    $("mine").replaceChildren(...items.map((r) => {
      const li = Stage.el("li", `mine-item status-${r.status}`);
      li.dataset.id = r.id;
      li.dataset.status = r.status;
      const text = Stage.el("p", "text", r.text || (r.media ? `Your ${r.kind}` : ""));
      text.dir = "auto";
      const status = Stage.el("p", "status", LABELS[r.status] || r.status);
      if (r.reason) status.append(Stage.el("span", "reason", `: ${r.reason}`));
      li.append(text, status);
      if (r.status === "pending" || r.status === "approved") {
        const withdraw = Stage.el("button", "secondary withdraw", "Withdraw");
        withdraw.type = "button";
        withdraw.addEventListener("click", () => socket.emit("withdraw", { id: r.id }, (ack) => {
          if (ack.ok) { records.set(r.id, ack.record); renderMine(); }
        }));
        li.append(withdraw);
      }
      return li;
    }));
    $("mine-empty").hidden = items.length > 0;
  }

  socket.on("connect", () => {
    const name = localStorage.getItem(NAME);
    if (name) join(name);
    else $("join").hidden = false;
  });
  socket.on("disconnect", () => { joined = false; });
  socket.on("prompt", (data) => setPrompt(data.prompt));
  socket.on("record_status", (data) => { records.set(data.record.id, data.record); renderMine(); });

  $("join-form").addEventListener("submit", (event) => {
    event.preventDefault();
    join($("name").value);
  });
  $("story").addEventListener("input", updateCount);
  $("story-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("story").value.trim();
    Stage.showError($("story-error"), null);
    if (!text || !prompt) return;
    outbox.push({ id: Stage.uuid4(), prompt: prompt.id, text, state: "waiting", sources: remixOf ? [remixOf.id] : [] });
    setRemix(null);
    saveOutbox();
    $("story").value = "";
    updateCount();
    renderMine();
    retryDelay = 2000;
    flush();
  });
  function setRemix(record) {
    remixOf = record;
    $("remixing").hidden = !record;
    $("remix-of").textContent = record ? `"${record.text.slice(0, 60)}" by ${record.author}` : "";
  }
  $("remix-cancel").addEventListener("click", () => setRemix(null));

  function setVolunteer(standing) {
    $("volunteer-state").textContent = standing
      ? "Thank you! You offered to perform; the host will call you." : "Offer to perform a story tonight; the host picks volunteers.";
    $("volunteer").hidden = Boolean(standing);
    $("withdraw-consent").hidden = !standing;
    $("consent-check").closest("label").hidden = Boolean(standing);
  }

  function volunteer(story) {
    if (!$("consent-check").checked) {
      selectTab("write");
      $("consent-box").open = true;
      Stage.showError($("volunteer-error"), { message: "Read and tick the consent first." });
      $("consent-check").focus();
      return;
    }
    const payload = { consent_version: consent.version };
    if (story) payload.story = story;
    socket.emit("volunteer", payload, (ack) => {
      Stage.showError($("volunteer-error"), ack.ok ? null : ack.error);
      if (ack.ok) setVolunteer(ack.volunteer);
    });
  }
  $("volunteer").addEventListener("click", () => volunteer(null));
  $("withdraw-consent").addEventListener("click", () => socket.emit("withdraw_consent", {}, (ack) => {
    if (ack.ok) setVolunteer(null);
  }));

  function selectTab(name) {
    ["write", "wall", "mine"].forEach((tab) => {
      $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
      $(`view-${tab}`).hidden = tab !== name;
    });
    document.dispatchEvent(new CustomEvent("stage:tab", { detail: name }));
  }
  ["write", "wall", "mine"].forEach((tab) => $(`tab-${tab}`).addEventListener("click", () => selectTab(tab)));

  // What the feed script needs from this page.
  window.StagePhone = {
    socket,
    deviceKey,
    onJoined: (listener) => joinedListeners.push(listener),
    onPrompt: (listener) => promptListeners.push(listener),
    prompt: () => prompt,
    addRecord: (record) => { records.set(record.id, record); renderMine(); },
    remix: (record) => { setRemix(record); selectTab("write"); $("story").focus(); },
    perform: (record) => volunteer(record.id),
  };

  $("name").value = localStorage.getItem(NAME) || "";
  renderMine();
})();
