# deskhand: `make demo` and `make test` each install what is missing, then do their job.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Debian packages the bots and tests drive: the system Chromium (Playwright cannot download
# browsers here) and its headless shell (headless runs use it: ~40 % less CPU), tesseract
# for OCR, Xvfb and scrot for desktop bots, poppler for PDF tools,
# PostgreSQL for queues shared between machines (the tests start a throwaway cluster).
APT_PACKAGES := chromium chromium-headless-shell tesseract-ocr tesseract-ocr-eng xvfb scrot poppler-utils fonts-dejavu-core \
	postgresql python3-tk dovecot-imapd iproute2
PYTEST_ARGS ?=

.PHONY: demo test bench setup system-packages lint clean

demo: setup
	$(PY) run_bot.py demo

test: setup
	$(PY) -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

bench: setup
	@for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

setup: system-packages $(VENV)/.installed

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done; \
	  test -x $(PY) || python3 -c 'import ensurepip' 2>/dev/null || echo python3-venv); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian packages: $$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	  else \
	    echo "missing Debian packages; run: sudo apt-get install -y $$missing" >&2; exit 1; \
	  fi; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[desktop,postgres,ocr,demo,dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache
