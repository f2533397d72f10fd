"""How secrets are shown when they must be shown at all: masked, and removed from free text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["MASK_SHOWS_FROM", "mask", "redact"]


# One rule everywhere a secret is shown (config show, logins, logs, errors): the last 4 characters of a
# secret of 16 or more, enough to tell two apart; nothing of a shorter one, where 4 would be a quarter of it.
MASK_SHOWS_FROM = 16


def mask(value: Any) -> str:
    """`****` and, for a secret of 16 characters or more, its last 4."""
    if isinstance(value, str) and len(value) >= MASK_SHOWS_FROM:
        return f"****{value[-4:]}"
    return "****"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (longest first, so a secret containing another goes whole) masked."""
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, mask(secret))
    return text
