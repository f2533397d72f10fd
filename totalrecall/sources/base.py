"""The uniform surface every service connector offers: read and write per data type."""

from __future__ import annotations

import abc
import functools
import json
import logging
import math
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from totalrecall.config.servicesection import ServiceSection
from totalrecall.errors import SourceError
from totalrecall.model import Capabilities, DataType, Entry

if TYPE_CHECKING:
    from totalrecall.config.credentials import CredentialStore
    from totalrecall.config.paths import Paths
    from totalrecall.resolve.normalizers import Normalizer

__all__ = [
    "Service", "ServiceContext", "WriteResult", "Excluded", "refusal_error", "Malformed", "MalformedRecords",
    "check_record", "MAX_RECORD_DEPTH", "PARSE_ERRORS", "describe_parse_error",
]

_log = logging.getLogger("totalrecall.sources")
_T = TypeVar("_T")

# A record nested deeper than this is no media record of any service (Trakt's deepest is about 6 levels).
MAX_RECORD_DEPTH = 32
# What parsing a record of the wrong shape raises: each one means "this record", never "this service".
PARSE_ERRORS = (TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, RecursionError)
_EXCERPT = 200


@attrs.frozen
class Excluded:
    """An entry a target could not take, with the reason shown in excluded.json.

    `retry` marks a passing reason (the write's outcome was unknown): the entry is offered again on the
    next sync instead of being left behind by the incremental cut-off like a title the target lacks.
    `status` is the HTTP status with which the service refused the write that carried the entry (None
    when nothing was sent for it, or the answer was no refusal): see `WriteResult.uniform_refusal`.
    """

    entry: Entry
    reason: str
    retry: bool = False
    status: int | None = None


@attrs.frozen
class Malformed:
    """A record a service sent that does not parse: left out of the collect and listed in excluded.json."""

    service: str
    data_type: DataType
    what: str
    record: str

    @property
    def reason(self) -> str:
        return f"malformed: {self.service} sent a {self.data_type.value} record that does not parse ({self.what})"

    def as_json(self) -> dict[str, str]:
        return {"reason": self.reason, "record": self.record}


def check_record(record: Any, depth: int = 0) -> None:
    """Raise ValueError for what no service's record holds: Infinity/NaN numbers or nesting deeper than
    MAX_RECORD_DEPTH (checked by walking, without recursion limits of the parser's own)."""
    stack = [(record, depth)]
    while stack:
        value, level = stack.pop()
        if level > MAX_RECORD_DEPTH:
            raise ValueError(f"nested more than {MAX_RECORD_DEPTH} levels deep")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"the number {value} is not finite")
        if isinstance(value, Mapping):
            stack.extend((child, level + 1) for child in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((child, level + 1) for child in value)


def _excerpt(record: Any) -> str:
    try:
        text = json.dumps(record, ensure_ascii=False, default=repr)
    except (ValueError, RecursionError):
        text = "<unprintable>"
    return text if len(text) <= _EXCERPT else text[: _EXCERPT - 1] + "…"


def describe_parse_error(error: BaseException) -> str:
    if isinstance(error, RecursionError):
        return f"nested more than {MAX_RECORD_DEPTH} levels deep"
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class MalformedRecords:
    """The records of one service that did not parse, per data type, for the run to report.

    `parse` is the one way a connector turns a raw record into an entry: a record that fails (a wrong
    type, an impossible time, an id that is a list, Infinity, deep nesting) is skipped and remembered with
    what was wrong; the rest of the collect goes on.
    """

    def __init__(self, service: str) -> None:
        self.service = service
        self._found: dict[DataType, list[Malformed]] = {}

    def parse(self, data_type: DataType, record: Any, parse: Callable[[Any], _T]) -> _T | None:
        try:
            check_record(record)
            return parse(record)
        except PARSE_ERRORS as error:
            self.add(data_type, record, describe_parse_error(error))
            return None

    def add(self, data_type: DataType, record: Any, what: str) -> None:
        found = Malformed(self.service, data_type, what, _excerpt(record))
        self._found.setdefault(data_type, []).append(found)
        _log.warning("%s: a %s record was left out: %s", self.service, data_type.value, found.reason)

    def take(self, data_type: DataType) -> list[Malformed]:
        """The malformed records of `data_type` found since the last call (and forgets them)."""
        return self._found.pop(data_type, [])


@attrs.frozen
class WriteResult:
    """What a target accepted of one write; only accepted entries advance baselines and timestamps.

    `left` names entries of other data types the service dropped by itself as a consequence (Simkl moves
    a plan-to-watch title to completed when a watch is recorded): the sync caused that, so it must not be
    read as a removal by the user on the next run.
    """

    added: tuple[Entry, ...] = ()
    removed: tuple[Entry, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    left: Mapping[DataType, tuple[Entry, ...]] = attrs.field(factory=dict)

    def uniform_refusal(self) -> Excluded | None:
        """One of the refusals, when the service took nothing and refused every write it was sent the same
        way (one status, at least twice).

        Titles a service lacks are refused one by one and differently; a wrong host, a retired endpoint or
        a broken account refuses them all alike (Plex's metadata host answers every watchlist action 404).
        Such a write is a failure of the service, not a list of excluded titles.
        """
        if self.added or self.removed:
            return None
        refused = [item for item in self.excluded if item.status is not None]
        if len(refused) < 2 or len({item.status for item in refused}) != 1:
            return None
        return refused[0]


def refusal_error(service: str, data_type: DataType, result: WriteResult) -> SourceError | None:
    """The failure to report when `result` is a uniform refusal (see WriteResult.uniform_refusal)."""
    refusal = result.uniform_refusal()
    if refusal is None:
        return None
    count = sum(1 for item in result.excluded if item.status is not None)
    return SourceError(
        service,
        f"refused all {count} {data_type.value} writes with HTTP {refusal.status} ({refusal.reason}); "
        "nothing was taken, so this is the service failing, not titles it lacks",
    )


@attrs.frozen
class ServiceContext:
    """Everything a connector needs from the outside world, handed in so connectors hold no globals.

    `settings` is the service's config.toml section (pipeline overrides applied); `session_factory`
    makes the requests session the collect cache wraps (tokens and keys redacted from what it stores);
    `state` is a small JSON-able dict the connector may keep between runs (e.g. last activities).
    """

    name: str
    settings: Mapping[str, Any]
    credentials: CredentialStore
    paths: Paths
    session_factory: Callable[[], Any]
    force_full_sync: bool = False
    time_scale: float = 1.0
    load_state: Callable[[], dict[str, Any]] = dict
    save_state: Callable[[dict[str, Any]], None] = lambda state: None
    load_snapshot: Callable[[DataType], list[Entry] | None] = lambda data_type: None


class Service(abc.ABC):
    """A connected account on one service.

    Subclasses declare `capabilities` and register themselves in `totalrecall.registries.services`.
    `read` returns every entry of a data type; `write` applies adds and removals and reports exactly what
    the service accepted. Both raise SourceError (or AuthError) with a one-line reason on failure.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    login_command: ClassVar[str] = ""
    # How the service describes itself to config.toml, the wizard and `config show`, so none of them lists
    # services by hand. Where its one account's settings live, dotted ("trakt" for [trakt], "sources.imdb");
    # "" for a service set up by any number of [sources.<name>] sections naming it as their `type`.
    config_table: ClassVar[str] = ""
    # Its typed config.toml section with every default (base URLs live there and nowhere else).
    settings_section: ClassVar[type[ServiceSection]] = ServiceSection
    # The model.Ids namespaces it reads and writes (a test holds their union equal to Ids' fields).
    id_namespaces: ClassVar[tuple[str, ...]] = ()
    # The module of totalrecall/sandbox/libraries that registers its sandbox fakes and sample library;
    # named, not imported, so a connector never loads the sandbox.
    sandbox_module: ClassVar[str] = ""
    # Its name as people write it ("Trakt"), and where its login comes in the wizard (lower first).
    title: ClassVar[str] = ""
    wizard_order: ClassVar[int] = 100
    # The credentials.toml keys it keeps; the first one present means "logged in".
    credential_keys: ClassVar[tuple[str, ...]] = ()
    # The registered normalizer (and status map, for a service with list statuses) used unless the
    # pipeline names another: every rating value read or written goes through `self.normalizer`.
    default_normalizer: ClassVar[str] = "ten_point"
    default_status_map: ClassVar[str | None] = None

    # What the setup wizard says around this service's login: before it asks for credentials, and when the
    # user turns the service down (another way in). A client secret the login can do without is optional.
    wizard_intro: ClassVar[str] = ""
    client_secret_optional: ClassVar[bool] = False

    def __init__(self, context: ServiceContext) -> None:
        self.context = context

    @classmethod
    def wizard_declined_hint(cls, configured: Collection[str]) -> str:
        """What the wizard suggests when the user does not sync with this service, given the other
        services already in config.toml ("" for nothing)."""
        return ""

    def scrobble_target(self) -> Any | None:
        """Where live scrobbling sends what the Plex server plays (a `scrobble.targets.ScrobbleTarget`), or
        None for a service that takes no scrobbles. Built over the connector's own API client."""
        return None

    @classmethod
    def login_summary(cls, logged_in: bool) -> str:
        """What a finished login left behind, in the wizard summary's words."""
        return "logged in" if logged_in else "no login stored"

    @functools.cached_property
    def normalizer(self) -> Normalizer:
        """The rating scale this account speaks: the pipeline's `normalizer`, else the service's own."""
        from totalrecall import registries

        return registries.normalizers.get(str(self.context.settings.get("normalizer") or self.default_normalizer))

    @property
    def malformed(self) -> MalformedRecords:
        """Records of this service that did not parse (see MalformedRecords); made on first use, so a
        connector whose __init__ does not call this one's still has it."""
        found = self.__dict__.get("_malformed_records")
        if found is None:
            name = getattr(getattr(self, "context", None), "name", None) or self.name
            found = self.__dict__["_malformed_records"] = MalformedRecords(name)
        return found

    def check_ready(self) -> None:  # noqa: B027 - optional hook
        """Raise AuthError naming the `config` command when the account is not logged in."""

    @abc.abstractmethod
    def read(self, data_type: DataType) -> list[Entry]: ...

    @abc.abstractmethod
    def write(self, data_type: DataType, adds: Sequence[Entry], removals: Sequence[Entry]) -> WriteResult: ...

    def foreseen_refusal(self, data_type: DataType, entry: Entry) -> str | None:
        """Why the service will not take this add, when what it read already settles it (a status it keeps,
        a title outside its libraries): the plan lists the add as excluded with this reason, so the plan and
        the result agree. None when only the write can tell; `write` stays the authority either way.
        Only facts no earlier write of the run can change may decide here."""
        return None

    def account(self) -> list[str]:
        """For `totalrecall info`: who is signed in and where (a live call), one fact a line; [] when the
        service has no such lookup (check_ready passing is then all that is known)."""
        return []

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections, browsers and other resources; called also after errors."""
