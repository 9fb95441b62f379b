"""Presidio recognizers the gateway builds: one per entity type a policy defines itself.

The gateway's built-in recognizers do not use Presidio (``gateway/redaction/rules``).
Importing this package imports Presidio: do it only after
``gateway.redaction.offline.prepare_offline_environment()``.
"""

from __future__ import annotations

from gateway.redaction.recognizers.policy import policy_recognizers

__all__ = ["policy_recognizers"]
