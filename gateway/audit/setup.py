"""Building the audit trail once at start-up: the writer and the content sealer, from config.

In the app's lifespan::

    trail = build_audit_trail(db_engine, load_audit_config())   # ConfigurationError if no key
    require_content_key(trail.sealer, policy_content_levels(policies.current))
    await trail.writer.start()      # marks crashed runs' unfinished requests incomplete
    ...
    await trail.writer.stop()       # flushes, marks in-flight requests incomplete, signs, closes
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine

from gateway.audit.config import AuditConfig
from gateway.audit.content import ContentSealer
from gateway.audit.incremental import IncrementalVerifier
from gateway.audit.keys import load_content_key, load_signer, trusted_public_keys
from gateway.audit.writer import AuditWriter
from gateway.policy.policy_set import PolicySet
from gateway.policy.schema import AuditContent


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """What the request path needs from the audit trail."""

    writer: AuditWriter
    sealer: ContentSealer
    config: AuditConfig
    verifier: IncrementalVerifier
    """Incremental, throttled verification for the compliance API and page."""


def build_audit_trail(engine: Engine, config: AuditConfig) -> AuditTrail:
    """Load the signing key (required) and content key (optional); build the writer."""
    signer = load_signer(config.signing_key_file)
    sealer = ContentSealer(load_content_key(config))
    verifier = IncrementalVerifier(
        engine, config, lambda: trusted_public_keys(config.signing_key_file)
    )
    return AuditTrail(
        writer=AuditWriter(engine, signer, config), sealer=sealer, config=config, verifier=verifier
    )


def policy_content_levels(policies: PolicySet) -> Iterator[tuple[str, AuditContent]]:
    """(policy name, audit content level) of every loaded policy, for ``require_content_key``."""
    for name, policy in policies.policies.items():
        yield name, policy.audit.content
