"""Inference engines. Knows nothing about tenants or HTTP."""
