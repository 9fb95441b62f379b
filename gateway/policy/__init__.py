"""Department policies: YAML files → ``PolicySet`` → ``evaluate()`` → ``Decision``.

The lead pieces: ``PolicyStore`` holds the set in force (built in the app's lifespan,
reloaded on file change or SIGHUP), ``evaluate`` applies it to a ``PolicyRequest``, and
the ``Decision`` carries every number the later gates read, or the refusal to send.
"""

from gateway.policy.decision import Decision, Violation
from gateway.policy.evaluate import evaluate
from gateway.policy.loader import load_policy_set
from gateway.policy.policy_set import PolicySet
from gateway.policy.problems import PolicyError
from gateway.policy.request import (
    PolicyRequest,
    policy_request_for_chat,
    policy_request_for_completion,
)
from gateway.policy.schema import Policy
from gateway.policy.store import PolicyStore

__all__ = [
    "Decision",
    "Policy",
    "PolicyError",
    "PolicyRequest",
    "PolicySet",
    "PolicyStore",
    "Violation",
    "evaluate",
    "load_policy_set",
    "policy_request_for_chat",
    "policy_request_for_completion",
]
