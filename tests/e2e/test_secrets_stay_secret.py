"""Planted canaries never surface: not in logs, error bodies, metrics, the database or Redis.

Against the session's real gateway (TLS, vLLM, Redis rate limits, SQLite audit), the test
sends requests that carry canaries in every place a caller can put them — personal data in
prompts (answered, refused and streamed), a made-up word in a prompt that is refused, the
bearer token (valid, tampered, in a bad header), a canary in an unknown parameter's value —
then reads everything the gateway wrote during the whole session (its log file, every
``/metrics`` series, every row of every database table, every rate-limit key and value
in Redis) and every error body it answered, and looks for each canary and for the private
key material in ``ENCLAVE_KEYS_DIR``.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.e2e.conftest import RunningGateway

pytestmark = pytest.mark.e2e

EMAIL = "ada.canary.q7x@example.org"
PHONE = "(415) 555-0142"
CARD = "4111 1111 1111 1111"
PII = (EMAIL, PHONE, CARD)
PROMPT_WORD = "zebracanary9431"
"""Not personal data: it may be kept in redacted audit content, never in logs or errors."""
PARAMETER_VALUE = "paramcanary5517"
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/=_-]{24,}$")


def key_material(keys_dir: Path) -> list[str]:
    """Every base64 line of every private key file (PEM bodies, raw content keys)."""
    found: list[str] = []
    for path in keys_dir.rglob("*"):
        if not path.is_file() or path.suffix == ".pub":
            continue
        text = path.read_bytes().decode(errors="replace")
        found += [line.strip() for line in text.splitlines() if _BASE64_LINE.match(line.strip())]
    assert found, f"no private key material found under {keys_dir}"
    return found


def database_text(database: Path) -> str:
    """Every cell of every table, as text."""
    cells: list[str] = []
    with contextlib.closing(sqlite3.connect(database)) as connection:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]
        for table in tables:
            with contextlib.suppress(sqlite3.DatabaseError):  # indexes are not tables
                for row in connection.execute(f'SELECT * FROM "{table}"'):  # noqa: S608
                    cells += [
                        v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in row
                    ]
    return "\n".join(cells)


def redis_text(prefix: str) -> str:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        parts: list[str] = []
        for key in client.scan_iter(match=f"{prefix}*"):
            parts.append(key.decode(errors="replace"))
            with contextlib.suppress(redis.ResponseError):  # not every key is a string
                value = client.get(key)
                parts.append(value.decode(errors="replace") if value else "")
        return "\n".join(parts)
    finally:
        client.close()


def sent_with_canaries(gateway: RunningGateway) -> Iterator[httpx.Response]:
    """Requests that put each canary where a caller can; their answers."""
    prompt = f"Mail {EMAIL} or call {PHONE}; card {CARD}. Codeword {PROMPT_WORD}."
    chat = {"model": gateway.model, "messages": [{"role": "user", "content": prompt}]}
    good = {"authorization": f"Bearer {gateway.token}"}
    with httpx.Client(base_url=gateway.base_url, verify=gateway.ssl_context(), timeout=60) as http:
        yield http.post("/v1/chat/completions", json={**chat, "max_tokens": 8}, headers=good)
        stream = {**chat, "max_tokens": 8, "stream": True}
        yield http.post("/v1/chat/completions", json=stream, headers=good)
        yield http.post(
            "/v1/completions", json={"model": gateway.model, "prompt": prompt}, headers=good
        )
        yield http.post(
            "/v1/chat/completions", json={**chat, "tools": PARAMETER_VALUE}, headers=good
        )
        yield http.post(
            "/v1/chat/completions", json={**chat, "model": "no-such-model"}, headers=good
        )
        yield http.post("/v1/chat/completions", json={**chat, "max_tokens": -1}, headers=good)
        yield http.post("/v1/chat/completions", content=prompt.encode(), headers=good)
        tampered = {"authorization": f"Bearer {gateway.token[:-4]}AAAA"}
        yield http.post("/v1/chat/completions", json=chat, headers=tampered)
        yield http.post("/v1/chat/completions", json=chat, headers={"authorization": gateway.token})
        expired_looking = {"authorization": f"Bearer {gateway.token}.{PROMPT_WORD}"}
        yield http.post("/v1/chat/completions", json=chat, headers=expired_looking)


def test_no_canary_or_secret_surfaces_anywhere(gateway: RunningGateway) -> None:
    answers = list(sent_with_canaries(gateway))
    statuses = [answer.status_code for answer in answers]
    assert statuses[:3] == [200, 200, 200], [a.text[:300] for a in answers[:3]]
    assert all(status >= 400 for status in statuses[3:]), statuses
    errors = "\n".join(answer.text for answer in answers[3:])
    metrics = httpx.get(gateway.metrics_url, timeout=10).text
    database = database_text(Path(gateway.env["ENCLAVE_DATABASE_URL"].removeprefix("sqlite:///")))
    stored = database + "\n" + redis_text(gateway.env["ENCLAVE_RATE_LIMIT_KEY_PREFIX"])
    log = gateway.log_text()
    token_signature = gateway.token.rsplit(".", 1)[1]
    secrets = [gateway.token, token_signature, *key_material(Path(gateway.env["ENCLAVE_KEYS_DIR"]))]

    assert PROMPT_WORD in database, (
        "the canary prompt was audited (redacted), so the search is real"
    )
    assert "<EMAIL_ADDRESS>" in database, "and its personal data was replaced, not dropped"
    for place, text in [("log", log), ("error bodies", errors), ("metrics", metrics)]:
        for canary in (*PII, PROMPT_WORD, PARAMETER_VALUE, *secrets):
            assert canary not in text, f"{canary[:12]}… found in the {place}"
    for canary in (*PII, PARAMETER_VALUE, *secrets):
        assert canary not in stored, f"{canary[:12]}… found in the database or Redis"
