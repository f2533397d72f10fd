"""The server side of RFC 6455 WebSockets for the fakes: the opening handshake and text frames.

Enough of the protocol for a server that pushes notifications (the Plex Media Server's
/:/websockets/notifications): it answers the handshake, sends unmasked text frames, answers pings and
close frames, and reads (masked) client frames only to notice a close or a dropped connection.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import socket
import struct
import threading
from collections.abc import Mapping
from typing import BinaryIO

__all__ = ["WebSocketConnection", "accept_key", "is_upgrade", "handshake_headers"]

_log = logging.getLogger("totalrecall.sandbox")

# RFC 6455 section 1.3: the fixed GUID the Sec-WebSocket-Accept value is derived with.
_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 section 4.2.2)."""
    return base64.b64encode(hashlib.sha1((key.strip() + _GUID).encode("ascii")).digest()).decode("ascii")  # noqa: S324 - the RFC's hash


def is_upgrade(headers: Mapping[str, str]) -> bool:
    """Whether a request asks for a WebSocket (a GET with Upgrade: websocket and a Sec-WebSocket-Key)."""
    connection = {token.strip().lower() for token in str(headers.get("Connection", "")).split(",")}
    return (
        str(headers.get("Upgrade", "")).lower() == "websocket"
        and "upgrade" in connection
        and bool(headers.get("Sec-WebSocket-Key"))
    )


def handshake_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of the 101 Switching Protocols answer to an upgrade request."""
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": accept_key(str(headers["Sec-WebSocket-Key"])),
    }


def _frame(opcode: int, payload: bytes) -> bytes:
    """One final, unmasked frame (servers never mask, RFC 6455 section 5.1)."""
    head = bytes([0x80 | opcode])
    size = len(payload)
    if size < 126:
        return head + bytes([size]) + payload
    if size < 1 << 16:
        return head + bytes([126]) + struct.pack("!H", size) + payload
    return head + bytes([127]) + struct.pack("!Q", size) + payload


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


class WebSocketConnection:
    """One accepted WebSocket: `send_text` from any thread; `serve` reads until the client goes away."""

    def __init__(self, sock: socket.socket, reader: BinaryIO) -> None:
        self._sock = sock
        self._reader = reader
        self._lock = threading.Lock()
        self.closed = threading.Event()

    def send_text(self, text: str) -> bool:
        """Send one text message; False when the connection is gone."""
        return self._send(_frame(_TEXT, text.encode("utf-8")))

    def _send(self, data: bytes) -> bool:
        if self.closed.is_set():
            return False
        try:
            with self._lock:
                self._sock.sendall(data)
        except OSError:
            self.closed.set()
            return False
        return True

    def close(self) -> None:
        """Send a close frame (1000, normal closure) and stop serving."""
        self._send(_frame(_CLOSE, struct.pack("!H", 1000)))
        self.closed.set()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self) -> None:
        """Read client frames until a close frame or a dropped connection (blocks the handler's thread)."""
        try:
            while not self.closed.is_set():
                first, second = _read_exact(self._reader, 2)
                opcode, masked, size = first & 0x0F, second & 0x80, second & 0x7F
                if size == 126:
                    size = struct.unpack("!H", _read_exact(self._reader, 2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", _read_exact(self._reader, 8))[0]
                mask = _read_exact(self._reader, 4) if masked else b"\0\0\0\0"
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(_read_exact(self._reader, size)))
                if opcode == _CLOSE:
                    self._send(_frame(_CLOSE, payload[:2]))
                    break
                if opcode == _PING:
                    self._send(_frame(_PONG, payload))
        except (EOFError, OSError, ValueError):
            _log.debug("websocket: the client went away")
        finally:
            self.closed.set()
