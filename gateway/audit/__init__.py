"""The audit trail: every request's record, hash-chained, group-committed, verifiable.

What the request path uses: ``AuditWriter`` (``append`` resolves once the record is durable),
``RequestAudit`` (builds a request's events), ``ContentSealer`` (what content a policy keeps).
What compliance tooling uses: ``query`` (search, show, export), ``verify``, ``purge``.
"""
