# Stage: set-up, demo and tests. `make run` and `make test` are the two commands of the README.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
SHOW ?= shows/tiny-stories.yaml
# Debian packages, installed only when missing, only as root. A show needs RUN_APT: Python's venv, npm for the
# socket.io browser client at setup, ffmpeg for media, fonts for remixes and the book (DejaVu's extra faces: its
# italic and condensed; Noto Color Emoji), PortAudio for the demo's local rig, Pango and HarfBuzz's subsetter for
# WeasyPrint (`stage book`). The test suite adds TEST_APT: Chromium, PulseAudio and sox (a microphone), liblo's
# OSC peers, PostgreSQL, Redis and HAProxy (the many-process tests), systemd's systemd-analyze (the service unit's
# check), nginx and Caddy (the documented proxy configs), poppler's tools (the book read back from its PDF).
# Node.js with npm counts when `npm` is on the PATH (NodeSource's nodejs carries its own npm and conflicts
# with Debian's npm package); else Debian's nodejs and npm are added.
RUN_APT := python3-venv ffmpeg fonts-dejavu-core fonts-dejavu-extra fonts-noto-color-emoji libportaudio2 \
  libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
TEST_APT := chromium liblo-tools postgresql pulseaudio pulseaudio-utils libasound2-plugins alsa-utils sox \
  redis-server haproxy systemd nginx caddy poppler-utils
SOCKETIO_JS := node_modules/socket.io-client/dist/socket.io.min.js
# B1 (bench/phones_held.py): phones per run and seconds per run; override for a shorter pass.
B1_SIZES ?= 500,1000,2000,5000,10000
B1_SECONDS ?= 300
# Issue 14: the hostile phone (phones, seconds per phase) and the soak (minutes, phones at once).
HOSTILE_PHONES ?= 500
HOSTILE_SECONDS ?= 60
SOAK_MINUTES ?= 60
SOAK_PHONES ?= 2000

STAGE := $(VENV)/bin/stage

.PHONY: setup setup-test run test test-fast check bench catalogs .apt-run .apt-test

# `make run`'s set-up: the show's Debian packages, the venv with the runtime pins and Stage itself (editable: the
# `stage` command runs this checkout), the socket.io client. `make test` adds the test tools.
setup: .apt-run $(VENV)/.installed $(SOCKETIO_JS)

setup-test: setup .apt-test $(VENV)/.test-installed node_modules/.dev-installed

.apt-run:
	@$(MAKE) -s .apt-install PACKAGES="$(RUN_APT) $$(command -v npm >/dev/null || echo nodejs npm)"

.apt-test:
	@$(MAKE) -s .apt-install PACKAGES="$(TEST_APT)"

.apt-install:
	@missing=$$(for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Missing Debian packages (install them as root): $$missing"; exit 1; fi; \
	fi

$(VENV)/.installed: requirements.txt pyproject.toml hatch_build.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

# The browser client only (what a show serves); the test suite adds axe-core and Node's reference server.
$(SOCKETIO_JS): package.json package-lock.json
	npm ci --omit=dev --no-audit --no-fund --loglevel=error
	touch $@

node_modules/.dev-installed: $(SOCKETIO_JS) package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(SOCKETIO_JS) $@

run: setup
	$(STAGE) serve $(SHOW)

check: setup
	$(STAGE) check shows/*.yaml

# Test workers: one per core (pytest-xdist). Every test starts its own servers on free ports in its own
# tmp_path, so workers share nothing; TEST_WORKERS=0 runs the suite in this one process.
TEST_WORKERS ?= auto

test: setup-test
	$(PY) -m pytest -n $(TEST_WORKERS)

test-fast: setup-test
	$(PY) -m pytest tests/unit tests/integration

# The audience's languages (docs/languages.md): extract every t("…") and {{ _("…") }} into the template, then bring
# each catalog up to it (new strings arrive empty, changed ones fuzzy: both show in English until translated).
catalogs: setup
	$(VENV)/bin/pybabel extract --no-location --sort-output -F babel.cfg -k t -k tn:1,2 \
	  --project=Stage --msgid-bugs-address=https://example.invalid -o stage/translations/messages.pot .
	$(VENV)/bin/pybabel update --no-wrap -i stage/translations/messages.pot -d stage/translations

# Benchmarks (not tests): each prints a table, writes bench/results/<name>.json, appends to docs/benchmarks.md.
bench: setup-test
	$(PY) bench/go_latency.py
	$(PY) bench/osc_latency.py --mode gevent
	$(PY) bench/first_load.py
	$(PY) bench/submit_load.py --phones 2000 --rate 100 --seconds 30
	$(PY) bench/take_upload.py --mb 256
	$(PY) bench/capture_bench.py --seconds 60
	$(PY) bench/book.py --pages 100 --runs 2
	$(PY) bench/dmx_jitter.py --phones 5000 --idle 60 --ramp 60 --duration 180
	# B1 phones held + B2 submit ack under load (the night scenario; about 2 h at these sizes), then gevent vs eventlet.
	$(PY) bench/phones_held.py --sizes $(B1_SIZES) --servers stage,bare,node --duration $(B1_SECONDS) --ramp 60
	$(PY) bench/phones_held.py --sizes $(B1_SIZES) --servers stage,stage-eventlet --duration $(B1_SECONDS) --ramp 60 --name phones_held_modes
	# Hostile phone: the night's load without, then with, one client sending the worst it may (2 min at these sizes).
	$(PY) bench/hostile_phone.py --phones $(HOSTILE_PHONES) --seconds $(HOSTILE_SECONDS)
	# Soak: a three-hour night in one hour, 2,000 churning phones at ten times the night's rates, a take every 5 min.
	$(PY) bench/soak.py --minutes $(SOAK_MINUTES) --phones $(SOAK_PHONES) --rate-multiplier 10
