"""Thin route handlers: decode, call the pipeline, render."""
