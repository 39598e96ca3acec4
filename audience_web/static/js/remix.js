// The crew's remix panel: pick a recipe and sources, render (progress, cancel), look, send to moderation.
// Rendering runs in a worker process on the server; this page only sends events and shows what comes back.
import { $, call, el, showError } from "./common.js";
import { roleName } from "./lineage.js";
import { socket } from "./crew.js"; // the page's one /crew socket

let records = [];
let job = null;
let draft = null;

const clip = (text, most = 60) => (text.length > most ? `${text.slice(0, most - 1)}…` : text);

const label = (r) => {
  const text = r.text ? `: ${clip(r.text, 50)}` : "";
  if (r.kind === "take") {
    return `Take ${r.take.number} · ${r.take.performer || "no performer"}${r.take.circled ? " ◯" : ""}`;
  }
  return `${r.kind} by ${r.author}${text}`;
};

// The options again, keeping what the crew had picked (the list refreshes by itself while they choose).
const fill = (select, kinds) => {
  const picked = select.value;
  select.replaceChildren(...records.filter((r) => kinds.includes(r.kind)).map((r) => {
    const option = el("option", null, label(r));
    option.value = r.id;
    return option;
  }));
  if (records.some((r) => r.id === picked && kinds.includes(r.kind))) select.value = picked;
  const empty = !select.options.length;
  select.disabled = empty;
  select.title = empty ? "Nothing to pick yet: approved records and stored takes appear here by themselves" : "";
};

function showSources(data) {
  records = data.records;
  fill($("remix-story"), ["story"]);
  fill($("remix-picture"), ["drawing", "photo"]);
  fill($("remix-take"), ["take"]);
  const ticked = new Set([...document.querySelectorAll("#remix-takes input:checked")].map((box) => box.value));
  $("remix-takes").replaceChildren(...records.filter((r) => r.kind === "take").map((r) => {
    const item = el("li");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = r.id;
    box.checked = ticked.has(r.id);
    const text = el("label", null, label(r));
    text.prepend(box);
    item.append(text);
    return item;
  }));
  $("remix-approve").hidden = !data.crew_approves_own;
}

// Live: what a recipe may use changes when a take is stored, circled, trimmed or hidden (`takes`) and when a
// moderator decides (the `pending` counter moves), so the list follows without a refresh button.
let asking = null, again = false;
async function refresh() {
  if (asking) { again = true; return asking; }  // one question at a time; a burst of changes is one more
  asking = call(socket, "remix_sources", {}).then((ack) => { if (ack.ok) showSources(ack); else fail(ack.error); });
  await asking;
  asking = null;
  if (again) { again = false; refresh(); }
}
socket.on("connect", refresh);
if (socket.connected) refresh(); // a socket shared with crew.js may be connected already
socket.on("takes", refresh);
let pending = null;
socket.on("counts", (counts) => {
  if (pending !== null && counts.pending !== pending) refresh();
  pending = counts.pending;
});

const recipeName = () => $("remix-recipe").value;
$("remix-recipe").addEventListener("change", () => {
  document.querySelectorAll("#remix-form [data-for]").forEach((node) => {
    node.hidden = node.dataset.for !== recipeName();
  });
});

function recipe() {
  const base = { recipe: recipeName(), resolution: $("remix-resolution").value };
  if (base.recipe === "card") return { ...base, story: $("remix-story").value, picture: $("remix-picture").value };
  if (base.recipe === "captioned-take") return { ...base, take: $("remix-take").value };
  return { ...base, takes: [...document.querySelectorAll("#remix-takes input:checked")].map((box) => box.value) };
}

function fail(error) {
  showError($("remix-error"), error);
  $("remix-status").textContent = "";
}

function busy(on) {
  $("remix-render").disabled = on;
  $("remix-cancel").disabled = !on;
  $("remix-progress").hidden = !on;
}

$("remix-form").addEventListener("submit", (event) => {
  event.preventDefault();
  fail(null);
  $("remix-result").hidden = true;
  call(socket, "remix_render", { recipe: recipe() }).then((ack) => {
    if (!ack.ok) return fail(ack.error);
    job = ack.job;
    $("remix-progress").value = 0;
    $("remix-status").textContent = `Rendering ${ack.recipe} (${ack.seconds.toFixed(1)} s)…`;
    busy(true);
  });
});

$("remix-cancel").addEventListener("click", () => {
  if (job) call(socket, "remix_cancel", { job }).then((ack) => { if (!ack.ok) fail(ack.error); });
});

socket.on("remix_progress", (data) => { if (data.job === job) $("remix-progress").value = data.fraction; });
socket.on("remix_failed", (data) => {
  if (data.job !== job) return;
  busy(false);
  job = null;
  fail(data.error);
});
socket.on("remix_done", (data) => {
  if (data.job !== job) return;
  busy(false);
  job = null;
  draft = data;
  $("remix-status").textContent = `Rendered: ${data.duration.toFixed(1)} s. Look, then send it to moderation.`;
  preview(data.media);
  $("remix-poster").hidden = !data.poster;
  if (data.poster) $("remix-poster").src = data.poster;
  renderLineage($("remix-lineage"), data.lineage);
  $("remix-credits").replaceChildren(...data.credits.map((p) => el("li", null,
    `${p.name} — ${p.roles.map(roleName).join(", ")}`)));
  $("remix-result").hidden = false;
});

// The lineage as a tree: the remix, and under each record what it was made from.
function renderLineage(list, graph) {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const from = new Map();
  graph.edges.forEach((e) => from.set(e.to, [...(from.get(e.to) || []), e.from]));
  const item = (id, seen) => {
    const node = nodes.get(id);
    const filmed = node.take && node.take.operator ? `, filmed by ${node.take.operator}` : ", no camera credit";
    const what = node.take
      ? `take ${node.take.number} performed by ${node.take.performer || "nobody named"}${filmed} (rig ${node.take.rig})`
      : `${node.kind} by ${node.author}${node.text ? `: ${clip(node.text)}` : ""}`;
    const li = el("li", `lineage-${node.kind}`, what);
    const sources = (from.get(id) || []).filter((s) => !seen.has(s));
    if (sources.length) {
      const ul = el("ul");
      sources.forEach((s) => ul.append(item(s, new Set([...seen, s]))));
      li.append(ul);
    }
    return li;
  };
  list.replaceChildren(item(graph.root, new Set([graph.root])));
}

// The draft's URL stops answering (404) once it is submitted: the preview lets go of it first, or the
// video's next range request would fail in the crew's console (seen once in three CI runs).
const preview = (media) => {
  const video = $("remix-video");
  if (media) {
    video.src = media;
  } else {
    video.pause();
    video.removeAttribute("src");
    video.load();  // with no src: drops the buffered draft and requests nothing
  }
};

const submit = (approve) => {
  if (!draft) return;
  const media = draft.media;
  preview(null);
  call(socket, "remix_submit", { job: draft.job, approve }).then((ack) => {
    if (!ack.ok) {
      preview(media);  // not taken: the draft is still there to look at
      return fail(ack.error);
    }
    $("remix-status").textContent = approve ? "Approved: it can go to a display." : "Sent to moderation.";
    $("remix-result").hidden = true;
    draft = null;
    refresh();
  });
};
$("remix-submit").addEventListener("click", () => submit(false));
$("remix-approve").addEventListener("click", () => submit(true));
