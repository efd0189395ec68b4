"""Fixtures of the viewer tests (the helpers are in browser_helpers.py beside this file)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from view import browser_helpers as helpers


@pytest.fixture(scope="session")
def view_shard(tmp_path_factory) -> str:
    """The small recording of :func:`~view.browser_helpers.write_view_shard` (read only by the tests)."""
    return helpers.write_view_shard(tmp_path_factory.mktemp("view") / "small.enc")


@pytest.fixture
def browser() -> SimpleNamespace:
    """Headless Chromium and the constants of the small recording."""
    return SimpleNamespace(run=helpers.run_chromium, state=helpers.app_state, netlog_urls=helpers.netlog_urls,
                           frame_image=helpers.frame_image, T0=helpers.T0, FRAME_US=helpers.FRAME_US,
                           H=helpers.H, W=helpers.W)
