"""The pure resolve core: strategies, membership, post-rules, normalizers, status maps and filters."""

from __future__ import annotations

from totalrecall.resolve import filters, membership, normalizers, rules, statusmaps, strategies
from totalrecall.resolve.filters import apply_filter
from totalrecall.resolve.membership import resolve
from totalrecall.resolve.normalizers import Normalizer
from totalrecall.resolve.options import Resolution, ResolveOptions
from totalrecall.resolve.statusmaps import StatusMap

__all__ = [
    "Normalizer",
    "Resolution",
    "ResolveOptions",
    "StatusMap",
    "apply_filter",
    "filters",
    "membership",
    "normalizers",
    "resolve",
    "rules",
    "statusmaps",
    "strategies",
]
