// The host console: cue list with GO, the moderation queue, live counters.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const socket = Stage.connect("/host");
  Stage.showConnection(socket, $("conn"));
  socket.on("connect_error", () => { window.location.href = "/login/host"; });

  function renderQueueItem(record) {
    const item = $("queue-item").content.firstElementChild.cloneNode(true);
    item.dataset.id = record.id;
    item.querySelector(".text").textContent = record.text;
    item.querySelector(".author").textContent = record.author;
    item.querySelector(".kind").textContent = record.kind;
    item.querySelector(".approve").addEventListener("click", () => decide(record.id, "approve"));
    item.querySelector(".reject").addEventListener("click", () => decide(record.id, "reject"));
    return item;
  }

  function queueChanged() { $("queue-empty").hidden = $("queue").children.length > 0; }

  function removeFromQueue(id) {
    const item = $("queue").querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (item) item.remove();
    queueChanged();
  }

  function decide(id, decision) {
    socket.emit("moderate", { id, decision }, (ack) => {
      if (ack.ok) removeFromQueue(id);
      else Stage.showError($("go-error"), ack.error);
    });
  }

  function go() {
    socket.emit("go", {}, (ack) => Stage.showError($("go-error"), ack.ok ? null : ack.error));
  }

  socket.on("queue", (data) => { $("queue").replaceChildren(...data.records.map(renderQueueItem)); queueChanged(); });
  socket.on("queue_add", (data) => {
    if (!$("queue").querySelector(`li[data-id="${CSS.escape(data.record.id)}"]`)) $("queue").append(renderQueueItem(data.record));
    queueChanged();
  });
  socket.on("queue_remove", (data) => removeFromQueue(data.id));
  socket.on("cues", (snapshot) => Stage.renderCues($("cues"), snapshot));
  socket.on("counts", Stage.renderCounts);
  socket.on("prompt", (data) => { $("prompt-open").textContent = data.prompt ? data.prompt.text : "none"; });
  socket.on("displays", () => {});

  $("go").addEventListener("click", go);
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select") || event.repeat) return;
    const first = $("queue").firstElementChild;
    if (event.code === "Space") { event.preventDefault(); go(); }
    else if (event.key === "a" && first) decide(first.dataset.id, "approve");
    else if (event.key === "r" && first) decide(first.dataset.id, "reject");
  });
})();
