"""Rollouts: spec file -> desired files -> observed nodes -> plan -> journaled execution.

`rollout.Rollout` is what the headless CLI and the TUI both call; neither builds plans, opens SSH
or the journal itself. `progress.Board` is the one projection of its events that every view
draws from.
"""
