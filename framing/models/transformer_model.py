"""Fine-tuned Hugging Face encoders behind the ``TextClassifier`` protocol.

Our own loop rather than ``Trainer``: the run's MLflow logging, checkpoints
that resume to the same model, windowed long paragraphs and temperature
scaling all need control of the steps, and the loop is short. It lives in
``framing.models.transformer_training``, apart from the model, as
sentence-transformers keeps its trainer apart from its models.

- Paragraphs longer than ``max_length`` tokens are split into overlapping
  windows (``window_stride`` tokens shared); every window is trained with the
  paragraph's labels and scored, and window logits are pooled per paragraph
  (max or mean), so nothing is silently truncated.
- Scoring sorts windows by length and pads per batch under
  ``torch.inference_mode``; optional int8 dynamic quantization on CPU.
- Weights are stored as safetensors with the tokenizer; ``trust_remote_code``
  is never enabled.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from framing.data.dataset import LabelledSet
from framing.errors import ModelLoadError
from framing.models import _torch_runtime as rt
from framing.models.base import Evidence, EvidenceTerm, FitContext, ranked_terms, shown_word
from framing.models.transformer import TransformerConfig

WEIGHTS_DIR = "transformer"
# Most padded tokens per scoring batch (64 windows of 128): with windows sorted by length, a batch
# of long windows is cut so that its activations (attention grows with the square of the length)
# stay bounded, whatever ``eval_batch_size`` a GPU user sets. Measured with 64 windows of 256
# tokens on 3,000 real news paragraphs: peak memory fell by 110-230 MiB at the same speed.
# Gradients (evidence) take a quarter of it.
TOKENS_PER_BATCH = 64 * 128
# bf16 scoring pads windows to a multiple of this many tokens and batches to a power-of-two number
# of rows. torch's oneDNN builds and keeps kernels for every bf16 batch shape it meets: with
# shapes as they come, a process grew by about 30 MiB per 1,000 real paragraphs; with these fixed
# shapes it stayed flat (1.09 GiB over 20,480 paragraphs) at 371 against 385 paragraphs/s.
BF16_LENGTH_STEP = 16
# decide_and_explain explains a flagged window by running the encoder's last layer and the head again
# on the hidden state that entered that layer when the window was scored (``_last_layer_input``).
# Those replayed logits must equal the scored ones up to this much (absolute, plus the same share of
# the logit), or the model is explained by a full second pass from then on. Measured on the bf16 copy
# of the real-text model (sdpa attention scoring, eager replaying) over the flags of 6,000 distinct
# real-length and 4,000 unlabelled PTC paragraphs: at most 0.029 and 0.022 (99th percentile 0.01).
REPLAY_TOLERANCE = 0.1


def length_batches(
    lengths: Sequence[int], most_rows: int, most_tokens: int, length_step: int = 1
) -> Iterator[np.ndarray]:
    """Indices of ``lengths`` sorted by length, cut into batches of at most ``most_rows`` rows and
    ``most_tokens`` padded tokens (one row always fits, however long).

    With a ``length_step`` above 1, lengths count as rounded up to a multiple of
    it and a batch cut by a limit keeps a power-of-two number of rows, so that a
    long run meets few distinct batch shapes (see ``BF16_LENGTH_STEP``).
    """
    if length_step > 1:
        lengths = [-(-length // length_step) * length_step for length in lengths]
    order = np.argsort(np.asarray(lengths), kind="stable")
    start = 0
    while start < len(order):
        end = start + 1
        while end < len(order) and end - start < most_rows and (end - start + 1) * lengths[order[end]] <= most_tokens:
            end += 1
        if length_step > 1 and end < len(order):
            end = start + (1 << ((end - start).bit_length() - 1))
        yield order[start:end]
        start = end


def _word_spans(windows: Windows) -> list[dict[int, tuple[int, int]]]:
    """Per text, each word's character span: all its tokens, over all the text's windows.

    A word cut by a window's edge keeps its whole span, so it reads as written
    in the text whichever window explains it. Zero-width tokens (a byte-level
    BPE space marker with trimmed offsets) add nothing.
    """
    assert windows.word_ids is not None and windows.offsets is not None
    spans: list[dict[int, tuple[int, int]]] = [{} for _ in range(int(windows.owner.max(initial=-1)) + 1)]
    for window, owner in enumerate(windows.owner):
        text_spans = spans[int(owner)]
        for word, (start, end) in zip(windows.word_ids[window], windows.offsets[window], strict=True):
            if word is None or end <= start:
                continue
            known = text_spans.get(word)
            text_spans[word] = (start, end) if known is None else (min(known[0], start), max(known[1], end))
    return spans


def _word_weights(
    text: str, word_ids: list[int | None], saliency: np.ndarray, spans: dict[int, tuple[int, int]]
) -> list[EvidenceTerm]:
    """Words of ``text`` with a positive summed saliency, largest first.

    A word is taken from the text by its span, trimmed of punctuation at its
    edges, and kept if it has a letter. A word that occurs more than once
    (any case) is listed once, with its largest score.
    """
    totals: dict[int, float] = {}
    for word, score in zip(word_ids, saliency, strict=True):
        if word is not None:
            totals[word] = totals.get(word, 0.0) + float(score)
    best: dict[str, tuple[str, float]] = {}
    for word, total in totals.items():
        if word not in spans:
            continue
        start, end = spans[word]
        written = shown_word(text[start:end])
        if written is None:
            continue
        key = written.casefold()
        if key not in best or total > best[key][1]:
            best[key] = (written, total)
    return ranked_terms(best.values())


def _encoder_layers(model: Any) -> tuple[torch.nn.Module, str] | None:
    """The module that holds the encoder's layers and the attribute naming their list.

    Found where the model keeps one module per layer (BERT, RoBERTa,
    DistilBERT, ...): a ``ModuleList`` of ``num_hidden_layers`` modules of one
    class. None elsewhere (ALBERT, for one, calls a shared layer several times).
    """
    count = getattr(model.config, "num_hidden_layers", None)
    for holder in model.modules():
        for name, child in holder.named_children():
            one_per_layer = isinstance(child, torch.nn.ModuleList) and count and len(child) == count
            if one_per_layer and len({type(layer) for layer in child}) == 1:
                return holder, name
    return None


def _last_layer(model: Any) -> torch.nn.Module | None:
    """The encoder's last layer where the model keeps one module per layer (``_encoder_layers``), else None."""
    found = _encoder_layers(model)
    return None if found is None else getattr(found[0], found[1])[-1]


@contextlib.contextmanager
def _keeping_last_layer_input(model: Any) -> Iterator[list[torch.Tensor]]:
    """Inside the block each forward pass of ``model`` appends, detached, the hidden state entering its last layer.

    The list stays empty where the last layer is not known (``_last_layer``).
    """
    entering: list[torch.Tensor] = []
    layer = _last_layer(model)
    if layer is None:
        yield entering
        return

    def keep(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        entering.append((args[0] if args else kwargs["hidden_states"]).detach())

    handle = layer.register_forward_pre_hook(keep, with_kwargs=True)
    try:
        yield entering
    finally:
        handle.remove()


def _last_layer_input(
    model: Any, batch: dict[str, torch.Tensor], entering: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The batch's logits and the hidden state entering the encoder's last layer, the logits with their graph.

    Where the last layer is known (``_encoder_layers``), the layers before it
    run without gradients and the hidden state they hand on becomes the leaf
    of a graph of one layer: less memory and time than a graph of the whole
    model, the same gradient. Given ``entering`` (that hidden state as an
    earlier pass computed it, padded as ``batch``), the layers before the last
    do not run at all: the encoder's list of layers is cut to its last for the
    call, so only the embeddings (whose output is replaced), the last layer
    and the head run; the model is restored when the call ends, so it must
    not be scored from another thread meanwhile. Elsewhere the whole forward keeps its graph and the
    hidden state comes from ``output_hidden_states``, which every Hugging Face
    encoder gives.
    """
    found = _encoder_layers(model)
    if found is None:
        if entering is not None:
            raise ValueError("this model's last layer cannot be run alone")
        outputs = model(**batch, output_hidden_states=True)
        return outputs.logits, outputs.hidden_states[-2]
    holder, name = found
    layers = getattr(holder, name)
    leaves: list[torch.Tensor] = []

    def from_here(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        torch.set_grad_enabled(True)  # until the no_grad block below ends
        given = args[0] if args else kwargs["hidden_states"]
        hidden = (given if entering is None else entering).detach().requires_grad_(True)
        leaves.append(hidden)
        return ((hidden, *args[1:]), kwargs) if args else (args, {**kwargs, "hidden_states": hidden})

    handle = layers[-1].register_forward_pre_hook(from_here, with_kwargs=True)
    if entering is not None:
        setattr(holder, name, torch.nn.ModuleList([layers[-1]]))
    try:
        with torch.no_grad():
            logits = model(**batch).logits
    finally:
        handle.remove()
        setattr(holder, name, layers)
    return logits, leaves[-1]


def _last_layer_saliency(logits: torch.Tensor, hidden: torch.Tensor, rows: list[int], labels: list[int]) -> np.ndarray:
    """Gradient x hidden state entering the last layer, per token, of the logit of ``labels[i]`` in row ``rows[i]``.

    Why this layer and not the input embeddings: measured on the flags of the
    shipped real-text model (benchmarks/README.md, "Faithfulness of
    evidence"), deleting the top words of gradient x input embeddings lowers
    the flagged probability hardly more than deleting random words, while the
    top words of the last layer's input lower it about as much as the words
    chosen by deleting each word in turn (occlusion, dozens of passes per
    flag). The backward pass stops at that layer, so it costs one layer's
    backward, not the whole model's. ``rows`` are distinct: rows of a batch do not interact, so the
    gradient of the sum of the chosen logits is each row's own.
    """
    picked = torch.as_tensor(rows, device=logits.device)
    wanted = torch.as_tensor(labels, device=logits.device)
    (gradient,) = torch.autograd.grad(logits[picked].gather(1, wanted[:, None]).sum(), hidden)
    return (gradient[picked] * hidden.detach()[picked]).sum(dim=-1).float().cpu().numpy()


class Windows:
    """Token windows of a list of texts; ``owner[i]`` is the text window ``i`` came from.

    ``word_ids`` and ``offsets`` (per window, per token: the index of the word
    of the text the token belongs to, and its character span in the text) are
    kept only when asked for: evidence needs them to turn tokens back into words.
    """

    def __init__(
        self,
        input_ids: list[list[int]],
        owner: np.ndarray,
        word_ids: list[list[int | None]] | None = None,
        offsets: list[list[tuple[int, int]]] | None = None,
    ) -> None:
        self.input_ids = input_ids
        self.owner = owner
        self.word_ids = word_ids
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.input_ids)


class _KeptState(NamedTuple):
    """What scoring a flagged window keeps to explain it: its logits and the hidden state entering the last layer."""

    logits: np.ndarray
    entering: torch.Tensor


class TransformerClassifier:
    """A sequence-classification encoder with thresholds handled by the caller."""

    family = "transformer"

    def __init__(
        self,
        config: TransformerConfig,
        labels: list[str],
        task: str,
        seed: int = 0,
        model: Any = None,
        tokenizer: Any = None,
        temperature: float = 1.0,
    ) -> None:
        self.config = config
        self.labels = list(labels)
        self.task = task
        self.seed = seed
        self.model = model
        self.tokenizer = tokenizer
        self.temperature = temperature
        self.device = rt.pick_device(config.device)
        self.dtype = rt.pick_precision(config.precision, self.device)
        self._explainer: Any = None
        self._length_step = 1  # scoring batches padded per batch; a bf16 copy fixes their shapes
        self._replays = True  # evidence runs the last layer from kept states (``_replayed``) until a check fails
        if config.threads:
            torch.set_num_threads(config.threads)

    @property
    def multilabel(self) -> bool:
        return self.task == "multilabel"

    # ---------------------------------------------------------------- windows
    def windows(self, texts: Sequence[str], words: bool = False) -> Windows:
        """Tokenise into overlapping windows of at most ``max_length`` tokens.

        With ``words``, also each token's word index and character offsets,
        which only a fast (Rust) tokenizer gives.
        """
        stride = min(self.config.window_stride, self.config.max_length // 2)
        if words and not getattr(self.tokenizer, "is_fast", False):
            raise ModelLoadError(
                f"evidence needs a fast tokenizer; {type(self.tokenizer).__name__} is not one (score with --evidence 0)"
            )
        encoded = self.tokenizer(
            list(texts),
            truncation=True,
            max_length=self.config.max_length,
            stride=stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=words,
            padding=False,
        )
        owner = np.asarray(encoded["overflow_to_sample_mapping"], dtype=np.int64)
        if not words:
            return Windows(list(encoded["input_ids"]), owner)
        word_ids = [encoded.word_ids(i) for i in range(len(owner))]
        offsets = [[(int(a), int(b)) for a, b in spans] for spans in encoded["offset_mapping"]]
        return Windows(list(encoded["input_ids"]), owner, word_ids, offsets)

    def pad(self, input_ids: list[list[int]], length_step: int = 1) -> dict[str, torch.Tensor]:
        """A batch padded to its longest row; with a ``length_step``, to a fixed shape.

        The fixed shape rounds the length up to a multiple of ``length_step`` and
        the rows up to a power of two by repeating the first row; callers keep
        the first ``len(input_ids)`` rows of the output.
        """
        rows = input_ids
        if length_step > 1:
            rows = rows + [rows[0]] * ((1 << (len(rows) - 1).bit_length()) - len(rows))
        batch = self.tokenizer.pad(
            {"input_ids": rows},
            padding=True,
            pad_to_multiple_of=length_step if length_step > 1 else None,
            return_tensors="pt",
        )
        return {key: value.to(self.device) for key, value in batch.items()}

    def _window_logits(
        self,
        windows: Windows,
        model: Any = None,
        each_batch: Callable[[np.ndarray, np.ndarray], None] | None = None,
    ) -> np.ndarray:
        """Logits per window, length-sorted batches, padded per batch.

        ``each_batch(windows_of_batch, their_logits)``, if given, is called
        after each batch, inside the pass (``decide_and_explain`` keeps what
        the forward hooks saw of that batch).
        """
        model = model or self.model
        model.eval()
        lengths = [len(ids) for ids in windows.input_ids]
        logits = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        with torch.inference_mode(), rt.autocast(self.device, self.dtype):
            for chosen in length_batches(lengths, self.config.eval_batch_size, TOKENS_PER_BATCH, self._length_step):
                batch = self.pad([windows.input_ids[i] for i in chosen], self._length_step)
                logits[chosen] = model(**batch).logits[: len(chosen)].float().cpu().numpy()
                if each_batch is not None:
                    each_batch(chosen, logits[chosen])
        return logits

    def _pool(self, window_logits: np.ndarray, owner: np.ndarray, n_texts: int) -> np.ndarray:
        pooled = np.full((n_texts, window_logits.shape[1]), -np.inf if self.config.window_pooling == "max" else 0.0)
        if self.config.window_pooling == "max":
            np.maximum.at(pooled, owner, window_logits)
        else:
            np.add.at(pooled, owner, window_logits)
            pooled /= np.bincount(owner, minlength=n_texts)[:, None]
        return pooled

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """Pooled logits per text, before temperature."""
        windows = self.windows(texts)
        return self._pool(self._window_logits(windows), windows.owner, len(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, len(self.labels)))
        return rt.probabilities_from_logits(self.logits(texts), self.temperature, self.multilabel)

    # --------------------------------------------------------------- training
    def _load_base(self) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        source = rt.resolve_base_model(self.config.base_model)
        with rt.quiet_transformers():  # the new head is "missing" from the base checkpoint, by design
            self.tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                source,
                num_labels=len(self.labels),
                problem_type="multi_label_classification" if self.multilabel else "single_label_classification",
                id2label=dict(enumerate(self.labels)),
                label2id={label: i for i, label in enumerate(self.labels)},
                trust_remote_code=False,
            )
        self.model.to(self.device)

    def loss_function(self, targets: np.ndarray) -> torch.nn.Module:
        """Weighted BCE (multi-label) or CE (multi-class) so rare labels are not ignored."""
        if self.multilabel:
            weight = None
            if self.config.label_weighting:
                positives = targets.sum(axis=0).clip(min=1)
                weight = torch.tensor(((len(targets) - positives) / positives).clip(1.0, 10.0), dtype=torch.float32)
            return torch.nn.BCEWithLogitsLoss(pos_weight=None if weight is None else weight.to(self.device))
        counts = targets.sum(axis=0).clip(min=1)
        class_weight = len(targets) / (len(counts) * counts) if self.config.label_weighting else None
        tensor = None if class_weight is None else torch.tensor(class_weight, dtype=torch.float32).to(self.device)
        return torch.nn.CrossEntropyLoss(weight=tensor)

    def optimiser(self, total_steps: int) -> tuple[torch.optim.Optimizer, Any]:
        from transformers import get_linear_schedule_with_warmup

        decay: list[torch.nn.Parameter] = []
        no_decay: list[torch.nn.Parameter] = []
        for name, parameter in self.model.named_parameters():
            (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
        optimiser = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.config.learning_rate,
        )
        warmup = int(self.config.warmup_ratio * total_steps)
        return optimiser, get_linear_schedule_with_warmup(optimiser, warmup, total_steps)

    def epoch_order(self, epoch: int, n: int) -> np.ndarray:
        generator = torch.Generator().manual_seed(self.seed * 7919 + epoch)
        return torch.randperm(n, generator=generator).numpy()

    def micro_batches(self, order: np.ndarray) -> Iterator[np.ndarray]:
        size = self.config.batch_size
        for start in range(0, len(order), size):
            yield order[start : start + size]

    def validation_f1(self, validation: LabelledSet) -> tuple[float, np.ndarray]:
        from sklearn.metrics import f1_score

        logits = self.logits(validation.texts)
        truth = validation.label_matrix(self.labels)
        one_hot = np.eye(len(self.labels), dtype=bool)
        predicted = logits >= 0.0 if self.multilabel else one_hot[logits.argmax(axis=1)]
        return float(f1_score(truth, predicted, average="macro", zero_division=0)), logits

    def fit(self, train: LabelledSet, validation: LabelledSet, context: FitContext) -> None:
        """Fine-tune with early stopping on validation macro-F1, checkpointing as it goes (``transformer_training``)."""
        from framing.models.transformer_training import TrainingLoop

        rt.seed_everything(self.seed)
        self._load_base()
        TrainingLoop.start(self, train, context).run(validation)
        if self.config.temperature_scaling:
            self._calibrate(validation, context)

    def _calibrate(self, validation: LabelledSet, context: FitContext) -> None:
        """Fit the temperature on validation logits and log the calibration error before and after."""
        logits = self.logits(validation.texts)
        truth = validation.label_matrix(self.labels)
        before = rt.expected_calibration_error(rt.probabilities_from_logits(logits, 1.0, self.multilabel), truth)
        self.temperature = rt.fit_temperature(logits, truth, self.multilabel)
        after = rt.expected_calibration_error(
            rt.probabilities_from_logits(logits, self.temperature, self.multilabel), truth
        )
        context.report(
            {
                "calibration/temperature": self.temperature,
                "calibration/ece_before": before,
                "calibration/ece_after": after,
            },
            0,
        )

    # ---------------------------------------------------------------- evidence
    def evidence(self, texts: Sequence[str], flags: np.ndarray, k: int) -> list[Evidence]:
        """Words with the largest saliency for each flagged label, with that saliency.

        The saliency of a token is gradient x hidden state entering the
        encoder's last layer, for the flagged label's logit
        (``_last_layer_saliency`` says why that layer). Computed on the
        weights that scored the text: fp32 as trained, or the cascade's bf16
        copy (``for_escalation``), never an int8 model (no gradients: its fp32
        original explains). For each flagged (text, label) pair on the text's
        window with the highest logit for that label. The pairs of a call are
        explained together in padded batches, one gradient with respect to
        that hidden state only (``torch.autograd.grad``: no parameter gradient
        is computed or stored). Tokens are mapped to the words of the text by
        the fast tokenizer's word indices and offsets, so any sub-word scheme
        (WordPiece, byte-level BPE, SentencePiece) gives the words as written
        in the text; a word's saliency is the sum over its tokens.
        """
        flags = np.asarray(flags, dtype=bool).reshape(len(texts), len(self.labels))
        results: list[Evidence] = [{self.labels[j]: [] for j in np.flatnonzero(row)} for row in flags]
        rows = [int(row) for row in np.flatnonzero(flags.any(axis=1))]
        if k <= 0 or not rows:
            return results
        model = self._explainer or self.model
        windows = self.windows([texts[row] for row in rows], words=True)
        pairs = self._explained_windows(windows, flags[rows], self._long_window_logits(windows, model))
        saliencies = self._saliency(windows, pairs, model)
        spans = _word_spans(windows)
        for (window, label_index), saliency in zip(pairs, saliencies, strict=True):
            position = int(windows.owner[window])
            row = rows[position]
            assert windows.word_ids is not None
            words = _word_weights(texts[row], windows.word_ids[window], saliency, spans[position])
            results[row][self.labels[label_index]] = words[:k]
        return results

    def decide_and_explain(
        self, texts: Sequence[str], flags_of: Callable[[np.ndarray, np.ndarray], np.ndarray], k: int
    ) -> tuple[np.ndarray, list[Evidence]]:
        """Probabilities of ``texts`` and evidence of the labels they flag, without scoring a flagged text twice.

        ``evidence`` after ``predict_proba`` runs the whole model twice over a
        flagged text: once to score it, once more with gradients. Here every
        window is scored once, in the batches ``predict_proba`` makes, so the
        probabilities are those of scoring without evidence;
        ``flags_of(positions, probabilities)`` (the caller's thresholds) says
        which labels each batch's one-window texts flag, and the flagged ones
        keep the hidden state that entered the encoder's last layer
        (``_scored_keeping_states``). Their evidence then runs only the last
        layer and the head again, with gradients, from the kept states
        (``_last_layer_input``): 1.3 ms per flag against 3.3 ms for scoring again
        with gradients (benchmarks/escalated_scoring.py). Each such pass is
        checked against the logits the text was scored with
        (``REPLAY_TOLERANCE``); a model that fails the check, or whose last
        layer is not known, is explained by whole second passes, as are texts of
        several windows, whose flagged labels are explained on the window with
        the highest logit. The evidence is that of ``evidence``: gradient x
        hidden state entering the last layer, for the flagged label's logit. An
        int8 model scores with its int8 weights and explains with their fp32
        original, so it has no state to keep: it scores, then explains.
        """
        probabilities = np.zeros((len(texts), len(self.labels)))
        results: list[Evidence] = [{} for _ in texts]
        if not len(texts):
            return probabilities, results
        if self._explainer is not None:  # int8 weights score, their fp32 original explains: no state to keep
            probabilities = self.predict_proba(texts)
            flags = np.asarray(flags_of(np.arange(len(texts)), probabilities), dtype=bool)
            return probabilities, self.evidence(texts, flags, k)
        windows = self.windows(texts, words=True)
        probabilities, flags, window_logits, kept = self._scored_keeping_states(windows, len(texts), flags_of)
        pairs = self._explained_windows(windows, flags, window_logits)
        spans = _word_spans(windows)
        assert windows.word_ids is not None
        for (window, label_index), saliency in sorted(
            zip(pairs, self._saliency(windows, pairs, self.model, kept), strict=True)
        ):
            text = int(windows.owner[window])
            words = _word_weights(texts[text], windows.word_ids[window], saliency, spans[text])
            results[text][self.labels[label_index]] = words[:k]
        return probabilities, results

    def _scored_keeping_states(
        self, windows: Windows, n_texts: int, flags_of: Callable[[np.ndarray, np.ndarray], np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, _KeptState]]:
        """Score every window once, as ``predict_proba`` does; keep what explains the flagged one-window texts.

        Returns the texts' probabilities and flags (``flags_of`` decides a
        one-window text's flags with its batch, a text of several windows once
        its windows are pooled), the logits per window, and per window of a
        flagged one-window text its logits and the hidden state that entered
        the last layer (nothing where that layer is not known).
        """
        several = np.bincount(windows.owner, minlength=n_texts) > 1
        probabilities = np.zeros((n_texts, len(self.labels)))
        flags = np.zeros((n_texts, len(self.labels)), dtype=bool)
        kept: dict[int, _KeptState] = {}
        with _keeping_last_layer_input(self.model) as entering:

            def keep_flagged(chosen: np.ndarray, logits: np.ndarray) -> None:
                alone = np.flatnonzero(~several[windows.owner[chosen]])
                positions = windows.owner[chosen[alone]]
                scored = rt.probabilities_from_logits(logits[alone], self.temperature, self.multilabel)
                probabilities[positions] = scored
                flags[positions] = np.asarray(flags_of(positions, scored), dtype=bool)
                for slot in alone[flags[positions].any(axis=1)] if entering else []:
                    window = int(chosen[slot])
                    kept[window] = _KeptState(
                        logits[slot], entering[-1][slot, : len(windows.input_ids[window])].clone()
                    )
                entering.clear()

            window_logits = self._window_logits(windows, self.model, keep_flagged)
        longer = np.flatnonzero(several)
        if len(longer):
            pooled = self._pool(window_logits, windows.owner, n_texts)[longer]
            probabilities[longer] = rt.probabilities_from_logits(pooled, self.temperature, self.multilabel)
            flags[longer] = np.asarray(flags_of(longer, probabilities[longer]), dtype=bool)
        return probabilities, flags, window_logits, kept

    def _long_window_logits(self, windows: Windows, model: Any) -> np.ndarray:
        """Logits of the windows of texts with several windows, in batches; zeros for one-window texts."""
        several = np.bincount(windows.owner)[windows.owner] > 1
        logits = np.zeros((len(windows), len(self.labels)), dtype=np.float32)
        if several.any():
            chosen = np.flatnonzero(several)
            logits[chosen] = self._window_logits(
                Windows([windows.input_ids[w] for w in chosen], windows.owner[chosen]), model
            )
        return logits

    def _explained_windows(self, windows: Windows, flags: np.ndarray, logits: np.ndarray) -> list[tuple[int, int]]:
        """(window, label) per flagged (text, label): the text's window with the highest logit for the label.

        ``logits`` per window (``_long_window_logits``): a text of one window needs none.
        """
        by_text: dict[int, list[int]] = {}
        for window, owner in enumerate(windows.owner):
            by_text.setdefault(int(owner), []).append(window)
        pairs: list[tuple[int, int]] = []
        for text, text_windows in sorted(by_text.items()):
            for label_index in np.flatnonzero(flags[text]):
                best = text_windows[int(np.argmax(logits[text_windows, label_index]))]
                pairs.append((best, int(label_index)))
        return pairs

    def _saliency(
        self,
        windows: Windows,
        pairs: list[tuple[int, int]],
        model: Any,
        kept: dict[int, _KeptState] | None = None,
    ) -> list[np.ndarray]:
        """Gradient x hidden state entering the last layer, per token of each pair's window, for the pair's label.

        Pairs are sorted by length and padded per batch of at most ``batch_size``
        pairs (the training micro-batch, sized for memory with gradients) and a
        quarter of ``TOKENS_PER_BATCH`` tokens. Rows of a batch
        do not interact, so the gradient of the sum of the chosen logits is each
        row's own gradient, also when two labels explain the same window. Pairs
        whose window has a ``kept`` state are batched apart and run from it (the
        last layer and the head only) while replaying passes its check.
        """
        model.eval()
        kept = kept or {}
        saliencies: list[np.ndarray] = [np.zeros(0)] * len(pairs)
        replayable = np.array([window in kept for window, _ in pairs], dtype=bool)
        step = self._length_step
        with torch.enable_grad(), rt.gradient_attention(model):
            for group in (np.flatnonzero(replayable), np.flatnonzero(~replayable)):
                lengths = [len(windows.input_ids[pairs[i][0]]) for i in group]
                for cut in length_batches(lengths, self.config.batch_size, TOKENS_PER_BATCH // 4, step):
                    chosen = group[cut]
                    batch = self.pad([windows.input_ids[pairs[i][0]] for i in chosen], step)
                    logits, hidden = None, None
                    if replayable[chosen[0]] and self._replays:
                        logits, hidden = self._replayed(batch, model, [kept[pairs[i][0]] for i in chosen])
                    if logits is None or hidden is None:
                        logits, hidden = _last_layer_input(model, batch)
                    labels = [pairs[i][1] for i in chosen]
                    scores = _last_layer_saliency(logits, hidden, list(range(len(chosen))), labels)
                    for slot, i in enumerate(chosen):
                        saliencies[i] = scores[slot, : len(windows.input_ids[pairs[i][0]])]
        return saliencies

    def _replayed(
        self, batch: dict[str, torch.Tensor], model: Any, states: list[_KeptState]
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Logits and last-layer leaf of ``batch`` run from its kept states, or (None, None) where the check fails.

        The check: the replayed logits equal those the windows were scored with
        within ``REPLAY_TOLERANCE``. A model that fails it (one whose encoder
        does more than run its list of layers in turn) is never replayed again.
        """
        rows, length = batch["input_ids"].shape
        first = states[0].entering
        entering = torch.zeros((rows, length, first.shape[-1]), dtype=first.dtype, device=first.device)
        for row in range(rows):  # rows past the states repeat the first, as ``pad`` does
            state = (states[row] if row < len(states) else states[0]).entering
            entering[row, : len(state)] = state
        with rt.autocast(self.device, self.dtype):
            logits, hidden = _last_layer_input(model, batch, entering)
        replayed = logits[: len(states)].detach().float().cpu().numpy()
        scored = np.stack([state.logits for state in states])
        if np.all(np.abs(replayed - scored) <= REPLAY_TOLERANCE * (1 + np.abs(scored))):
            return logits, hidden
        self._replays = False
        return None, None

    # ------------------------------------------------------------ persistence
    def settings(self) -> dict[str, Any]:
        return {"config": self.config.model_dump(mode="json"), "temperature": self.temperature}

    def save(self, directory: Path) -> None:
        target = directory / WEIGHTS_DIR
        model = self._explainer or self.model  # never the quantized copy
        with rt.quiet_transformers():
            model.save_pretrained(target)
            self.tokenizer.save_pretrained(target)
        if not any(target.glob("*.safetensors")):
            raise ModelLoadError(f"{target}: weights were not written as safetensors")

    @classmethod
    def load(cls, directory: Path, labels: list[str], task: str, settings: dict[str, Any]) -> TransformerClassifier:
        """Load safetensors weights and the tokenizer; no remote code, no pickle."""
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        source = directory / WEIGHTS_DIR
        if not any(source.glob("*.safetensors")):
            raise ModelLoadError(f"{source}: no safetensors weights")
        config = TransformerConfig.model_validate(settings["config"])
        with rt.quiet_transformers():
            tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
            model = AutoModelForSequenceClassification.from_pretrained(
                source, trust_remote_code=False, use_safetensors=True
            )
        classifier = cls(
            config,
            labels=labels,
            task=task,
            model=model,
            tokenizer=tokenizer,
            temperature=float(settings.get("temperature", 1.0)),
        )
        model.to(classifier.device)
        if config.quantize:
            classifier.quantize()
        return classifier

    def escalation_precision(self) -> str:
        """The precision a cascade's escalated paragraphs are scored in: ``bf16`` or ``fp32`` (as trained).

        bf16 weights only on a CPU that multiplies bf16 natively, and never on
        top of int8 quantization or on a GPU (which already runs its own precision).
        """
        wanted = self.config.cascade.transformer_precision
        if wanted == "fp32" or self.device.type != "cpu" or self._explainer is not None:
            return "fp32"
        if wanted == "bf16" or rt.cpu_multiplies_bf16():
            return "bf16"
        return "fp32"

    def for_escalation(self) -> TransformerClassifier:
        """The classifier that scores what a cascade sends on: a bf16 copy where that is the precision, else self.

        Measured on real paragraphs (benchmarks/README.md), bf16 weights on a CPU
        with AMX score 2-3x faster with the same per-label decisions as fp32 on
        nearly every paragraph. torch's oneDNN makes kernels per bf16 batch
        shape, so the copy pads its batches to fixed shapes
        (``BF16_LENGTH_STEP``, evidence batches too) and a long run's memory
        stays flat; the fp32 model stays for ``--exact`` and its evidence.
        """
        if self.escalation_precision() == "fp32":
            return self
        import copy

        fast = copy.copy(self)
        fast.model = copy.deepcopy(self.model).to(torch.bfloat16)
        fast._explainer = None  # evidence of what the copy scored comes from the copy, in bf16
        fast._length_step = BF16_LENGTH_STEP
        return fast

    def quantize(self) -> None:
        """int8 dynamic quantization for CPU inference; the fp32 model is kept for evidence.

        The first and last encoder layers and the classification head stay in
        fp32: measured on the shipped data, that keeps per-label decisions
        closer to fp32 (98.8% vs 97.8% agreement) for a small loss of speed.
        """
        if self.device.type != "cpu":
            return
        import re
        import warnings

        layer_of: dict[str, int] = {}
        for name, module in self.model.named_modules():
            match = re.search(r"\.layers?\.(\d+)\.", name)
            if isinstance(module, torch.nn.Linear) and match:
                layer_of[name] = int(match.group(1))
        if layer_of:
            edges = {min(layer_of.values()), max(layer_of.values())}
            chosen = {name for name, layer in layer_of.items() if layer not in edges} or set(layer_of)
        else:
            chosen = {n for n, m in self.model.named_modules() if isinstance(m, torch.nn.Linear)}
        self._explainer = self.model
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch points eager quantization users at torchao
            self.model = torch.ao.quantization.quantize_dynamic(self.model, chosen, dtype=torch.qint8)
