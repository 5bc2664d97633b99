"""interactive-agents: simulated counselor-client sessions between LLMs, at scale.

The public API, re-exported from small private-ish modules (see README, "Library API").
"""

from .backends import ChatBackend, ChatEndpoint
from .cards import BigFive, CardBatch, RoleCard, Trait, load_cards
from .config import (
    EndpointConfig,
    RefinerConfig,
    RoleConfig,
    RunConfig,
    StageConfig,
    TerminatorConfig,
    build_config,
)
from .engine import DialogueHandle, Engine, Result
from .errors import (
    ActorStoppedError,
    BackendError,
    BadResponseError,
    CardError,
    ConfigError,
    EndpointTimeoutError,
    EngineError,
    InputError,
    LocalServerError,
    RateLimitedError,
    RunDirectoryError,
    ServerError,
    SessionCancelledError,
    SessionError,
)
from .local import LocalServer, LocalServerOptions
from .messages import (
    ChatMessage,
    Completion,
    DialogueRecord,
    FailureRecord,
    Rejection,
    Sampling,
    Termination,
    Turn,
    Usage,
)
from .stats import EngineStats
from .transport import AiohttpClient, HttpClient, HttpxClient

__all__ = [
    "ActorStoppedError",
    "AiohttpClient",
    "BackendError",
    "BadResponseError",
    "BigFive",
    "CardBatch",
    "CardError",
    "ChatBackend",
    "ChatEndpoint",
    "ChatMessage",
    "Completion",
    "ConfigError",
    "DialogueHandle",
    "DialogueRecord",
    "EndpointConfig",
    "EndpointTimeoutError",
    "Engine",
    "EngineError",
    "EngineStats",
    "FailureRecord",
    "HttpClient",
    "HttpxClient",
    "InputError",
    "LocalServer",
    "LocalServerError",
    "LocalServerOptions",
    "RateLimitedError",
    "RefinerConfig",
    "Rejection",
    "Result",
    "RoleCard",
    "RoleConfig",
    "RunConfig",
    "RunDirectoryError",
    "Sampling",
    "ServerError",
    "SessionCancelledError",
    "SessionError",
    "StageConfig",
    "Termination",
    "TerminatorConfig",
    "Trait",
    "Turn",
    "Usage",
    "build_config",
    "load_cards",
]
