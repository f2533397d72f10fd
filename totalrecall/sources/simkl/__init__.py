"""The Simkl connector package; importing it registers the `simkl` service."""

from totalrecall.sources.simkl.service import BATCH_SIZE, SimklService

__all__ = ["SimklService", "BATCH_SIZE"]
