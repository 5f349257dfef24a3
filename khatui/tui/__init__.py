"""The Textual wizard and live rollout view: the only package of khatui that imports textual.

The TUI is a skin over the headless core: screens collect answers into one spec document
(`state.WizardState`), the core validates, plans and executes it (`services.Services` hands out
`khatui.rollout.rollout.Rollout` objects; the TUI never imports the engine), and a bridge
(`bridge.EventBridge`) turns engine events from worker threads into coalesced messages.
"""
