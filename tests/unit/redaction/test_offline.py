"""Nothing in the analyzer reaches the network, at start-up or per request."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
import tldextract.tldextract

from gateway.redaction import PiiAnalyzer
from gateway.redaction.offline import SUFFIX_LIST_VARIABLE, prepare_offline_environment
from tests.unit.redaction.policies import policy, rule

pytestmark = pytest.mark.anyio


def test_the_public_suffix_list_is_never_fetched(analyzer: PiiAnalyzer) -> None:
    assert os.environ[SUFFIX_LIST_VARIABLE] == ""
    assert tldextract.tldextract.TLD_EXTRACTOR.suffix_list_urls == ()


def test_an_extractor_imported_too_early_is_made_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    early = tldextract.tldextract.TLDExtract(suffix_list_urls=["https://example.invalid/list"])
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", early)
    monkeypatch.setenv(SUFFIX_LIST_VARIABLE, "")
    prepare_offline_environment()
    assert early.suffix_list_urls == ()


async def test_analysis_works_with_the_network_cut_off(
    analyzer: PiiAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analyzer tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    pii = policy(EMAIL_ADDRESS=rule("redact"), URL=rule("redact"), PERSON=rule("redact"))
    result = await analyzer.redact_input(
        ["Ask Maria Gonzalez at maria@example.co.uk or see https://example.org/x"], pii
    )
    assert result.texts == ("Ask <PERSON> at <EMAIL_ADDRESS> or see <URL>",)


def test_importing_the_package_loads_neither_presidio_nor_spacy() -> None:
    check = (
        "import sys, gateway.redaction; "
        "loaded = [m for m in ('presidio_analyzer', 'spacy', 'tldextract') if m in sys.modules]; "
        "sys.exit(', '.join(loaded) or None)"
    )
    finished = subprocess.run([sys.executable, "-c", check], capture_output=True, check=False)
    assert finished.returncode == 0, finished.stderr.decode()
