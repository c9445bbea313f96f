# hypsa — two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= hypsa-demo

.PHONY: demo test lint venv clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# the analysis with every optional stack: web app, Dask batch, eeghdf reader, reader studies, video
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[web,batch,hdf5,study,video]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

venv: $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/hypsa demo --out $(OUT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests benchmarks

test: $(VENV)/.installed-test lint
	$(BIN)/python -m pytest -q -n 2 --durations=15; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo 'pytest: no tests collected'; rc=0; fi; exit $$rc

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(VENV)/.installed $@

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/bench_io.py
	$(BIN)/python benchmarks/bench_analyze.py
	$(BIN)/python benchmarks/bench_batch.py
	$(BIN)/python benchmarks/validate.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
