"""Fixtures for end-to-end runs."""

from support.workspace import workspace  # noqa: F401 - a fixture
