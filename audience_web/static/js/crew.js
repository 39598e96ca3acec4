// The crew console: follows the cue list and the counters; rigs and takes are in takes.js, the remix
// panel in remix.js, both on this page's one /crew socket, imported from here.
import { $, connect, renderCounts, renderCues, showConnection } from "./common.js";

export const socket = connect("/crew");
showConnection(socket, $("conn"));
// Only a refused login leaves the page; a restarting server is just "Reconnecting…".
socket.on("connect_error", (err) => { if (err.message === "log in first") window.location.href = "/login/crew"; });
// Logged out (in this tab or another) or the session expired: the server disconnects us for good.
socket.on("session_ended", () => { window.location.href = "/login/crew"; });
socket.on("cues", (snapshot) => renderCues($("cues"), snapshot));
socket.on("counts", renderCounts);
