"""Preflight: nodes x checks, each pass/warn/fail with the evidence, from the spec and the facts."""
