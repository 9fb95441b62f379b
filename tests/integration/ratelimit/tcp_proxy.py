"""A TCP proxy in front of the real Redis that a test can cut, stall and restore.

It simulates "Redis is down" for one limiter without ever stopping the shared server.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    """Forwards 127.0.0.1:<port> to the target until cut; ``stalled`` swallows traffic."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.port = 0
        self.stalled = False
        self._target = (target_host, target_port)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        """Listen (again) on the same port, so a limiter's URL stays valid."""
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Stop listening and drop every open connection: connects are now refused."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        await asyncio.sleep(0)

    async def restore(self) -> None:
        self.stalled = False
        await self.start()

    async def close(self) -> None:
        await self.cut()

    async def _link(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client)
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        self._writers.add(upstream)
        await asyncio.gather(
            self._pump(client_reader, upstream),
            self._pump(upstream_reader, client),
            return_exceptions=True,
        )
        for writer in (client, upstream):
            writer.transport.abort()
            self._writers.discard(writer)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                if self.stalled:
                    continue  # a black hole: the caller waits for an answer that never comes
                writer.write(data)
                await writer.drain()
        writer.transport.abort()
