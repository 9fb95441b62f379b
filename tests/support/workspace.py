"""A test gateway's files (one folder for certificates, database and keys) and its process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def workspace_env(work: Path) -> dict[str, str]:
    """``ENCLAVE_*`` settings that put the dev certificates, the SQLite database, the token
    signing keys and the audit keys of a gateway under ``work``."""
    audit_keys = work / "keys" / "audit"
    return {
        "ENCLAVE_CERTS_DIR": str(work / "certs"),
        "ENCLAVE_DATABASE_URL": f"sqlite:///{work / 'enclave.db'}",
        "ENCLAVE_KEYS_DIR": str(work / "keys"),
        "ENCLAVE_AUDIT_SIGNING_KEY_FILE": str(audit_keys / "signing-key.pem"),
        "ENCLAVE_AUDIT_CONTENT_KEY_FILE": str(audit_keys / "content.key"),
    }


def start_gateway(
    env: dict[str, str], log_file: Path, *, new_session: bool = False
) -> subprocess.Popen[bytes]:
    """``enclave serve`` with ``env``, its output in ``log_file``; ``new_session`` puts it in
    a process session of its own, so that a kill of the group reaches every child."""
    with log_file.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "gateway.cli.main", "serve"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
