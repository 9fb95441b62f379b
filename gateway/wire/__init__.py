"""OpenAI-compatible wire formats: request and response structs, decoding with clear errors."""
