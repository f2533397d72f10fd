"""Fixtures shared by every test folder."""

from support.workspace import workspace  # noqa: F401 - a fixture
