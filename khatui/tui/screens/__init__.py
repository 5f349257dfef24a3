"""One module per wizard step, plus the dialogs and the rollout view."""
