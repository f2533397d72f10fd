"""Fixtures and options shared by every test folder."""

from __future__ import annotations

import logging
import os
import random
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from support.workspace import workspace  # noqa: F401 - a fixture

from totalrecall.sandbox.plugins import PORT_OFFSET_VARIABLE

# Two cores shared with fakes, Chromium and other test processes: generation speed and per-example time say
# nothing about correctness here, so neither fails a test (benchmarks/ measure speed).
settings.register_profile("totalrecall", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("totalrecall")

SKIP_BROWSER_VARIABLE = "TOTALRECALL_SKIP_BROWSER"
_SANDBOX_PORTS = range(18231, 18238)


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="session", autouse=True)
def _sandbox_ports_of_our_own() -> Iterator[None]:
    """Sandboxes started by tests move every fixed port to a free range, so the suite passes beside a
    user's `totalrecall sandbox serve` (and beside another test run)."""
    rng = random.Random()
    # Below the ephemeral range (32768+ on Linux), where every fake bound to port 0 lands: a range there
    # could be taken between this check and the sandbox's bind. Each xdist worker keeps to its own slots of
    # ten, so the two workers of one run never pick overlapping ranges.
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    for _ in range(200):
        offset = rng.randrange(1000 // 20, 14000 // 20) * 20 + 10 * (worker % 2)
        if all(_free(port + offset) for port in _SANDBOX_PORTS):
            break
    previous = os.environ.get(PORT_OFFSET_VARIABLE)
    os.environ[PORT_OFFSET_VARIABLE] = str(offset)
    yield
    if previous is None:
        os.environ.pop(PORT_OFFSET_VARIABLE, None)
    else:
        os.environ[PORT_OFFSET_VARIABLE] = previous


@pytest.fixture(autouse=True)
def _own_secrets() -> Iterator[None]:
    """Secrets a test registers for redaction (a login with client id "nope") do not mask another test's text."""
    from totalrecall import logsetup

    kept = set(logsetup._secrets)  # noqa: SLF001 - the process-wide redaction list
    yield
    logsetup._secrets.clear()  # noqa: SLF001
    logsetup._secrets.update(kept)  # noqa: SLF001


def _loggers() -> dict[str, logging.Logger]:
    return {name: logger for name, logger in logging.Logger.manager.loggerDict.items()
            if isinstance(logger, logging.Logger)}


def _logger_levels() -> dict[str, int]:
    return {name: logger.level for name, logger in _loggers().items()}


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Commands configure the root logger (level, handlers) and named loggers' levels (`totalrecall`, the
    chatty libraries, TOTALRECALL_LOG's); each test starts from the same logging."""
    from totalrecall import logsetup

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    levels = _logger_levels()
    configured = dict(logsetup._configured_loggers)  # noqa: SLF001 - what the next configure_logging undoes
    yield
    for name, logger in _loggers().items():
        logger.setLevel(levels.get(name, logging.NOTSET))
    logsetup._configured_loggers.clear()  # noqa: SLF001
    logsetup._configured_loggers.update(configured)  # noqa: SLF001
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()  # a daemon's log file, say
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--no-browser", action="store_true", help="skip tests marked browser (never in CI)")


def _skip_browser_tests_on_request(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run in real headless Chromium; locally they can be skipped on request, never silently."""
    if os.environ.get("CI", "").lower() == "true":
        return  # CI always drives the browser
    opted_out = os.environ.get(SKIP_BROWSER_VARIABLE, "") not in ("", "0", "false")
    if not (opted_out or config.getoption("--no-browser")):
        return
    reason = f"browser test skipped on request ({SKIP_BROWSER_VARIABLE}=1 or --no-browser); CI runs it"
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


# Under pytest-xdist a module runs whole in one worker: several modules share a stateful fake between
# their tests in order. Suites that write a page of docs/ (the reliability table, the security findings)
# write it only from a process that ran every one of their tests, so each of those runs whole in one worker.
# (A scheduler of our own: xdist's loadgroup renames node ids in a way pytest 9 no longer sees.)
_WHOLE_IN_ONE_WORKER = ("reliability", "security")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class SuiteOrModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            parts = module.split("/")
            if len(parts) > 2 and parts[0] == "tests" and parts[1] in _WHOLE_IN_ONE_WORKER:
                return "/".join(parts[:2])
            return module

    return SuiteOrModuleScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _skip_browser_tests_on_request(config, items)
