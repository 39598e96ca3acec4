// The crew console: follows the cue list and the counters; rigs and takes are in takes.js.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const socket = Stage.connect("/crew");
  Stage.showConnection(socket, $("conn"));
  // Only a refused login leaves the page; a restarting server is just "Reconnecting…".
  socket.on("connect_error", (err) => { if (err.message === "log in first") window.location.href = "/login/crew"; });
  // Logged out (in this tab or another) or the session expired: the server disconnects us for good.
  socket.on("session_ended", () => { window.location.href = "/login/crew"; });
  socket.on("cues", (snapshot) => Stage.renderCues($("cues"), snapshot));
  socket.on("counts", Stage.renderCounts);
})();
