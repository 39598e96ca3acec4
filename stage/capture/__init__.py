"""The capture agent: camera + microphone -> crash-safe takes, driven by the server over Socket.IO.

Plain threads only (OpenCV reads and PortAudio callbacks are native threads): nothing here imports
Flask, gevent, eventlet or the server. See docs/capture.md for the wire contract.
"""
