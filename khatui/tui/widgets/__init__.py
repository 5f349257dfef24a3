"""Widgets of the wizard and the rollout view; each carries its own DEFAULT_CSS."""
