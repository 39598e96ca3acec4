// The reference implementation for B1: Node.js with npm socket.io@4.8.4 doing what the night scenario
// asks of Stage (join, submit, recommend, moderate, batched feed updates once a second), in memory.
// `stage rehearse` drives it like a real Stage.   node bench/node_server.js PORT
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
  if (req.method === "GET" && req.url === "/healthz") {
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
    record.status = "approved";
    record.updated_at = Date.now() / 1000;
    dirty.add(record.id);
    ack({ ok: true, record });
  });
});

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

httpServer.listen(Number(process.argv[2]), "127.0.0.1");
