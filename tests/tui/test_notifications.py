"""At 80x24 notifications show over the chrome at the top (step bar, heading, hint), a line each where
they fit, not over the page: the fields, the problems, the rollout's log and the key bar stay readable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.widgets._toast import Toast

from khatui.tui.widgets.keybar import KeyBar
from tests.tui.test_snapshots import settle, wizard


def test_notifications_leave_the_page_readable(spec_copy: Path) -> None:
    async def run() -> None:
        app = wizard(spec_copy, "inventory")
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot)
            app.notify("saved /tmp/cluster.yaml")
            app.notify(
                "spec.loadBalancer.vip: 10.30.0.100 is not in any node's subnet (+2 more)",
                title="Cannot continue yet",
                severity="error",
            )
            await settle(pilot)
            toasts = list(app.screen.query(Toast))
            body = app.screen.query_one(".step-body").region
            assert len(toasts) == 2 and [t.region.height for t in toasts] == [1, 2]
            assert all(t.region.bottom <= body.y for t in toasts)  # over the chrome only
            assert not any(t.region.overlaps(app.screen.query_one(KeyBar).region) for t in toasts)

    asyncio.run(run())
