# CNN Studio — every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-all lint bench package clean

# Says in one line what the system lacks (Python's venv, Qt's libraries, a display) and the
# apt-get line that installs it, before anything is downloaded.
CHECK  := cnnstudio/ui/system_check.py

$(STAMP): pyproject.toml
	@$(PYTHON) -I $(CHECK) venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: create .venv, install, open CNN Studio on the default project
run:
	@$(PYTHON) -I $(CHECK) window
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/cnnstudio

## test: create .venv, install, run the whole test suite headless
test:
	@$(PYTHON) -I $(CHECK) offscreen
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

## test-all: also the slow tests (packaging build and launch)
test-all:
	@$(PYTHON) -I $(CHECK) offscreen
	@$(MAKE) --no-print-directory $(STAMP)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check cnnstudio tests benchmarks scripts
	$(BIN)/lint-imports

## package: a launchable one-folder application in dist/cnnstudio (PyInstaller)
package: $(STAMP)
	$(BIN)/python -m pip install --quiet 'pyinstaller>=6.10'
	$(BIN)/pyinstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/cnnstudio.spec
	@du -sh dist/cnnstudio

bench: $(STAMP)
	for script in benchmarks/*.py; do case $$script in benchmarks/soak.py|benchmarks/_*) continue;; esac; echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis
