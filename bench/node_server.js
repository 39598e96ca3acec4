// The reference implementation for B1: Node.js with npm socket.io@4.8.4 doing what the night scenario
// asks of Stage (join, submit, recommend, moderate, batched feed updates once a second), in memory.
// `stage rehearse` drives it like a real Stage.   node bench/node_server.js PORT [REDIS_URL]
// With REDIS_URL (issue 17's reference): @socket.io/redis-adapter carries every broadcast between processes,
// as python-socketio's Redis manager does for Stage; an approval of a record another process holds is passed
// on with serverSideEmit, and that process batches it into its feed, as each Stage process batches its own.
"use strict";
const http = require("http");
const crypto = require("crypto");
const { Server } = require("socket.io");

const PROMPT = { id: "cape", text: "A tiny story about a cape", kinds: ["story"], max_chars: 280, max_words: null };
const participants = new Map(); // device key -> participant
const phones = new Map(); // socket id -> participant id
const records = new Map();
const recommendations = new Map();
let dirty = new Set();

const httpServer = http.createServer((req, res) => {
  if (req.method === "GET" && (req.url === "/healthz/live" || req.url === "/healthz/conductor")) {
    res.writeHead(200);  // the proxy's checks: every Node process takes phones and consoles alike
    res.end("ok");
  } else if (req.method === "GET" && req.url === "/healthz") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ status: "ok", show: "Node socket.io", phones: phones.size }));
  } else if (req.method === "POST" && req.url === "/login/host") {
    req.resume();
    res.writeHead(302, { Location: "/host", "Set-Cookie": "node=host; Path=/" });
    res.end();
  } else if (req.method === "POST" && req.url.startsWith("/api/rehearsal/")) {
    req.resume();
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ ok: true, token: "node", removed: {}, left: {} }));
  } else {
    res.writeHead(404);
    res.end();
  }
});
// The same Engine.IO timings as Stage (ping every 10 s, 20 s to answer).
const io = new Server(httpServer, { pingInterval: 10000, pingTimeout: 20000, transports: ["websocket", "polling"] });

io.of("/audience").on("connection", (socket) => {
  socket.on("join", (data, ack) => {
    let participant = participants.get(data.device_key);
    if (!participant) {
      participant = { id: crypto.randomUUID(), name: data.name };
      participants.set(data.device_key, participant);
    }
    phones.set(socket.id, participant.id);
    socket.join("phones");
    ack({ ok: true, participant, prompt: PROMPT, records: [] });
  });
  socket.on("submit_story", (data, ack) => {
    const now = Date.now() / 1000;
    const record = { id: data.id, kind: "story", status: "pending", text: data.text, prompt: data.prompt,
      participant: phones.get(socket.id), created_at: now, updated_at: now };
    records.set(record.id, record);
    io.of("/moderation").to("moderators").emit("queue_add", { record });
    ack({ ok: true, record });
  });
  socket.on("recommend", (data, ack) => {
    if (!recommendations.has(data.id)) recommendations.set(data.id, new Set());
    recommendations.get(data.id).add(phones.get(socket.id));
    dirty.add(data.id);
    ack({ ok: true, id: data.id, count: recommendations.get(data.id).size });
  });
  socket.on("disconnect", () => phones.delete(socket.id));
});

io.of("/moderation").on("connection", (socket) => {
  socket.join("moderators");
  socket.on("moderate", (data, ack) => {
    const record = records.get(data.id);
    if (!record) {  // submitted on another process: it approves and batches it
      io.serverSideEmit("approve", data.id);
      ack({ ok: true, record: { id: data.id, status: "approved" } });
      return;
    }
    approve(record);
    ack({ ok: true, record });
  });
});

function approve(record) {
  record.status = "approved";
  record.updated_at = Date.now() / 1000;
  dirty.add(record.id);
}

io.on("approve", (id) => { const record = records.get(id); if (record) approve(record); });

setInterval(() => {
  if (dirty.size === 0) return;
  const batch = dirty;
  dirty = new Set();
  const items = [];
  for (const id of batch) {
    const r = records.get(id);
    if (r && r.status === "approved") {
      items.push({ ...r, approved_at: r.updated_at, recommendations: (recommendations.get(id) || new Set()).size });
    }
  }
  io.of("/audience").to("phones").emit("feed_update", { records: items, removed: [] });
}, 1000);

async function listen() {
  if (process.argv[3]) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: process.argv[3] });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(Number(process.argv[2]), "127.0.0.1");
}
listen();
