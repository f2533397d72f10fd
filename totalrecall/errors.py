"""The error hierarchy; the CLI turns each class into a one-line message and an exit code."""

from __future__ import annotations

__all__ = [
    "TotalRecallError",
    "ConfigError",
    "PipelineError",
    "RegistryError",
    "CacheMissError",
    "LockHeldError",
    "MassRemovalError",
    "SourceError",
    "AuthError",
    "PartialFailure",
]


class TotalRecallError(Exception):
    """Base of every error TotalRecall reports to the user."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(TotalRecallError):
    """config.toml, credentials.toml or a command-line argument is wrong."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class PipelineError(TotalRecallError):
    """A pipeline file is invalid; `problems` holds every located problem."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class RegistryError(TotalRecallError):
    """A primitive name is unknown or registered twice."""

    exit_code = 2


class CacheMissError(TotalRecallError):
    """`--use-cache` asked for data the collect cache does not hold."""

    exit_code = 2

    def __init__(self, service: str, data_type: str) -> None:
        super().__init__(f"cache miss: {service} {data_type}")
        self.service = service
        self.data_type = data_type


class LockHeldError(TotalRecallError):
    """Another sync holds the lock."""

    exit_code = 3


class MassRemovalError(TotalRecallError):
    """The removal guard stopped the run before any write."""

    exit_code = 4


class SourceError(TotalRecallError):
    """A service failed: unreachable, answered garbage, refused a request."""

    exit_code = 1

    def __init__(self, service: str, message: str) -> None:
        super().__init__(f"{service}: {message}")
        self.service = service


class AuthError(SourceError):
    """A service is not logged in, or rejected its credentials."""


class PartialFailure(TotalRecallError):
    """The run finished but one or more services failed; the summary names them."""

    exit_code = 1
