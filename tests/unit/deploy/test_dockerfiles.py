"""The container images: built from this repository, non-root, with a health check.

No Docker engine runs here, so these read the Dockerfiles: every file they copy exists,
they install the right extras, and the image starts `enclave serve` as a non-root user.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gateway.tls.certs import init_dev_certs
from tests.unit.deploy.conftest import DEPLOY, REPO

DOCKERFILES = {"gpu": DEPLOY / "Dockerfile.gpu", "cpu": DEPLOY / "Dockerfile.cpu"}


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


@pytest.mark.parametrize("flavour", sorted(DOCKERFILES))
def test_every_copied_file_exists(flavour: str) -> None:
    for keyword, arguments in instructions(DOCKERFILES[flavour]):
        if keyword == "COPY" and not arguments.startswith("--from"):
            *sources, _ = arguments.split()
            for source in sources:
                assert (REPO / source).exists(), source


@pytest.mark.parametrize("flavour", sorted(DOCKERFILES))
def test_the_image_serves_as_a_non_root_user_with_a_health_check(flavour: str) -> None:
    steps = instructions(DOCKERFILES[flavour])
    final_stage = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    keywords = dict(final_stage)
    assert keywords["USER"].split(":")[0] not in {"0", "root"}
    assert "enclave" in keywords["ENTRYPOINT"]
    assert keywords["CMD"] == '["serve"]'
    assert "enclave-healthcheck" in keywords["HEALTHCHECK"]
    assert "8443" in keywords["EXPOSE"]


def test_the_gpu_image_has_cuda_and_the_gpu_extra() -> None:
    text = DOCKERFILES["gpu"].read_text()
    assert re.search(r"ARG CUDA_IMAGE=nvidia/cuda:\S+", text)
    assert "pip install '.[gpu,model]'" in text
    assert "NVIDIA_DRIVER_CAPABILITIES=compute,utility" in text, "NVML needs 'utility'"


def test_the_cpu_image_has_python_311_and_torch_213_cpu() -> None:
    text = DOCKERFILES["cpu"].read_text()
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in text
    assert "'.[cpu,model]' 'torch==2.13.0'" in text
    assert "download.pytorch.org/whl/cpu" in text
    assert "pip uninstall --yes torchvision torchaudio torchcodec" in text


def test_the_health_check_fails_when_nothing_listens() -> None:
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py")],
        env={"ENCLAVE_PORT": "1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1
    assert "healthz" in result.stderr


class HealthzOnly(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def https_port(tmp_path: Path) -> Iterator[int]:
    paths = init_dev_certs(tmp_path / "certs")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(paths.server_cert, paths.server_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), HealthzOnly)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join()


def test_the_health_check_passes_against_a_serving_https_listener(https_port: int) -> None:
    result = subprocess.run(
        [sys.executable, str(DEPLOY / "healthcheck.py")],
        env={"ENCLAVE_PORT": str(https_port)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
