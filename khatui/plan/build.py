"""Transitional alias of `khatui.plan.compose` for callers outside the plan package that are being
rewritten in parallel (khatui/rollout/service.py); removed once they import from `compose`."""

from khatui.plan.compose import bootstrap_token, build_plan, probed_paths

__all__ = ["bootstrap_token", "build_plan", "probed_paths"]
