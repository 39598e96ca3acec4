// The host console's "Download the night": start (or join) the export, follow archive_progress, get the zip.
import { $ } from "./common.js";

const STEPS = {
  starting: "Starting the export…",
  snapshot: "Copying the night's database and leaving out what was not approved…",
  report: "Writing the report…",
};
const finished = new Set(); // archives seen ready or failed: a late "running" for one of them is old news
let wanted = false; // this tab pressed the button: it downloads the zip itself when it is ready

function size(bytes) {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

function describe(p) {
  if (p.state === "running") {
    const step = STEPS[p.stage] || `Packing ${p.stage}`;
    return p.total > 1 ? `${step} (${p.done} of ${p.total})` : step;
  }
  if (p.state === "ready") return `Ready: ${p.file}, ${size(p.size)}.`;
  if (p.state === "failed") return `The export failed: ${p.error}. Press the button to try again.`;
  return "";
}

function show(p) {
  if (!p || (p.state === "running" && finished.has(p.file))) return;
  if (p.state === "ready" || p.state === "failed") finished.add(p.file);
  const bar = $("archive-bar"), status = $("archive-status");
  bar.hidden = p.state !== "running";
  bar.max = Math.max(p.total, 1);
  bar.value = p.done;
  status.textContent = describe(p); // the error is the export's own text: textContent, never HTML
  status.className = p.state === "failed" ? "error" : "muted";
  document.body.dataset.archive = p.state;
  $("archive-ready").hidden = p.state !== "ready";
  if (p.state === "ready") {
    $("archive-link").href = p.ready_url;
    $("archive-link").textContent = `Download ${p.file} again`;
    if (wanted) {
      wanted = false;
      $("archive-link").click();
    }
  } else if (p.state === "failed") {
    wanted = false;
  }
}

async function ask(method) {
  try {
    const answer = await fetch("/host/archive", { method, credentials: "same-origin" });
    const body = await answer.json();
    if (!body.ok) throw new Error(body.error.message);
    show(body.progress);
  } catch (err) {
    wanted = wanted && method !== "POST";
    $("archive-status").className = "error";
    $("archive-status").textContent = `Could not reach the export: ${err.message}`;
  }
}

export function archiveControl(socket) {
  socket.on("archive_progress", show);
  // On (re)connect: what happened while this page was away (a run that finished, an archive from before a restart).
  socket.on("connect", () => ask("GET"));
  $("archive-start").addEventListener("click", () => {
    wanted = true;
    ask("POST");
  });
}
