"""How secrets are shown when they must be shown at all: masked, and removed from free text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["mask", "redact"]


def mask(value: Any) -> str:
    """Enough of a secret to tell two apart, never enough to use it."""
    if isinstance(value, str) and len(value) > 10:
        return f"{value[:4]}…{value[-2:]}"
    return "****"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (longest first, so a secret containing another goes whole) masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text
