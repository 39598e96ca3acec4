// The host console's part of Stage's own lights (the show's dmx: section): each DMX node's state and the grand
// master. The section stays hidden until the server sends `dmx`, which it does on connect only for a show with a
// dmx: section. Node names, addresses and errors go through textContent, like every other line here.
import { $, call, el } from "./common.js";

const PROTOCOLS = { sacn: "sACN", artnet: "Art-Net" };
const WORDS = {
  ok: "sending", down: "down", unknown: "starting", restarting: "restarting", dry_run: "dry run: logged, not sent",
};
const CLASSES = {
  ok: "is-online", down: "is-offline", dry_run: "is-dry", unknown: "is-unknown", restarting: "is-unknown",
};
// While the fader moves the room follows it at this pace: live enough to judge by eye, without a store write
// and an audit row per pixel of travel. The release (`change`) always sends the level it stopped at.
const SEND_EVERY_MS = 250;

function nodeItem(name, node) {
  const universes = node.universes || [];
  const where = `${PROTOCOLS[node.protocol] || node.protocol} → ${node.address || "multicast"}`
    + ` · universe${universes.length === 1 ? "" : "s"} ${universes.join(", ")}`;
  const state = WORDS[node.status] || node.status;
  const error = node.error ? ` — ${node.error}` : "";
  const li = el("li", CLASSES[node.status] || "", `${name}: ${state}${error}`);
  li.append(el("span", "where", where));
  li.dataset.name = name;
  li.dataset.status = node.status;
  return li;
}

// `report` shows a refused ack where the console shows every other refusal (under GO).
export function lightsControl(socket, report) {
  const fader = $("grand-master");
  let serverLevel = 100, sentLevel = 100, pending = 0, moving = false, sentAt = -Infinity, timer = null;

  const show = (level) => {
    const words = `${Math.round(level)} %${level <= 0 ? " (blackout)" : ""}`;
    $("grand-master-value").textContent = words;
    fader.setAttribute("aria-valuetext", words);
    // Below full the room is dimmer than its looks: the value stands out, so nobody hunts for a "dead" fixture.
    $("grand-master-row").classList.toggle("is-down", level < 100);
  };
  const follow = (level) => {  // the server's level (another console moved it, or our own ack)
    serverLevel = level;
    if (moving || pending) return;  // never pull the fader from under the hand that moves it
    fader.value = String(level);
    show(level);
  };

  const send = async () => {
    clearTimeout(timer);
    timer = null;
    const level = Number(fader.value);
    if (level === (pending ? sentLevel : serverLevel)) return;  // a key press fires input and change: one send
    sentLevel = level;
    sentAt = performance.now();
    pending += 1;
    const ack = await call(socket, "grand_master", { level });
    pending -= 1;
    report(ack);
    if (ack.ok) follow(ack.grand_master);
    else follow(serverLevel);  // refused or unanswered: the fader shows what the room gets
  };

  fader.addEventListener("input", () => {
    moving = true;
    show(Number(fader.value));
    const wait = SEND_EVERY_MS - (performance.now() - sentAt);
    if (wait <= 0) send();
    else if (!timer) timer = setTimeout(send, wait);
  });
  // The hand lets go: `change` fires only when the value differs from where the drag began, so a drag that comes
  // back to its start would never end without the pointer and focus events (its throttled sends went out).
  const release = () => { moving = false; send(); };
  for (const event of ["change", "pointerup", "pointercancel", "blur"]) fader.addEventListener(event, release);

  socket.on("dmx", (data) => {
    $("dmx").hidden = false;
    $("dmx-nodes").replaceChildren(...Object.entries(data.nodes || {}).map(([name, node]) => nodeItem(name, node)));
    follow(data.grand_master);
  });
}

// The PANIC ack as one line: what stopped, what the displays and Stage's lights did (held is the default: a dark
// room full of people is a hazard, so the line says the lights stayed on), and what could not be done.
export function panicLine(panic) {
  const stopped = panic.stopped.length;
  const parts = [stopped ? `stopped ${stopped} cue${stopped === 1 ? "" : "s"}` : "nothing was running"];
  parts.push(panic.scene === "hold" ? "displays held" : `displays to ${panic.scene}`);
  if (panic.lights) parts.push(panic.lights === "blackout" ? "lights blacked out" : "lights held");
  if (panic.problems && panic.problems.length) parts.push(`problems: ${panic.problems.join("; ")}`);
  return `PANIC: ${parts.join(" · ")}`;
}
