"""The engine: the only package that talks SSH (fabric), executing plans with live events."""
