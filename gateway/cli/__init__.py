"""The ``enclave`` admin CLI."""
