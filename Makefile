# socklab — the user's verbs. Every target works on a fresh clone by itself: it makes .venv from the pinned
# requirements, and the lab commands build the node images when they are missing.
PYTHON ?= python3
VENV := .venv
SOCKLAB := $(VENV)/bin/socklab
# make up WORKERS=5 · make scenario NAME=ping ARGS="--set count=10" · make test PYTEST_ARGS="-k faults"
WORKERS ?=
NAME ?=
NODE ?=
ARGS ?=
PYTEST_ARGS ?=
FUZZ_SECONDS ?= 60
ATHERIS := atheris==3.0.0
LOCALE := orchestrator/locale
PYBABEL := $(VENV)/bin/pybabel
FONT_DIRS ?= /usr/share/fonts /usr/local/share/fonts $(HOME)/.local/share/fonts $(HOME)/.fonts

.DEFAULT_GOAL := help
ENGINES ?= 3
.PHONY: help venv host build up down ps watch shell scenario check grade test test-unit bench fuzz i18n swarm-local swarm-local-down

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps -e .
	touch $@

venv: $(VENV)/.installed ## make .venv with the pinned host dependencies

host: ## what the lab and its tests use: chromium, tmux, docker-registry (tests), a Chinese font (pictures); installs Debian's
	@missing=""; \
	command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing="$$missing chromium"; \
	command -v tmux >/dev/null || missing="$$missing tmux"; \
	command -v docker-registry >/dev/null || missing="$$missing docker-registry"; \
	[ -n "$$(find $(FONT_DIRS) \( -name 'NotoSansCJK*' -o -name 'SourceHanSans*' -o -name 'wqy-*' \) -print -quit 2>/dev/null)" ] \
	  || missing="$$missing fonts-noto-cjk"; \
	if [ -z "$$missing" ]; then echo "host: chromium, tmux, docker-registry and a Chinese font are there"; \
	elif ! command -v apt-get >/dev/null; then echo "host: the tests need$$missing (Debian's names): install them with your package manager, then run make test again" >&2; exit 2; \
	elif [ "$$(id -u)" = 0 ]; then echo "host: installing$$missing from Debian's packages (a minute or two)"; \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	elif sudo -n true 2>/dev/null; then echo "host: installing$$missing from Debian's packages (a minute or two)"; \
	  sudo apt-get update -q >/dev/null && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing >/dev/null; \
	else echo "host: the tests need$$missing: install them as root (apt-get install$$missing), then run make test again" >&2; exit 2; fi

build: venv ## build the node images if they are missing (up, scenario and test do it too)
	$(SOCKLAB) build

up: venv ## build what is missing and start the lab (WORKERS=n, default 3)
	$(SOCKLAB) up $(if $(WORKERS),--workers $(WORKERS))

down: venv ## remove the lab's containers, network, volumes and secrets
	$(SOCKLAB) down

# eval "$$(make -s swarm-local)" points this shell's socklab at it: SOCKLAB_ENGINE=swarm, SOCKLAB_MANAGER=...
swarm-local: venv ## a swarm of ENGINES (3) Docker engines in containers on this host, for tests and demos; prints export lines
	@$(SOCKLAB) swarm-local --engines $(ENGINES)

swarm-local-down: venv ## remove the engines of make swarm-local (take a lab on them down first)
	@$(SOCKLAB) swarm-local --down

ps: venv ## the lab's nodes: service, container, IP, health, uptime, faults
	$(SOCKLAB) ps

watch: venv ## a live page of the lab on 127.0.0.1: nodes, programs, connections, traffic (ARGS=--open, --port N)
	$(SOCKLAB) watch $(ARGS)

shell: venv ## a shell on a node, as the learner, in /workspace: make shell NODE=client1
	@if [ -z "$(NODE)" ]; then echo "usage: make shell NODE=server|client1|client2|worker1..."; exit 2; fi
	$(SOCKLAB) shell $(NODE)

# make exits 2 whenever a recipe fails: socklab's own codes (1 a step failed, 2 bad usage) reach a caller only
# when it runs .venv/bin/socklab itself (README: exercises)
scenario: venv ## run a scenario: make scenario NAME=ping (no NAME: the list)
	@if [ -z "$(NAME)" ]; then $(SOCKLAB) scenario --list; echo "usage: make scenario NAME=<name> [ARGS='--set key=value']"; \
	else $(SOCKLAB) scenario $(NAME) $(ARGS); fi

check: venv ## check your program against an exercise: make check NAME=framing ARGS="--server workspace/echo.py"
	@if [ -z "$(NAME)" ]; then $(SOCKLAB) check --list; echo 'usage: make check NAME=<exercise> ARGS="--server FILE"'; \
	else $(SOCKLAB) check $(NAME) $(ARGS); fi

# DIR: the class's folder (STUDENT.py or STUDENT/ each, or a Gradescope or Moodle export)
DIR ?=
grade: venv ## grade a class: make grade NAME=framing DIR=submissions/ ARGS="--labs 3 --seed 1 --csv class.csv"
	@if [ -z "$(NAME)" ] || [ -z "$(DIR)" ]; then echo 'usage: make grade NAME=<exercise> DIR=<submissions folder> [ARGS="--labs N --seed S --only-changed --csv FILE --similarity"]'; exit 2; fi
	$(SOCKLAB) grade $(NAME) $(DIR) $(ARGS)

test: venv host ## unit and integration tests (installs what they need first; integration brings its own lab up and down)
	@$(SOCKLAB) build || [ "$$CI" != true ]  # without Docker: integration tests skip here, fail in CI
	$(VENV)/bin/pytest $(PYTEST_ARGS)

test-unit: venv ## the unit tests alone: no Docker, seconds
	$(VENV)/bin/pytest tests/unit $(PYTEST_ARGS)

fuzz: venv ## fuzz the framing library with atheris for FUZZ_SECONDS (60); a crash is saved under reports/fuzz/
	$(VENV)/bin/pip install -q --disable-pip-version-check $(ATHERIS)
	@mkdir -p reports/fuzz/corpus
	$(VENV)/bin/python tests/fuzz/fuzz_framing.py reports/fuzz/corpus tests/fuzz/corpus/framing \
		-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -artifact_prefix=reports/fuzz/ -print_final_stats=1

i18n: venv ## extract the messages, update the Chinese catalog (orchestrator/locale) and compile it
	$(PYBABEL) extract -F babel.cfg --project socklab --no-wrap --sort-by-file -o $(LOCALE)/socklab.pot orchestrator
	@if [ -f $(LOCALE)/zh_CN/LC_MESSAGES/socklab.po ]; then \
	  $(PYBABEL) update --no-wrap --no-fuzzy-matching --ignore-obsolete -i $(LOCALE)/socklab.pot -d $(LOCALE) -D socklab -l zh_CN; \
	else $(PYBABEL) init -i $(LOCALE)/socklab.pot -d $(LOCALE) -D socklab -l zh_CN; fi
	$(PYBABEL) compile -d $(LOCALE) -D socklab -l zh_CN --statistics

bench: venv ## measure lab up/down and idle memory against a bare container; JSON under reports/ (ARGS=--cold)
	$(SOCKLAB) bench $(ARGS)

help: ## this list
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  make %-16s %s\n", $$1, $$2}'
