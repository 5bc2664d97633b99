"""interactive-agents: simulated counselor-client sessions between LLMs, at scale.

The public API, re-exported from small private-ish modules (see docs/library.md).
"""

from interactive_agents.errors import (
    ActorStoppedError,
    BackendError,
    BadResponseError,
    CardError,
    ConfigError,
    EndpointDownError,
    EndpointTimeoutError,
    EndpointUnusableError,
    EngineError,
    InputError,
    LocalServerError,
    PermanentEndpointError,
    RateLimitedError,
    RunDirectoryError,
    RunLockedError,
    RunStorageError,
    ServerError,
    SessionCancelledError,
    SessionError,
    ShardFailedError,
)
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Completion, Sampling, Usage
from interactive_agents.llm._transport import AiohttpClient, HttpClient, HttpxClient
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions
from interactive_agents.method._cards import BigFive, CardBatch, RoleCard, Trait, load_cards
from interactive_agents.method._config import (
    RefinerConfig,
    RoleConfig,
    RunConfig,
    StageConfig,
    TerminatorConfig,
    build_config,
)
from interactive_agents.method._records import (
    DialogueRecord,
    FailureRecord,
    Rejection,
    Termination,
    Turn,
)
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.runtime._engine import Engine, Result
from interactive_agents.runtime._runner import DialogueHandle, RunnerState

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
    "EndpointDownError",
    "EndpointTimeoutError",
    "EndpointUnusableError",
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
    "PermanentEndpointError",
    "RateLimitedError",
    "RefinerConfig",
    "Rejection",
    "Result",
    "RoleCard",
    "RoleConfig",
    "RunConfig",
    "RunDirectoryError",
    "RunLockedError",
    "RunStorageError",
    "RunnerState",
    "Sampling",
    "ServerError",
    "SessionCancelledError",
    "SessionError",
    "ShardFailedError",
    "StageConfig",
    "Termination",
    "TerminatorConfig",
    "Trait",
    "Turn",
    "Usage",
    "build_config",
    "load_cards",
]
