"""The ``enclave`` entry point: sub-commands, exit codes, ``python -m gateway.cli.main``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.cli.main import main
from tests.support.cli import EnclaveCli

REPO = Path(__file__).resolve().parents[3]


def test_every_concern_has_a_command() -> None:
    result = EnclaveCli().ok("--help")
    for command in ("serve", "certs", "model", "db", "tenants", "tokens", "keys"):
        assert f"  {command} " in result.stdout


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (["serve"], ["--host", "--port"]),
        (["certs", "init"], ["--dir", "--force"]),
        (["certs", "show"], ["--dir"]),
        (["model", "prepare"], ["--dir"]),
        (["model", "tiny"], ["DIR"]),
        (["tokens", "issue"], ["--tenant", "--roles", "--ttl", "--subject", "--quiet", "--json"]),
        (["tokens", "list"], ["--tenant", "--all", "--json"]),
        (["keys", "rotate"], ["--if-missing"]),
        (["tenants", "delete"], ["--yes"]),
    ],
)
def test_sub_command_options(args: list[str], options: list[str]) -> None:
    shown = EnclaveCli().ok(*args, "--help").stdout
    for option in options:
        assert option in shown


def test_main_returns_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert main(["no-such-command"]) == 2
    assert "No such command" in capsys.readouterr().err


def test_configuration_error_is_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENCLAVE_PORT", "not-a-number")
    monkeypatch.delenv("ENCLAVE_CONFIG_FILE", raising=False)
    assert main(["db", "current"]) == 2
    assert capsys.readouterr().err.startswith("enclave: ENCLAVE_PORT: cannot use")


def test_runs_as_a_module() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "gateway.cli.main", "tokens", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert "issue" in completed.stdout
