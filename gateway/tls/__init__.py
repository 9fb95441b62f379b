"""TLS for the gateway: development certificates and hardened SSL contexts."""
