// A projector display: shows its scene and comes back to it by itself after any reconnect.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const name = document.body.dataset.name, key = document.body.dataset.key;
  const socket = Stage.connect("/display", { auth: { name, key } });
  let wallSize = 24;

  function card(record) {
    const li = Stage.el("li", `wall-card kind-${record.kind}`);
    li.dataset.id = record.id;
    const media = Stage.mediaElement(record, { autoplay: true });
    if (media) li.append(media);
    const text = Stage.el("p", "text", record.text || "");
    text.dir = "auto";
    const author = Stage.el("p", "author", record.author);
    author.dir = "auto";
    li.append(text, author);
    const lineage = (record.remix_of || []).map((s) => `remix of a ${s.kind} by ${s.author}`).join(", ");
    if (lineage) li.append(Stage.el("p", "remix-of", lineage));
    return li;
  }

  function addToWall(record) {
    if ($("wall").querySelector(`li[data-id="${CSS.escape(record.id)}"]`)) return;
    $("wall").prepend(card(record));
    while ($("wall").children.length > wallSize) $("wall").lastElementChild.remove();
  }

  // The largest type at which the whole story fits the screen, whatever its length.
  function fit(text, box) {
    let size = 12;
    text.style.fontSize = `${size}vh`;
    while (size > 1.5 && box.scrollHeight > box.clientHeight) {
      size *= 0.9;
      text.style.fontSize = `${size}vh`;
    }
  }

  function show(payload) {
    const type = payload.scene.type;
    document.querySelectorAll(".scene").forEach((s) => { s.hidden = s.id !== `scene-${type}`; });
    document.body.dataset.scene = type;
    if (type === "join") {
      $("join-qr").src = `${payload.join.qr}?t=${Date.now()}`;
      $("join-url").textContent = payload.join.url;
      $("phone-count").textContent = payload.join.phones;
    } else if (type === "wall") {
      wallSize = payload.wall_size;
      $("wall").replaceChildren(...payload.records.map(card));
    } else if (type === "story") {
      $("story-text").textContent = payload.record ? payload.record.text : "";
      const lineage = payload.record ? (payload.record.remix_of || []).map((s) => `, remix of a ${s.kind} by ${s.author}`).join("") : "";
      $("story-author").textContent = payload.record ? `— ${payload.record.author}${lineage}` : "";
      fit($("story-text"), $("scene-story").querySelector(".story-box"));
    } else if (type === "message") {
      $("message").textContent = payload.scene.text;
    }
  }

  socket.on("connect", () => { $("offline").hidden = true; });
  socket.on("disconnect", () => { $("offline").hidden = false; });
  socket.on("connect_error", (err) => { $("offline").hidden = false; $("offline").textContent = err.message; });
  socket.on("scene", show);
  socket.on("wall_add", (data) => addToWall(data.record));
  socket.on("wall_remove", (data) => {
    const item = $("wall").querySelector(`li[data-id="${CSS.escape(data.id)}"]`);
    if (item) item.remove();
  });
  socket.on("phones", (data) => { $("phone-count").textContent = data.count; });
})();
