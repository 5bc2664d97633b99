"""Talking to models: the chat vocabulary, endpoints and their configuration, the HTTP
seam, scheduling and retries, bots as endpoints, and the embedded llama.cpp models.

The lowest layer above :mod:`interactive_agents.errors`: it knows nothing of dialogues.
"""

from __future__ import annotations

from interactive_agents.llm._bots import (
    BOT_ENDPOINT_KEYS,
    BotEndpoint,
    bot_endpoints_toml,
    parse_bot_endpoint,
)
from interactive_agents.llm._counters import CallCounters
from interactive_agents.llm._default_client import default_http_client
from interactive_agents.llm._endpoint import ChatBackend, ChatEndpoint, estimate_tokens
from interactive_agents.llm._endpoint_config import EndpointConfig, check_url, check_variable_name
from interactive_agents.llm._health import EndpointHealth
from interactive_agents.llm._http1 import Http1Client
from interactive_agents.llm._messages import ChatMessage, ChatRole, Completion, Sampling, Usage
from interactive_agents.llm._redaction import redact
from interactive_agents.llm._retry import RetryPolicy
from interactive_agents.llm._scheduler import EndpointGate, PriorityLimiter
from interactive_agents.llm._server_metrics import (
    MetricsSample,
    ServerMetricsWatch,
    parse_prometheus,
    read_sample,
    watch_server_metrics,
)
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
    check_model_spec,
    default_model_name,
    default_model_path,
    installed_parts,
    resolve_model,
)
from interactive_agents.llm.local._server import (
    SERVER_HINT,
    LocalServer,
    LocalServerOptions,
    server_available,
)

__all__ = [
    "BOT_ENDPOINT_KEYS",
    "DEFAULT_LOCAL_MODEL",
    "MODELS",
    "SERVER_HINT",
    "AiohttpClient",
    "BotEndpoint",
    "CallCounters",
    "ChatBackend",
    "ChatEndpoint",
    "ChatMessage",
    "ChatReply",
    "ChatRole",
    "Completion",
    "EndpointConfig",
    "EndpointGate",
    "EndpointHealth",
    "Http1Client",
    "HttpClient",
    "HttpClientFactory",
    "HttpResponse",
    "HttpxClient",
    "LocalModel",
    "LocalServer",
    "LocalServerOptions",
    "MetricsSample",
    "NotAChatCompletion",
    "PriorityLimiter",
    "RetryPolicy",
    "Sampling",
    "ServerMetricsWatch",
    "UnresolvableHostError",
    "Usage",
    "bot_endpoints_toml",
    "chat_request",
    "check_model_spec",
    "check_url",
    "check_variable_name",
    "default_http_client",
    "default_model_name",
    "default_model_path",
    "estimate_tokens",
    "installed_parts",
    "parse_bot_endpoint",
    "parse_completion",
    "parse_prometheus",
    "read_sample",
    "redact",
    "resolve_model",
    "server_available",
    "watch_server_metrics",
]
