"""Start-up: the trail is built from its keys; policies wanting full content need the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from gateway.audit.config import AuditConfig
from gateway.audit.content import require_content_key
from gateway.audit.keys import create_content_key
from gateway.audit.setup import build_audit_trail, policy_content_levels
from gateway.errors import ConfigurationError
from gateway.policy.loader import load_policy_set

REPO = Path(__file__).resolve().parents[3]


def test_a_missing_signing_key_stops_start_up(engine: Engine, tmp_path: Path) -> None:
    config = AuditConfig(signing_key_file=tmp_path / "nowhere" / "signing-key.pem")
    with pytest.raises(ConfigurationError, match="enclave audit init-key"):
        build_audit_trail(engine, config)


def test_the_trail_is_built_with_or_without_a_content_key(
    engine: Engine, audit_config: AuditConfig, tmp_path: Path
) -> None:
    assert not build_audit_trail(engine, audit_config).sealer.can_keep_full  # no key file
    create_content_key(tmp_path / "content.key")
    config = AuditConfig(
        signing_key_file=audit_config.signing_key_file, content_key_file=tmp_path / "content.key"
    )
    assert build_audit_trail(engine, config).sealer.can_keep_full


def test_the_shipped_policies_start_without_a_content_key(
    engine: Engine, audit_config: AuditConfig
) -> None:
    policies = load_policy_set(REPO / "policies")
    levels = dict(policy_content_levels(policies))
    assert set(levels) == set(policies.departments)
    trail = build_audit_trail(engine, audit_config)
    if "full" in levels.values():
        with pytest.raises(ConfigurationError):
            require_content_key(trail.sealer, levels.items())
    else:
        require_content_key(trail.sealer, levels.items())
