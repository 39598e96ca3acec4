"""What a person does on the phone page, shared by the browser tests."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, WebSocketRoute, expect

SOCKET = re.compile(r"/socket\.io/")

# The phone's outbox as IndexedDB holds it: [{id, kind, text}], or null when there is no such store
# (the page never made it). The test closes its connection so it never blocks the page's upgrades.
READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const request = indexedDB.open("stage-outbox");
  request.onerror = () => reject(request.error);
  request.onsuccess = () => {
    const db = request.result;
    if (!db.objectStoreNames.contains("items")) { db.close(); resolve(null); return; }
    const read = db.transaction("items").objectStore("items").getAll();
    read.onsuccess = () => {
      db.close();
      resolve(read.result.map((i) => ({ id: i.id, kind: i.kind, text: i.text || null })));
    };
    read.onerror = () => { db.close(); reject(read.error); };
  };
})"""


def join(page: Page, url: str, name: str) -> None:
    page.goto(url)
    page.fill("#name", name)
    page.click("#join-form button")
    expect(page.locator("#me")).to_have_text(name)


def draw_a_line(page: Page) -> None:
    """One finger stroke across the canvas, corner to corner."""
    box = page.locator("#canvas").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 20)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 20, box["y"] + box["height"] - 20, steps=8)
    page.mouse.up()


def outbox(page: Page) -> list[dict] | None:
    return page.evaluate(READ_OUTBOX)


class ServerLink:
    """The phone's Socket.IO link to the server, which a test can cut and restore while the page itself
    still loads over HTTP: the server is unreachable for the phone, yet a reload works (going offline
    would cut both, and the reload would fail).

    While the link is up its frames pass through this Python process, and Playwright's sync API moves
    them only during a Playwright call: wait for what the page shows (expect, evaluate), not with a
    Peer's wait_for or a sleep alone, or the phone's frames wait too."""

    # Engine.IO's open packet: a cut link accepts the WebSocket, says hello and drops it at once, the
    # way a failing venue network does, so the page retries on its own schedule. (A mocked socket that
    # is just closed, or never answers, leaves socket.io waiting for its 20 s connect timeout.)
    HELLO = '0{"sid":"cut","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}'

    def __init__(self, page: Page) -> None:
        self.cut_off = False
        self.open: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        page.route_web_socket(SOCKET, self._websocket)
        page.route(SOCKET, self._polling)

    def _websocket(self, ws: WebSocketRoute) -> None:
        if self.cut_off:
            ws.send(self.HELLO)
            ws.close()
            return
        self.open.append((ws, ws.connect_to_server()))

    def _polling(self, route: Route) -> None:
        if self.cut_off:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    def cut(self) -> None:
        self.cut_off = True
        for page_side, server_side in self.open:
            page_side.close()
            server_side.close()
        self.open.clear()

    def restore(self) -> None:
        self.cut_off = False
