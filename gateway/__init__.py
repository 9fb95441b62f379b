"""Enclave: a secure enterprise API gateway in front of an in-process vLLM engine."""
