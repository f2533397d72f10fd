"""Why a request got no answer, in words a user can act on ("name not resolved", "connection refused")."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

__all__ = ["host_of", "reason"]

# Matched against the whole chain of messages requests and urllib3 wrap around the socket error; first wins.
_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("NameResolutionError", "Name or service not known", "nodename nor servname", "Temporary failure in name",
      "getaddrinfo failed", "No address associated", "Failed to resolve"), "name not resolved"),
    (("Connection refused", "ConnectionRefusedError"), "connection refused"),
    (("Network is unreachable", "No route to host"), "network unreachable"),
    (("CERTIFICATE_VERIFY_FAILED", "certificate verify failed"), "TLS certificate not trusted"),
    (("RemoteDisconnected", "Connection reset", "Connection aborted", "BrokenPipe"), "connection dropped"),
)


def host_of(url: str) -> str:
    """The host (and port, when one is given) a URL names."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or url


def reason(error: BaseException) -> str:
    """A short phrase for a connection-level failure."""
    if isinstance(error, requests.ConnectTimeout):
        return "connection timed out"
    if isinstance(error, requests.ReadTimeout):
        return "no answer in time"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "connection dropped mid-answer"
    text = f"{type(error).__name__}: {error}"
    for markers, phrase in _REASONS:
        if any(marker in text for marker in markers):
            return phrase
    if isinstance(error, requests.exceptions.SSLError):
        return "TLS handshake failed"
    return type(error).__name__
