# CNN Studio — every target does its own set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-all lint bench package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## run: create .venv, install, open CNN Studio on the default project
run: $(STAMP)
	$(BIN)/cnnstudio

## test: create .venv, install, run the whole test suite headless
test: $(STAMP)
	$(BIN)/lint-imports
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow"

## test-all: also the slow tests (packaging build and launch)
test-all: $(STAMP)
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
