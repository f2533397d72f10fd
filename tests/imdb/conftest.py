"""Browser tests run in real headless Chromium; locally they can be skipped on request, never silently."""

from __future__ import annotations

import os

import pytest

SKIP_VARIABLE = "TOTALRECALL_SKIP_BROWSER"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("CI", "").lower() == "true":
        return  # CI always drives the browser
    opted_out = os.environ.get(SKIP_VARIABLE, "") not in ("", "0", "false")
    try:
        opted_out = opted_out or bool(config.getoption("--no-browser"))
    except ValueError:
        pass  # the --no-browser option is not registered in this checkout
    if not opted_out:
        return
    reason = f"browser test skipped on request ({SKIP_VARIABLE}=1 or --no-browser); CI runs it"
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))
