"""Helpers of the security suite: real local HTTP servers on free ports, and a search for secrets on disk."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = ["LocalServer", "files_holding", "modes_under", "self_signed_certificate"]


def files_holding(root: Path, secrets: Iterable[str]) -> dict[str, list[str]]:
    """Each file under `root` (binary ones too: sqlite, journals) that holds one of `secrets`, with which."""
    wanted = [s for s in secrets if s]
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        hits = [s for s in wanted if s.encode() in data]
        if hits:
            found[str(path.relative_to(root))] = hits
    return found


def modes_under(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(files not 0600, folders not 0700) under `root`, each with its mode in octal; the root counts too."""
    files: dict[str, str] = {}
    folders: dict[str, str] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        mode = path.lstat().st_mode & 0o777
        name = str(path.relative_to(root)) or "."
        if path.is_symlink():
            continue
        if path.is_dir() and mode != 0o700:
            folders[name] = oct(mode)
        elif path.is_file() and mode != 0o600:
            files[name] = oct(mode)
    return files, folders


class LocalServer:
    """A real HTTP server on a free port (127.0.0.1:0) answering from a table and recording what it got.

    `routes` maps a path to (status, headers, body); a path not in it answers 404. Every request is kept
    as (method, path, headers) so a test can see which headers reached which server.
    """

    def __init__(
        self, routes: dict[str, tuple[int, dict[str, str], bytes]] | None = None, *, tls: Path | None = None
    ) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = dict(routes or {})
        self.received: list[tuple[str, str, dict[str, str]]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.received.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, headers, body = server.routes.get(self.path.split("?")[0], (404, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value.replace("{self}", server.url))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls)
            self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def headers_at(self, path: str) -> list[dict[str, str]]:
        return [headers for _, got, headers in self.received if got.split("?")[0] == path]

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def self_signed_certificate(folder: Path) -> Path | None:
    """A PEM file with a key and a certificate for 127.0.0.1 (openssl's command line); None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    pem = folder / "local.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(pem), "-out", str(folder / "cert.pem")],
        check=True, capture_output=True,
    )
    pem.write_text(pem.read_text() + (folder / "cert.pem").read_text())
    return pem
