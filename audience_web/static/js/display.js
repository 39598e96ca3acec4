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
    const media = guarded(Stage.mediaElement(record, { autoplay: true }), `the ${record.kind} by ${record.author}`);
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

  // A media file that does not load shows nothing rather than a broken frame, and the host is told.
  function report(what) {
    socket.emit("problem", { message: what });
  }
  function guarded(node, what) {
    if (node) node.addEventListener("error", () => { node.hidden = true; report(`${what} could not be shown`); });
    return node;
  }

  // cut: the new scene replaces the old; crossfade: the old fades out over the new one.
  function swap(type, transition) {
    const next = $(`scene-${type}`);
    const current = [...document.querySelectorAll(".scene")].find((s) => !s.hidden && s !== next);
    const seconds = transition && transition.type === "crossfade" ? transition.seconds : 0;
    next.hidden = false;
    next.classList.remove("fading");
    if (current && seconds > 0 && !window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      current.style.setProperty("--fade", `${seconds}s`);
      current.classList.add("fading");
      setTimeout(() => { current.hidden = true; current.classList.remove("fading"); }, seconds * 1000);
    } else if (current) {
      current.hidden = true;
    }
    document.querySelectorAll(".scene").forEach((s) => { if (s !== next && s !== current) s.hidden = true; });
    document.body.dataset.scene = type;
    $("scene-media").querySelectorAll("video, audio").forEach((m) => { if (type !== "media") m.pause(); });
  }

  function show(payload) {
    const type = payload.scene.type;
    swap(type, payload.scene.transition);
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
    } else if (type === "image") {
      const r = payload.record;
      $("image").hidden = !r;
      if (r) { $("image").src = r.media; $("image").alt = `${r.kind} by ${r.author}`; }
      $("image-caption").textContent = payload.caption ? payload.caption.text : "";
      const source = payload.caption ? `, illustrating ${payload.caption.author}` : "";
      $("image-credit").textContent = r ? `${r.kind === "drawing" ? "Drawn" : "Photographed"} by ${r.author}${source}` : "";
    } else if (type === "media") {
      const r = payload.record;
      const player = r ? guarded(Stage.mediaElement(r), `the ${r.kind} by ${r.author}`) : null;
      if (player) { player.controls = false; player.autoplay = true; player.currentTime = 0; }
      $("media-box").replaceChildren(...(player ? [player] : []));
      $("media-credit").textContent = r ? `${r.kind} by ${r.author}` : "";
    } else if (type === "leaderboard") {
      $("leaderboard").replaceChildren(...payload.records.map((r) => {
        const li = Stage.el("li", "board-row");
        const media = guarded(Stage.mediaElement(r, { autoplay: true }), `the ${r.kind} by ${r.author}`);
        if (media) li.append(media);
        const text = Stage.el("p", "text", r.text || "");
        text.dir = "auto";
        li.append(Stage.el("span", "count", `♥ ${r.recommendations}`), text, Stage.el("p", "author", r.author));
        return li;
      }));
    } else if (type === "message") {
      $("message").textContent = payload.scene.text;
    }
  }

  socket.on("connect", () => { $("offline").hidden = true; });
  socket.on("disconnect", () => { $("offline").hidden = false; });
  socket.on("connect_error", (err) => { $("offline").hidden = false; $("offline").textContent = err.message; });
  guarded($("image"), "the picture");
  socket.on("scene", show);
  socket.on("wall_add", (data) => addToWall(data.record));
  socket.on("wall_remove", (data) => {
    const item = $("wall").querySelector(`li[data-id="${CSS.escape(data.id)}"]`);
    if (item) item.remove();
  });
  socket.on("phones", (data) => { $("phone-count").textContent = data.count; });
})();
