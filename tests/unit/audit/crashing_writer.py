"""A gateway process that dies mid-request: its "started" record is durable, then it is killed.

Run as ``python crashing_writer.py DATABASE_URL SIGNING_KEY_FILE``; prints ``durable CHAIN``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from gateway.audit.config import AuditConfig
from gateway.audit.events import AuditEvent
from gateway.audit.keys import load_signer
from gateway.audit.writer import AuditWriter
from gateway.db.session import create_db_engine


async def main(url: str, key_file: Path) -> None:
    writer = AuditWriter(create_db_engine(url), load_signer(key_file), AuditConfig(key_file))
    await writer.start()
    await writer.append(AuditEvent(kind="started", request_id="req-crash", tenant="acme"))
    print("durable", writer.chain_id, flush=True)
    await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2])))
