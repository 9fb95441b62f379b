"""Clients that send too much or too slowly, on raw TLS sockets against the real server.

Oversized headers get 431, unparsable requests 400, dribbled headers (slowloris) and bodies
408, all in OpenAI's envelope, and their connections are closed; meanwhile ordinary clients
keep getting answers. Refusals made before the app sees a request (431, header 408, 400
from the parser) have no request id and no audit record; the body 408 and the 413 do.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.e2e.conftest import BODY_TIMEOUT_SECONDS, HEADER_TIMEOUT_SECONDS, RunningGateway

pytestmark = pytest.mark.e2e

PATIENCE_SECONDS = 10 * max(HEADER_TIMEOUT_SECONDS, BODY_TIMEOUT_SECONDS)
"""How long a test waits for the server to act before it calls the connection still open."""
MAX_HEADER_BYTES = 32_768  # the default of ENCLAVE_MAX_HEADER_BYTES
QUESTION = [{"role": "user", "content": "Tell me something about the sea."}]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def error(self) -> dict[str, str | None]:
        assert self.headers["content-type"].startswith("application/json")
        envelope = json.loads(self.body)
        assert set(envelope) == {"error"}
        assert set(envelope["error"]) == {"message", "type", "param", "code"}
        error: dict[str, str | None] = envelope["error"]
        return error


@contextmanager
def tls_socket(gateway: RunningGateway) -> Iterator[ssl.SSLSocket]:
    raw = socket.create_connection((gateway.host, gateway.port), timeout=PATIENCE_SECONDS)
    with gateway.ssl_context().wrap_socket(raw, server_hostname="localhost") as tls:
        yield tls


def read_until_closed(tls: ssl.SSLSocket) -> bytes:
    """Everything the server sends until it closes the connection (fails if it never does)."""
    received = b""
    try:
        while chunk := tls.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the server kept the connection open for {PATIENCE_SECONDS} s")
    except (ConnectionResetError, ssl.SSLError):
        pass  # closed while we were still sending: what arrived before still counts
    return received


def send_until_refused(tls: ssl.SSLSocket, data: bytes) -> bool:
    """Send ``data``; False if the server closed the connection first (it answered already)."""
    try:
        tls.sendall(data)
    except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
        return False
    return True


def parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Answer(int(status_line.split()[1]), headers, body)


def request_head(gateway: RunningGateway, extra: str = "", method: str = "GET") -> bytes:
    path = "/v1/chat/completions" if method == "POST" else "/healthz"
    return (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\n"
        f"Authorization: Bearer {gateway.token}\r\n{extra}\r\n"
    ).encode()


def audit_records(gateway: RunningGateway, request_id: str) -> list[dict[str, object]]:
    found = json.loads(gateway.enclave("audit", "search", "--request-id", request_id, "--json"))
    records: list[dict[str, object]] = found["records"] if isinstance(found, dict) else found
    return records


# --- header size -------------------------------------------------------------------------------


def test_headers_over_the_limit_get_431_and_a_closed_connection(gateway: RunningGateway) -> None:
    cookie = "c=" + "x" * MAX_HEADER_BYTES
    with tls_socket(gateway) as tls:
        send_until_refused(tls, request_head(gateway, f"Cookie: {cookie}\r\n"))
        answer = parse(read_until_closed(tls))
    assert answer.status == 431
    assert answer.error()["code"] == "request_headers_too_large"
    assert answer.headers["connection"] == "close"


def test_headers_dribbled_past_the_limit_are_cut_off_before_they_end(
    gateway: RunningGateway,
) -> None:
    with tls_socket(gateway) as tls:
        tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        for index in range(2 * MAX_HEADER_BYTES // 1024):
            if not send_until_refused(tls, f"X-Filler-{index}: {'y' * 1000}\r\n".encode()):
                break
        answer = parse(read_until_closed(tls))
    assert answer.status == 431


def test_large_headers_under_the_limit_are_served(gateway: RunningGateway) -> None:
    with tls_socket(gateway) as tls:
        tls.sendall(request_head(gateway, f"Cookie: c={'x' * 16_000}\r\nConnection: close\r\n"))
        answer = parse(read_until_closed(tls))
    assert answer.status == 200
    assert json.loads(answer.body) == {"status": "ok"}


def test_an_unparsable_request_gets_400_in_the_envelope(gateway: RunningGateway) -> None:
    with tls_socket(gateway) as tls:
        tls.sendall(b"HELLO THERE\r\n\r\n")
        answer = parse(read_until_closed(tls))
    assert answer.status == 400
    assert answer.error()["type"] == "invalid_request_error"


# --- slow clients ------------------------------------------------------------------------------


@dataclass
class Slowloris:
    """Connections that send a header line now and then and never finish their headers."""

    gateway: RunningGateway
    count: int
    received: list[bytes] = field(default_factory=list)
    still_open: list[int] = field(default_factory=list)
    started: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.started = threading.Barrier(self.count + 1)

    def run(self) -> None:
        threads = [threading.Thread(target=self._one, args=(n,)) for n in range(self.count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _one(self, number: int) -> None:
        with tls_socket(self.gateway) as tls:
            tls.settimeout(HEADER_TIMEOUT_SECONDS / 6)
            tls.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\n")
            self.started.wait()
            for line in range(int(PATIENCE_SECONDS * 6 / HEADER_TIMEOUT_SECONDS)):
                try:
                    tls.sendall(f"X-Slow-{line}: still typing\r\n".encode())
                    received = tls.recv(65536)
                except TimeoutError:
                    continue  # nothing from the server yet: send the next line
                except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                    received = b""
                self.received.append(received)
                return
            self.still_open.append(number)


def test_slowloris_connections_are_cut_off_while_other_clients_are_answered(
    gateway: RunningGateway,
) -> None:
    with gateway.client() as client:

        def ask() -> str:
            reply = client.chat.completions.create(
                model=gateway.model, messages=QUESTION, max_tokens=8, temperature=0
            )
            return reply.choices[0].message.content or ""

        before = ask()
        attack = Slowloris(gateway, count=4)
        attacker = threading.Thread(target=attack.run)
        attacker.start()
        attack.started.wait()  # every slow connection is open and has begun its headers
        during = [ask() for _ in range(3)]
        attacker.join()
    assert attack.still_open == []
    assert len(attack.received) == 4
    for raw in attack.received:  # each got a 408 before the close, or just the close
        assert raw == b"" or parse(raw).status == 408
    assert before
    assert during == [before] * 3, "greedy answers are the same with slow clients around"


def test_a_connection_that_sends_nothing_is_closed(gateway: RunningGateway) -> None:
    with tls_socket(gateway) as tls:
        assert read_until_closed(tls) == b""


def test_a_slow_body_gets_408_and_is_audited(gateway: RunningGateway) -> None:
    body = json.dumps({"model": gateway.model, "messages": [{"role": "user", "content": "hi"}]})
    head = request_head(
        gateway, f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n", "POST"
    )
    with tls_socket(gateway) as tls:
        tls.sendall(head + body[:10].encode())  # and the rest never comes
        answer = parse(read_until_closed(tls))
    assert answer.status == 408
    assert answer.error()["code"] == "request_timeout"
    (record,) = audit_records(gateway, answer.headers["x-request-id"])
    assert (record["kind"], record["status"]) == ("refused", 408)


def test_a_chunked_upload_over_the_body_limit_gets_413_and_is_audited(
    gateway: RunningGateway,
) -> None:
    head = request_head(
        gateway, "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", "POST"
    )
    start, piece = b'{"model": "m", "prompt": "', b"x" * 65_536
    with tls_socket(gateway) as tls:
        tls.sendall(head + b"%x\r\n%s\r\n" % (len(start), start))
        for _ in range(24):  # 1.5 MiB, over the default 1 MiB, and never a last chunk
            if not send_until_refused(tls, b"%x\r\n%s\r\n" % (len(piece), piece)):
                break
        answer = parse(read_until_closed(tls))
    assert answer.status == 413
    assert answer.error()["code"] == "request_too_large"
    (record,) = audit_records(gateway, answer.headers["x-request-id"])
    assert (record["kind"], record["status"]) == ("refused", 413)
