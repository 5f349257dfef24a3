"""Headless views of plans and rollouts, drawn with rich (the TUI is the other view)."""
