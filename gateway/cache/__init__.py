"""The response cache: deterministic answers stored per tenant and served again.

A policy turns it on (``cache: {enabled: true}``). Only requests whose answer cannot change
between two calls are cached: temperature 0, or a fixed seed. The key is a SHA-256 over the
tenant, route, model, the prompt as the engine sees it (after redaction), every sampling
parameter and the department's PII rules. The stored answer is the completion after output
redaction and *before* pseudonyms are restored, so no caller's personal data is stored;
each hit restores its own request's pseudonyms.

    key.py          which requests are cacheable, and their key
    entry.py        the stored answer (msgspec) and its encoding
    store.py        the store protocol and ``open_cache_store(url)``
    memory.py       bounded LRU with TTL, in this process
    redis_store.py  Redis shared by replicas (EXPIRE, per-tenant bound)
    recorder.py     what a miss stores, gathered as the answer streams
    replay.py       a hit played back as engine steps, pseudonyms restored
    gate.py         ``ResponseCache``: look up and store for the pipeline, never failing it
"""
