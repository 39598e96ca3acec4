"""The floor for take uploads: a bare Flask app on gevent that appends each PUT body to a file and
fsyncs it, and hashes the file on complete, with nothing else. Run by take_upload.py."""

from gevent import monkey

monkey.patch_all()

import hashlib  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402

from flask import Flask, request  # noqa: E402
from gevent.pywsgi import WSGIServer  # noqa: E402

app = Flask(__name__)
folder = tempfile.mkdtemp(prefix="bare-upload-")


@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@app.put("/api/takes/<take_id>/upload")
def upload(take_id: str) -> dict:
    with open(os.path.join(folder, take_id), "ab") as out:
        while chunk := request.stream.read(64 * 1024):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
        return {"ok": True, "received": out.tell()}


@app.post("/api/takes/<take_id>/complete")
def complete(take_id: str) -> dict:
    digest = hashlib.sha256()
    path = os.path.join(folder, take_id)
    with open(path, "rb") as source:
        while chunk := source.read(1024 * 1024):
            digest.update(chunk)
    os.unlink(path)
    return {"ok": digest.hexdigest() == request.get_json()["sha256"]}


if __name__ == "__main__":
    WSGIServer(("127.0.0.1", int(sys.argv[1])), app, log=None).serve_forever()
