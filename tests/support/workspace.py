"""Where a test gateway keeps its files: one folder for certificates, database and keys."""

from __future__ import annotations

from pathlib import Path


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
