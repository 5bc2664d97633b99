"""Talking to models: the backend protocol and endpoint, the scheduler, the HTTP seam,
and the supervised child-process servers (the embedded llama.cpp model).

Built on :mod:`interactive_agents.method` (endpoint configuration, chat messages,
completions); knows nothing of dialogues.
"""

from __future__ import annotations

from interactive_agents.llm._counters import CallCounters
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint
from interactive_agents.llm._health import EndpointHealth
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._retry import RetryPolicy
from interactive_agents.llm._scheduler import EndpointGate, PriorityLimiter
from interactive_agents.llm._transport import (
    AiohttpClient,
    HttpClient,
    HttpClientFactory,
    HttpResponse,
    HttpxClient,
    UnresolvableHostError,
)
from interactive_agents.llm._wire import (
    ChatReply,
    NotAChatCompletion,
    chat_request,
    parse_completion,
)
from interactive_agents.llm.local._models import (
    DEFAULT_LOCAL_MODEL,
    MODELS,
    LocalModel,
    default_model_path,
    resolve_model,
)
from interactive_agents.llm.local._server import LocalServer, LocalServerOptions

__all__ = [
    "DEFAULT_LOCAL_MODEL",
    "MODELS",
    "AiohttpClient",
    "CallCounters",
    "ChatBackend",
    "ChatEndpoint",
    "ChatReply",
    "EndpointGate",
    "EndpointHealth",
    "HttpClient",
    "HttpClientFactory",
    "HttpResponse",
    "HttpxClient",
    "LocalModel",
    "LocalServer",
    "LocalServerOptions",
    "NotAChatCompletion",
    "PriorityLimiter",
    "RetryPolicy",
    "UnresolvableHostError",
    "chat_request",
    "default_model_path",
    "parse_completion",
    "redact",
    "resolve_model",
]
