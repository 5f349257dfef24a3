"""The rollout service: spec file -> desired files -> observed nodes -> plan -> journaled execution.

This is what the headless CLI and the TUI both call; neither builds plans or opens SSH itself.
"""
