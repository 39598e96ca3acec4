"""A hostile phone at the transport: oversized and malformed websocket frames, oversized polling POSTs.

Raw clients (websocket-client, plain sockets, requests) speak Engine.IO by hand, so the test sends
exactly the bytes an attacker would; the other phones are ordinary python-socketio peers.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import websocket

from stage.realtime.allowances import PHONE
from tests.agent_peer import AgentPeer
from tests.conftest import PeerFactory, demo_show
from tests.peers import go
from tests.stage_process import StageProcess
from tests.waiting import wait_until

PHONE_CAP, PHONE_BURST = PHONE.cap, PHONE.burst
MASK = b"\x11\x22\x33\x44"


@pytest.fixture(params=["gevent", "eventlet"])
def server(request, tmp_path: Path):
    stage = StageProcess(demo_show(tmp_path), tmp_path / "data", async_mode=request.param).start()
    peers = PeerFactory(stage)
    yield stage, peers
    stage.stop()
    peers.close_all()


def raw_phone(url: str) -> websocket.WebSocket:
    """An Engine.IO websocket connected to /audience, spoken by hand."""
    ws = websocket.create_connection(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket", timeout=10)
    assert ws.recv().startswith("0{")
    ws.send("40/audience,")
    assert ws.recv().startswith("40/audience,")
    return ws


def closed_by_server(ws: websocket.WebSocket, timeout: float = 10) -> int | None:
    """Read until the server closes: its close code (None for a bare EOF). Fails if it never does.

    Frames are read one by one (``recv_frame``), not by ``recv_data``, which answers a close frame with
    its own: the server has dropped the connection by then, and that answer fails with EPIPE."""
    ws.settimeout(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = ws.recv_frame()
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            return None
        except websocket.WebSocketTimeoutException:
            break
        if frame.opcode == websocket.ABNF.OPCODE_CLOSE:
            return struct.unpack("!H", frame.data[:2])[0] if len(frame.data) >= 2 else None
        if frame.opcode == websocket.ABNF.OPCODE_TEXT and frame.data == b"2":  # engine.io ping: stay alive
            ws.send("3")
    raise AssertionError("the server did not close the connection")


def feed_event(pad: int) -> str:
    return '42/audience,1["feed",{"limit":1,"pad":"' + "a" * pad + '"}]'


def ack_of(ws: websocket.WebSocket) -> dict:
    """The next Socket.IO ack on /audience (events and pings in between are skipped or answered)."""
    while True:
        message = ws.recv()
        if message == "2":
            ws.send("3")
        elif message.startswith("43/audience,"):
            return json.loads(message.split("[", 1)[1][:-1])


def test_a_phone_over_its_cap_is_closed_while_other_phones_keep_getting_acks(server):
    stage, peers = server
    other = peers.phone("Bo")
    attacker = raw_phone(stage.url)
    acks: list[dict] = []
    done = threading.Event()

    def keep_asking() -> None:
        while not done.wait(0.2):  # a phone's pace, under /audience's own flood limit (20 per 2 s)
            acks.append(other.call("feed", {"limit": 1}))

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    try:
        for _ in range(5):  # at the cap: read and answered (the pad is not a field of feed)
            attacker.send(feed_event(PHONE_CAP - 100))
            assert ack_of(attacker)["error"]["code"] == "invalid_payload"
        for _ in range(30):  # the finding's frames: 320,000 bytes each; the first one ends the connection
            try:
                attacker.send(feed_event(320_000))
            except (OSError, websocket.WebSocketException):
                break
        assert closed_by_server(attacker) in (1009, None)
        count = wait_for_more(acks, 3)  # the other phone is still served
    finally:
        done.set()
        asker.join(timeout=15)
    assert len(acks) >= count + 3 and all(ack["ok"] for ack in acks)
    assert other.client.connected and other.call("feed", {"limit": 1})["ok"]
    assert "websocket from 127.0.0.1 closed" in stage.log_text()  # one line says why


def send_until_closed(ws: websocket.WebSocket, message: str, count: int) -> int:
    """Send ``message`` up to ``count`` times back to back, without reading; how many went out."""
    for sent in range(count):
        try:
            ws.send(message)
        except (OSError, websocket.WebSocketException):  # the server closed it meanwhile
            return sent
    return count


def live_greenlets(crew: requests.Session, url: str) -> int:
    return crew.get(f"{url}/healthz", timeout=10).json()["greenlets"]


def test_a_phone_sending_cap_sized_frames_back_to_back_is_closed_after_its_budget(server):
    """The benchmark's attack: 128 KiB frames, each under the cap, as fast as one connection goes.
    Before the byte budget every frame was decoded and queued a greenlet that could not run: the
    others stalled and the server grew by gigabytes. Now the sender is closed with 1008 (policy)."""
    stage, peers = server
    other = peers.phone("Bo")
    crew = stage.login("crew")
    settled = live_greenlets(crew, stage.url)
    attacker = raw_phone(stage.url)
    frames = 4 * PHONE_BURST // PHONE_CAP  # four times what its budget allows at once: 3 MiB
    send_until_closed(attacker, feed_event(PHONE_CAP - 100), frames)
    assert closed_by_server(attacker) in (1008, None)
    assert other.client.connected and other.call("feed", {"limit": 1})["ok"]
    # what the flood queued is gone, not piled up in greenlets
    wait_until(lambda: live_greenlets(crew, stage.url) <= settled + 10, what="the flood's greenlets to end")
    assert "over this connection's byte budget" in stage.log_text()  # one line says why


def test_a_16_mib_frame_is_refused_from_its_header_before_its_payload_is_sent(server):
    stage, _ = server
    attacker = raw_phone(stage.url)
    size = 16 * 1024 * 1024
    header = bytes([0x81, 0x80 | 127]) + struct.pack("!Q", size) + MASK
    attacker.sock.sendall(header + b"42/audience,")  # the header and a few bytes: far from the 16 MiB
    assert closed_by_server(attacker) == 1009  # "message too big", answered to the header alone
    attacker.sock.settimeout(10)
    with pytest.raises(ConnectionError):  # the server dropped the TCP connection: the rest cannot be sent
        for _ in range(size // 65536):
            attacker.sock.sendall(bytes(65536))
    assert requests.get(f"{stage.url}/healthz", timeout=5).ok


def test_binary_and_fragmented_messages_are_capped_in_total(server):
    stage, _ = server
    binary = raw_phone(stage.url)
    binary.send_binary(bytes(PHONE_CAP + 1))
    assert closed_by_server(binary) in (1009, None)  # None: the TCP reset beat the close frame; the log says why
    assert refused_over(PHONE_CAP, stage)
    fragmented = raw_phone(stage.url)  # frames under the cap each, over it together
    piece = "a" * (PHONE_CAP // 4)
    frames = [websocket.ABNF.create_frame('42/audience,["feed",{"pad":"' + piece, websocket.ABNF.OPCODE_TEXT, fin=0)]
    frames += [websocket.ABNF.create_frame(piece, websocket.ABNF.OPCODE_CONT, fin=0) for _ in range(5)]
    try:
        for frame in frames:
            fragmented.send_frame(frame)
    except OSError:  # the server closed on the frame that went over the cap
        pass
    assert closed_by_server(fragmented) in (1009, None)
    assert refused_over(PHONE_CAP, stage)


def test_the_largest_event_a_phone_may_send_passes_the_transport(server):
    """A story at the payload model's 10,000-character limit reaches the domain (which answers with
    the prompt's own limit) instead of being cut off by the transport."""
    stage, peers = server
    host = peers.host()
    go(host), go(host)  # the demo's first prompt opens
    phone = peers.phone("Ada")
    # In emoji: python-socketio's JSON escapes each as 12 bytes, ~120 KB for the whole message.
    text = "\U0001F9B8" * 10_000
    ack = phone.call("submit_story", {"id": str(uuid.uuid4()), "prompt": "cape", "text": text})
    assert ack["ok"] is False and ack["error"]["code"] == "too_long", ack
    assert phone.client.connected and phone.call("feed", {"limit": 1})["ok"]


def test_an_oversized_polling_post_is_answered_at_once_and_its_session_dropped(server):
    stage, _ = server
    base = f"{stage.url}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(base, timeout=10)
    sid = json.loads(opened.text[1:])["sid"]
    assert requests.post(f"{base}&sid={sid}", data="40/audience,", timeout=10).text == "OK"
    answer = requests.post(f"{base}&sid={sid}", data="4" + "a" * 400_000, timeout=10)
    assert answer.status_code == 413
    assert answer.json()["ok"] is False and answer.json()["error"]["code"] == "too_large"
    assert session_gone(base, sid)


def test_cap_sized_polling_posts_back_to_back_are_refused_past_the_budget_and_the_session_dropped(server):
    stage, _ = server
    base = f"{stage.url}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(base, timeout=10).text[1:])["sid"]
    assert requests.post(f"{base}&sid={sid}", data="40/audience,", timeout=10).text == "OK"
    body = feed_event(PHONE_CAP - 100)[1:].replace("2/audience,1", "42/audience,", 1)  # engine.io "4" + event
    answers = [requests.post(f"{base}&sid={sid}", data=body, timeout=10) for _ in range(2 * PHONE_BURST // PHONE_CAP)]
    refused = [a for a in answers if a.status_code != 200]
    assert refused and refused[0].status_code == 429 and refused[0].json()["error"]["code"] == "over_budget"
    assert session_gone(base, sid)
    assert "polling POST from 127.0.0.1 refused: over this connection's byte budget" in stage.log_text()


def test_malformed_frames_end_only_their_connection_and_print_no_traceback(server):
    stage, peers = server
    other = peers.phone("Bo")
    bad_frames = [
        bytes([0x83, 0x80 | 1]) + MASK + b"x",  # reserved opcode 3
        bytes([0xC1, 0x80 | 1]) + MASK + b"x",  # RSV1 set, no extension negotiated
        bytes([0x81, 0x80 | 2]) + MASK + bytes(a ^ b for a, b in zip(b"\xff\xfe", MASK)),  # not UTF-8
        bytes([0x80, 0x80 | 1]) + MASK + b"x",  # a continuation with nothing to continue
        bytes([0x89, 0x80 | 126]) + struct.pack("!H", 200) + MASK,  # a 200-byte ping
        bytes([0x81, 0x80 | 10]) + MASK + b"abc",  # truncated: the socket closes mid-frame
    ]
    for frame in bad_frames * 3:
        ws = raw_phone(stage.url)
        ws.sock.sendall(frame)
        if frame is bad_frames[-1]:
            ws.sock.close()
        else:
            closed_by_server(ws)
    upgrade = (b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n"
               b"Upgrade: websocket\r\nConnection: Upgrade\r\n")
    bad_handshakes = [  # each one printed a TypeError traceback from gevent-websocket's handler
        upgrade + b"Sec-WebSocket-Version: 13\r\n\r\n",  # no key
        upgrade + b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: !!!\r\n\r\n",  # an invalid key
        upgrade + b"Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        upgrade + b"\r\n",  # no version
        upgrade.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n",
    ]
    for garbage in bad_handshakes * 3 + [
            b"\x16\x03\x01\x02\x00" + os.urandom(200), b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n",
            b"BREW / HTTP/1.1\r\nHost: x\r\n\r\n", b"GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", stage.port), timeout=5) as raw:
            raw.sendall(garbage)
            try:
                answer = raw.recv(1024)
            except OSError:
                answer = b""
            if garbage in bad_handshakes and stage.async_mode == "gevent":  # eventlet is laxer about these
                assert answer.startswith(b"HTTP/1.1 4"), answer  # a clear refusal, not a dropped connection
    assert other.call("feed", {"limit": 1})["ok"]
    stage.stop()
    stderr = stage.stderr_path.read_text()
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(stderr.splitlines()) < 60, stderr[-3000:]


def test_a_rigs_largest_preview_passes_on_capture_and_only_an_accepted_connect_earns_that_cap(server):
    stage, peers = server
    agent = AgentPeer(stage.url)
    try:
        crew = peers.crew()
        assert crew.call("watch_preview", {"rig": "stage"})["ok"]
        jpeg = b"\xff\xd8\xff\xe0" + os.urandom(256 * 1024 - 4)  # Preview's own limit, far over a phone's cap
        assert agent.send("preview", {"jpeg": jpeg})["ok"]
        assert crew.wait_for("preview")["jpeg"] == jpeg
    finally:
        agent.client.disconnect()
    intruder = websocket.create_connection(stage.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket",
                                           timeout=10)
    assert intruder.recv().startswith("0{")
    intruder.send('40/capture,{"token":"wrong","rig":"stage"}')
    assert intruder.recv().startswith("44/capture,")  # refused: the session keeps a phone's cap
    intruder.send_binary(bytes(PHONE_CAP + 1))
    assert closed_by_server(intruder) in (1009, None)
    # the phone's cap refused it, not a crash: a refused /capture connect earned nothing
    assert refused_over(PHONE_CAP, stage)


def refused_over(cap: int, stage: StageProcess) -> bool:
    """The server's log line that a connection was closed for a message over ``cap`` (gevent's reader
    and eventlet's own limit word it differently): proof the cap closed it, not a crash or a reset."""
    log = stage.log_text()
    return f"over this connection's cap of {cap} bytes" in log or f"above length limit of {cap} bytes" in log


def wait_for_more(acks: list[dict], more: int, timeout: float = 10) -> int:
    """Wait (with a deadline) until ``more`` acks arrived beyond those there now; the count it started from."""
    count = len(acks)
    wait_until(lambda: len(acks) >= count + more, timeout, what=f"{more} more acks")
    return count


def asking_while(other, until: threading.Event, acks: list[dict]) -> threading.Thread:
    """The other phone asks for its feed at a phone's pace until ``until`` is set."""
    def keep_asking() -> None:
        while not until.wait(0.2):
            acks.append(other.call("feed", {"limit": 1}))

    asker = threading.Thread(target=keep_asking, daemon=True)
    asker.start()
    return asker


@pytest.mark.parametrize("flood", ["pong", "empty fragments"])
def test_an_endless_stream_of_pongs_or_empty_fragments_closes_its_sender_while_another_phone_gets_acks(server, flood):
    """Control frames and empty non-final fragments never end a message: read in a loop that yielded and
    charged once per message, they held the hub for free, forever."""
    stage, peers = server
    other = peers.phone("Bo")
    attacker = raw_phone(stage.url)
    if flood == "pong":  # empty PONG frames (FIN set, as control frames must)
        first, batch = b"", (bytes([0x8A, 0x80]) + MASK) * 1000
    else:  # a non-final empty TEXT frame, then non-final empty continuations
        first, batch = bytes([0x01, 0x80]) + MASK, (bytes([0x00, 0x80]) + MASK) * 1000

    def send_endlessly() -> None:
        try:
            attacker.sock.sendall(first)
            for _ in range(300):  # 300,000 frames: ~200 times the phone's burst of 512-byte charges
                attacker.sock.sendall(batch)
        except OSError:  # the server closed the connection: what the test waits for
            pass

    acks: list[dict] = []
    done = threading.Event()
    asker = asking_while(other, done, acks)
    sender = threading.Thread(target=send_endlessly, daemon=True)
    sender.start()
    try:
        assert closed_by_server(attacker) in (1008, None)
        count = wait_for_more(acks, 3)  # the other phone is still served
    finally:
        done.set()
        asker.join(timeout=15)
        sender.join(timeout=15)
    assert len(acks) >= count + 3 and all(ack["ok"] for ack in acks)
    assert other.call("feed", {"limit": 1})["ok"]
    expected = "byte budget" if flood == "pong" else "more than 64 fragments"
    assert "websocket from 127.0.0.1 closed: " in stage.log_text() and expected in stage.log_text()


def polling_phone(url: str) -> tuple[str, str]:
    base = f"{url}/socket.io/?EIO=4&transport=polling"
    sid = json.loads(requests.get(base, timeout=10).text[1:])["sid"]
    assert requests.post(f"{base}&sid={sid}", data="40/audience,", timeout=10).text == "OK"
    return base, sid


def session_gone(base: str, sid: str) -> bool:
    """A later poll with its sid is refused once the session is gone (waited for, with a deadline)."""
    return wait_until(lambda: requests.get(f"{base}&sid={sid}", timeout=10).status_code == 400,
                      what=f"session {sid} to end", every=0.05)


def test_a_polling_post_packing_thousands_of_events_is_charged_per_packet_and_refused(server):
    """3,000 `feed` events in one 63 KB body: charged once by Content-Length they cost less than one
    big event. Each packet is charged at least 512 bytes: the POST goes over the budget."""
    stage, peers = server
    other = peers.phone("Bo")
    base, sid = polling_phone(stage.url)
    body = "\x1e".join(['42/audience,["feed"]'] * 3000)
    answer = requests.post(f"{base}&sid={sid}", data=body, timeout=10)
    assert answer.status_code == 429 and answer.json()["error"]["code"] == "over_budget", answer.text[:200]
    assert session_gone(base, sid)
    assert other.client.connected and other.call("feed", {"limit": 1})["ok"]
    assert "polling POST from 127.0.0.1 refused: over this connection's byte budget" in stage.log_text()


def test_a_polling_post_of_more_packets_than_engineio_decodes_gets_a_clear_error_not_a_traceback(server):
    stage, _ = server
    base, sid = polling_phone(stage.url)
    answer = requests.post(f"{base}&sid={sid}", data="\x1e".join(["3"] * 17), timeout=10)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "too_many_packets", answer.text[:200]
    assert session_gone(base, sid)
    assert "Too many packets" not in stage.log_text()


def test_polling_posts_that_end_their_session_leave_no_greenlet_waiting_for_a_poll(server):
    """A POST whose packet the server does not take (``2``, a PING from the client) makes python-engineio
    call ``disconnect(sid)``, which waited in ``queue.join()`` for a poll that never comes: the request
    was never answered and its greenlet stayed, past the ping timeout (a soak's leftover greenlets)."""
    stage, _ = server
    crew = stage.login("crew")
    settled = live_greenlets(crew, stage.url)
    base = f"{stage.url}/socket.io/?EIO=4&transport=polling"
    answers = []
    for _ in range(5):
        sid = json.loads(requests.get(base, timeout=10).text[1:])["sid"]
        assert requests.post(f"{base}&sid={sid}", data="40/audience,", timeout=10).text == "OK"
        try:
            answers.append(requests.post(f"{base}&sid={sid}", data="2", timeout=10).status_code)
        except requests.Timeout:
            answers.append(None)
    assert answers == [400] * 5  # answered, the session refused: no poll needed
    wait_until(lambda: live_greenlets(crew, stage.url) <= settled + 3, 30, what="the refused sessions' greenlets to end")


def test_phones_gone_without_closing_their_tcp_leave_no_reader_behind(server):
    """Phones that stop answering with their TCP connection still open (off the Wi-Fi, frozen): once
    the ping timeout ends their sessions, nothing of them stays. Under gevent each reader stayed in
    ``recv`` with its descriptor, for as long as the dead connection was not reset."""
    stage, _ = server
    crew = stage.login("crew")
    settled = live_greenlets(crew, stage.url)
    silent = [raw_phone(stage.url) for _ in range(5)]  # they never answer a ping, never close
    try:
        # ping interval 10 s + ping timeout 20 s, on a loaded machine
        wait_until(lambda: live_greenlets(crew, stage.url) <= settled + 3, 90, what="the silent phones' readers to end",
                   every=0.5)
    finally:
        for ws in silent:
            ws.close()
