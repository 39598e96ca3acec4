# Stage: set-up, demo and tests. `make run` and `make test` are the two commands of the README.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SHOW ?= shows/tiny-stories.yaml
# Debian packages the test suite and the demo need (installed only when missing, only as root).
APT_PACKAGES := chromium fonts-noto-color-emoji liblo-tools ffmpeg fonts-dejavu-core postgresql \
  pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox libportaudio2 redis-server haproxy
SOCKETIO_JS := node_modules/socket.io-client/dist/socket.io.min.js
# B1 (bench/phones_held.py): phones per run and seconds per run; override for a shorter pass.
B1_SIZES ?= 500,1000,2000,5000,10000
B1_SECONDS ?= 300
# Issue 14: the hostile phone (phones, seconds per phase) and the soak (minutes, phones at once).
HOSTILE_PHONES ?= 500
HOSTILE_SECONDS ?= 60
SOAK_MINUTES ?= 60
SOAK_PHONES ?= 2000

.PHONY: setup run test test-fast check bench .apt-ok

setup: .apt-ok $(VENV)/.installed $(SOCKETIO_JS)

.apt-ok:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Missing Debian packages (install them as root): $$missing"; exit 1; fi; \
	fi

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(SOCKETIO_JS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: setup
	$(PY) -m stage serve $(SHOW)

check: setup
	$(PY) -m stage check shows/*.yaml

# Test workers: one per core (pytest-xdist). Every test starts its own servers on free ports in its own
# tmp_path, so workers share nothing; TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= auto

test: setup
	$(PY) -m pytest -n $(TEST_WORKERS)

test-fast: setup
	$(PY) -m pytest tests/unit tests/integration

# Benchmarks (not tests): each prints a table, writes bench/results/<name>.json, appends to docs/benchmarks.md.
bench: setup
	$(PY) bench/go_latency.py
	$(PY) bench/osc_latency.py --mode gevent
	$(PY) bench/first_load.py
	$(PY) bench/submit_load.py --phones 2000 --rate 100 --seconds 30
	$(PY) bench/take_upload.py --mb 256
	$(PY) bench/capture_bench.py --seconds 60
	# B1 phones held + B2 submit ack under load (the night scenario; about 2 h at these sizes), then gevent vs eventlet.
	$(PY) bench/phones_held.py --sizes $(B1_SIZES) --servers stage,bare,node --duration $(B1_SECONDS) --ramp 60
	$(PY) bench/phones_held.py --sizes $(B1_SIZES) --servers stage,stage-eventlet --duration $(B1_SECONDS) --ramp 60 --name phones_held_modes
	# Hostile phone: the night's load without, then with, one client sending the worst it may (2 min at these sizes).
	$(PY) bench/hostile_phone.py --phones $(HOSTILE_PHONES) --seconds $(HOSTILE_SECONDS)
	# Soak: a three-hour night in one hour, 2,000 churning phones at ten times the night's rates, a take every 5 min.
	$(PY) bench/soak.py --minutes $(SOAK_MINUTES) --phones $(SOAK_PHONES) --rate-multiplier 10
