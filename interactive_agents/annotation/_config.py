"""The configuration of the annotation platform (``AnnotationConfig``), from flags or a recipe.

Built by the one builder of every command's configuration
(:func:`interactive_agents.build_config` with ``kind=AnnotationConfig``)::

    db = "annotation.db"
    bots = "bots.toml"                  # the bots registry, relative to this recipe
    language = "zh"
    trusted_proxies = ["127.0.0.1"]     # nginx on the same host sets X-Forwarded-For
    secure_cookie = true
    allowed_origins = ["https://annotate.example.org"]
    [throttle]
    per_account = 5
    per_address = 30
    window = 900
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import ClassVar

from interactive_agents._recipes import FieldError
from interactive_agents.llm._endpoint_config import check_url

LANGUAGES = ("zh", "en")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """Sign-in throttling (:mod:`.throttle`): failed attempts per account name and per
    client address allowed within ``window`` seconds."""

    per_account: int = 5
    per_address: int = 30
    window: float = 900.0

    def __post_init__(self) -> None:
        for name in ("per_account", "per_address"):
            if getattr(self, name) < 1:
                raise FieldError("must be at least 1", field=name)
        if self.window <= 0:
            raise FieldError("must be positive (seconds)", field="window")


@dataclass(frozen=True, slots=True)
class AnnotationConfig:
    """How ``annotate serve`` runs the platform.

    ``db`` is the SQLite database (accounts, dialogues, battles, rating tasks); ``bots``
    the bots registry whose bots answer in battles (empty: rating tasks only).
    ``language`` is the interface's language and the bots' counselor prompt.
    ``secure_cookie`` marks the cookies ``Secure`` (HTTPS or a TLS proxy);
    ``allowed_origins`` are origins besides the platform's own (a proxy's public
    address). ``trusted_proxies`` are the addresses (or networks) of reverse proxies
    whose ``X-Forwarded-For`` names the client: without them every client behind a
    proxy has the proxy's address.
    """

    db: str = "annotation.db"
    bots: str = ""
    language: str = "zh"
    host: str = "127.0.0.1"
    port: int = 8080
    session_hours: float = 12.0
    refiner_attempts: int = 3
    secure_cookie: bool = False
    allowed_origins: tuple[str, ...] = ()
    trusted_proxies: tuple[str, ...] = ()
    throttle: ThrottleConfig = field(default_factory=ThrottleConfig)

    PATHS: ClassVar[tuple[str, ...]] = ("db", "bots")

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise FieldError(f"must be one of {', '.join(LANGUAGES)}", field="language")
        if not 0 < self.port < 65536:
            raise FieldError("must be a port number, 1 to 65535", field="port")
        if self.session_hours <= 0:
            raise FieldError("must be positive", field="session_hours")
        if self.refiner_attempts < 1:
            raise FieldError("must be at least 1", field="refiner_attempts")
        for origin in self.allowed_origins:
            check_url(origin, field="allowed_origins")
        self.proxy_networks()

    def proxy_networks(self) -> tuple[Network, ...]:
        """The trusted proxies as networks (a bare address is a network of one)."""
        networks = []
        for entry in self.trusted_proxies:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError as exc:
                raise FieldError(
                    f"{entry!r} is not an IP address or network", field="trusted_proxies"
                ) from exc
        return tuple(networks)


@dataclass(frozen=True, slots=True)
class RatingTaskConfig:
    """A rating task (``annotate assign``): ``corpora`` (run directories or corpus files,
    read as ``evaluate`` reads them) rated on ``rubric`` by ``annotators``, each session
    by ``overlap`` of them; ``sample`` takes that many sessions at random (``seed``), all
    by default. The rubric is the judge's card in ``language`` (``auto``: the corpora's,
    as ``evaluate`` detects it) from ``actors_dir``; ``topics`` and ``max_topics`` are the
    topic rubric's set and limit, as ``evaluate topics`` takes them.
    """

    db: str = "annotation.db"
    task: str = ""
    rubric: str = "wai"
    corpora: tuple[str, ...] = ()
    annotators: tuple[str, ...] = ()
    overlap: int = 2
    sample: int | None = None
    seed: int = 0
    language: str = "auto"
    actors_dir: str | None = None
    topics: str | None = None
    max_topics: int = 3

    PATHS: ClassVar[tuple[str, ...]] = ("db", "actors_dir", "topics")

    def __post_init__(self) -> None:
        if self.language not in ("auto", *LANGUAGES):
            raise FieldError(f"must be auto or one of {', '.join(LANGUAGES)}", field="language")
        if self.overlap < 2:
            raise FieldError(
                "must be at least 2: agreement between people needs every session rated twice",
                field="overlap",
            )
        if self.sample is not None and self.sample < 1:
            raise FieldError("must be at least 1", field="sample")
        if self.max_topics < 1:
            raise FieldError("must be at least 1", field="max_topics")
