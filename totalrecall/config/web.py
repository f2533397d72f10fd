"""config.toml's [web]: whether the daemon serves the page, where it listens, and the token beyond loopback."""

from __future__ import annotations

import ipaddress

import attrs

from totalrecall.config.checks import InvalidSetting, setting
from totalrecall.errors import ConfigError

__all__ = ["WebSettings", "Listen", "parse_listen", "check_web_settings", "web_problem", "DEFAULT_LISTEN"]

DEFAULT_LISTEN = "127.0.0.1:8765"


def _listen(value: str) -> str:
    try:
        parse_listen(value)
    except ConfigError as error:
        raise InvalidSetting(error.message.removeprefix("[web] listen: ")) from None
    return value


@attrs.frozen
class WebSettings:
    enabled: bool = False
    listen: str = setting(DEFAULT_LISTEN, check=_listen)
    token: str | None = None


@attrs.frozen
class Listen:
    host: str
    port: int

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def url(self, port: int | None = None) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port if port is not None else self.port}/"


def parse_listen(text: str) -> Listen:
    """`HOST:PORT` (`[::1]:8765` for IPv6); a bad value is a one-line config error."""
    host, sep, port = str(text).strip().rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f'[web] listen: "{text}" is not HOST:PORT (like {DEFAULT_LISTEN})')
    return Listen(host, int(port))


def web_problem(listen: Listen, token: str | None) -> str | None:
    """What is wrong with [web] token for `listen`: a page reachable beyond this computer must ask for one."""
    if not listen.loopback and not token:
        return (f"required: [web] listen = \"{listen.host}:{listen.port}\" is reachable from other machines, "
                "so the page must ask for a token (a long random string)")
    if token is not None and len(token) < 16:
        return "use at least 16 characters (a long random string)"
    return None


def check_web_settings(listen: Listen, token: str | None) -> None:
    problem = web_problem(listen, token)
    if problem is not None:
        raise ConfigError(f"[web] token: {problem}")
