"""The shutdown clock: draining from SIGTERM, requests ended after the grace period."""

from __future__ import annotations

import os
import signal
from types import FrameType

import pytest

from gateway.errors import ServiceUnavailableError
from gateway.shutdown import BACKSTOP_SECONDS, Drain, exit_signals, server_timeout

CLIENT_LEFT = (499, "client_disconnected")
SHUTDOWN = (503, "server_shutting_down")


def test_before_sigterm_nothing_is_ended() -> None:
    drain = Drain()
    drain.check()
    assert not drain.draining
    assert not drain.expired
    assert drain.explain(CLIENT_LEFT) == CLIENT_LEFT


def test_during_the_grace_period_requests_keep_running() -> None:
    drain = Drain()
    drain.begin(60)
    drain.check()
    assert drain.draining
    assert not drain.expired
    assert drain.explain(CLIENT_LEFT) == CLIENT_LEFT, "a client leaving now really left"


def test_after_the_grace_period_requests_end_with_a_503() -> None:
    drain = Drain()
    drain.begin(0)
    with pytest.raises(ServiceUnavailableError) as refusal:
        drain.check()
    assert refusal.value.status_code == 503
    assert refusal.value.code == "server_shutting_down"
    assert "retry" in refusal.value.message


def test_requests_cut_after_the_grace_period_are_recorded_as_cut_by_the_shutdown() -> None:
    drain = Drain()
    drain.begin(0)
    assert drain.explain(CLIENT_LEFT) == SHUTDOWN
    assert drain.explain((503, "engine_error")) == (503, "engine_error")
    assert drain.explain(None) is None, "a request that finished stays finished"


def test_a_second_signal_keeps_the_first_deadline() -> None:
    drain = Drain()
    drain.begin(0)
    drain.begin(3600)
    assert drain.expired


def test_uvicorn_cancels_only_after_grace_and_backstop() -> None:
    assert server_timeout(30) == 30 + BACKSTOP_SECONDS
    assert server_timeout(-1) == BACKSTOP_SECONDS


class RecordingServer:
    def __init__(self) -> None:
        self.signals: list[int] = []

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.signals.append(sig)


def test_sigterm_reaches_the_server_and_is_not_raised_again_afterwards() -> None:
    server = RecordingServer()
    before = signal.getsignal(signal.SIGTERM)
    with exit_signals(server):  # type: ignore[arg-type]  # only handle_exit is used
        os.kill(os.getpid(), signal.SIGTERM)
    assert server.signals == [signal.SIGTERM]
    assert signal.getsignal(signal.SIGTERM) == before, "the previous handler is back"
