"""GGUF → Hugging Face checkpoint, so a llama.cpp model can be fine-tuned.

transformers reads GGUF files (de-quantizing them) but refuses to ``save_pretrained`` a
model loaded that way; rebuilding the model from its config without the GGUF
quantization entry and loading the weights into it gives a normal checkpoint. The
result is cached by the GGUF file's hash, so it is converted once per machine.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from interactive_agents.errors import InputError
from interactive_agents.llm.local._cache import cache_root, file_digest


def convert_gguf(gguf: str | Path, out: str | Path) -> Path:
    """Write the de-quantized float32 HF checkpoint (model and tokenizer) of ``gguf``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = Path(gguf)
    if not source.is_file():
        raise InputError("no such GGUF file", file=str(source))
    folder, name = str(source.parent), source.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    loaded = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, dtype=torch.float32)
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)  # type: ignore[no-untyped-call]
    model.load_state_dict(loaded.state_dict())
    target = Path(out)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def cached_checkpoint(gguf: str | Path, cache: str | Path | None = None) -> Path:
    """The HF checkpoint of ``gguf`` under the cache, converted on first use.

    The conversion is written to a temporary folder and renamed into place, so
    concurrent callers never see a half-written checkpoint.
    """
    source = Path(gguf)
    if not source.is_file():
        raise InputError("no such GGUF file", file=str(source))
    root = Path(cache) if cache is not None else cache_root()
    target = root / "hf-from-gguf" / f"{source.stem}-{file_digest(source)[:16]}"
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".converting-", dir=target.parent))
    try:
        convert_gguf(source, staging)
        staging.rename(target)
    except OSError:
        if not (target / "config.json").is_file():  # not a concurrent caller who won
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
