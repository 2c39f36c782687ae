"""Evidence with weights: transformer saliency over three sub-word schemes, TF-IDF contributions, files, report.

The transformer tests build, from the tiny dataset, a WordPiece tokenizer with a
tiny BERT, a byte-level BPE tokenizer with a tiny RoBERTa and a Unigram
(SentencePiece-style, Metaspace) tokenizer with a tiny ALBERT, all with the
``tokenizers`` library and random weights saved as safetensors: no download.
Each vocabulary is small enough that many words split into several pieces.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

from framing.config import load_config
from framing.models import transformer_model
from framing.models.base import FitContext
from framing.models.tfidf import TfidfClassifier
from framing.models.transformer import TransformerConfig
from framing.models.transformer_model import TransformerClassifier, _last_layer, _last_layer_input, _word_spans
from framing.report import ReportSettings, write_report
from framing.report.examples import Example, evidence_terms, examples_html, highlight
from framing.scoring.sinks import AtomicSink
from framing.training import prepare_data
from tests.conftest import TINY_ARTICLES

KINDS = ("wordpiece", "bytelevel-bpe", "unigram-metaspace")
# The marker each scheme puts on its pieces; none may reach the evidence.
MARKERS = {"wordpiece": "##", "bytelevel-bpe": "Ġ", "unigram-metaspace": "▁"}
LABELS = ["claim", "aid", "talks"]
CORPUS = [text for paragraphs in TINY_ARTICLES.values() for text, _ in paragraphs]
# A paragraph of several windows at max_length=16, and one with capitals, punctuation and an apostrophe.
LONG = " ".join(CORPUS[:5])
TEXTS = [
    CORPUS[0],
    "U.N. envoys, and Kyiv's mayor, met Western newspapers in Geneva on Monday.",
    LONG,
    CORPUS[7],
    CORPUS[12],
]


def _tokenizer(kind: str) -> Any:
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    if kind == "wordpiece":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
        tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
        tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tokenizer.decoder = decoders.WordPiece()
        tokenizer.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=150, special_tokens=specials))
        tokenizer.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
        names = {"pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]"}
        return PreTrainedTokenizerFast(tokenizer_object=tokenizer, mask_token="[MASK]", **names)
    if kind == "bytelevel-bpe":
        specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
        tokenizer = Tokenizer(models.BPE())
        tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tokenizer.decoder = decoders.ByteLevel()
        alphabet = pre_tokenizers.ByteLevel.alphabet()
        trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=specials, initial_alphabet=alphabet)
        tokenizer.train_from_iterator(CORPUS, trainer)
        tokenizer.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
        names = {"bos_token": "<s>", "eos_token": "</s>", "cls_token": "<s>", "sep_token": "</s>"}
        return PreTrainedTokenizerFast(
            tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", mask_token="<mask>", **names
        )
    specials = ["<pad>", "<unk>", "[CLS]", "[SEP]"]
    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=200, special_tokens=specials, unk_token="<unk>")
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    names = {"cls_token": "[CLS]", "sep_token": "[SEP]"}
    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, pad_token="<pad>", unk_token="<unk>", **names)


def _encoder(kind: str, vocab_size: int) -> Any:
    from transformers import AlbertConfig, AlbertModel, BertConfig, BertModel, RobertaConfig, RobertaModel

    shape = {
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "initializer_range": 0.3,
    }
    if kind == "wordpiece":
        return BertModel(BertConfig(vocab_size=vocab_size, max_position_embeddings=64, **shape))
    if kind == "bytelevel-bpe":
        config = RobertaConfig(
            vocab_size=vocab_size, max_position_embeddings=66, pad_token_id=1, bos_token_id=0, eos_token_id=2, **shape
        )
        return RobertaModel(config)
    return AlbertModel(AlbertConfig(vocab_size=vocab_size, embedding_size=16, max_position_embeddings=64, **shape))


@pytest.fixture(scope="module", params=KINDS)
def encoder_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """(kind, folder) of a tiny random encoder and its tokenizer, weights in safetensors."""
    kind = str(request.param)
    folder = tmp_path_factory.mktemp(kind)
    tokenizer = _tokenizer(kind)
    torch.manual_seed(0)
    _encoder(kind, len(tokenizer)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    assert list(folder.glob("*.safetensors"))
    return kind, folder


def _classifier(folder: Path, **changes: object) -> TransformerClassifier:
    values: dict[str, object] = {
        "base_model": str(folder),
        "max_length": 16,
        "window_stride": 4,
        "batch_size": 3,
        "eval_batch_size": 4,
        "device": "cpu",
    }
    values.update(changes)
    model = TransformerClassifier(TransformerConfig.model_validate(values), LABELS, "multilabel")
    torch.manual_seed(1)  # the classification head is new: random, but the same in every test
    model._load_base()
    return model


@pytest.fixture(scope="module")
def classifier(encoder_dir: tuple[str, Path]) -> tuple[str, TransformerClassifier]:
    kind, folder = encoder_dir
    return kind, _classifier(folder)


def _flags(seed: int) -> np.ndarray:
    flags = np.random.default_rng(seed).random((len(TEXTS), len(LABELS))) < 0.6
    flags[0] = True  # every label of one paragraph, so labels share its window
    flags[3] = False  # and one paragraph with no flag
    return flags


def _as_dict(terms: list[tuple[str, float]]) -> dict[str, float]:
    return dict(terms)


def _reference(model: TransformerClassifier, text: str, label_index: int) -> dict[str, float]:
    """Word -> weight for one (paragraph, label), computed one window at a time, without batching.

    The window with the highest logit; per token, gradient x the hidden state
    entering the encoder's last layer (taken here by a hook on that layer, not
    from ``hidden_states``), summed per word of the untruncated encoding; a word
    met twice keeps its largest score.
    """
    explainer = model._explainer or model.model
    windows = model.windows([text], words=True)
    assert windows.word_ids is not None
    best: tuple[float, int, np.ndarray] | None = None
    for window in range(len(windows)):
        ids = torch.tensor([windows.input_ids[window]])
        logit, entering = _last_layer_logit(explainer, ids, label_index)
        if best is None or float(logit.detach()) > best[0]:
            (gradient,) = torch.autograd.grad(logit, entering)
            best = (float(logit.detach()), window, (gradient * entering).sum(-1)[0].detach().numpy())
    assert best is not None
    _, window, saliency = best
    per_word: dict[int, float] = {}
    for word, score in zip(windows.word_ids[window], saliency, strict=True):
        if word is not None:
            per_word[word] = per_word.get(word, 0.0) + float(score)
    full = model.tokenizer(text, return_offsets_mapping=True)
    starts: dict[int, int] = {}
    ends: dict[int, int] = {}
    for word, (start, end) in zip(full.word_ids(), full["offset_mapping"], strict=True):
        if word is not None and end > start:
            starts[word] = min(starts.get(word, start), start)
            ends[word] = max(ends.get(word, end), end)
    result: dict[str, float] = {}
    for word, score in per_word.items():
        written = re.sub(r"^[\W_]+|[\W_]+$", "", text[starts[word] : ends[word]])
        if re.search(r"[^\W\d_]", written) and score > result.get(written.casefold(), -np.inf):
            result[written.casefold()] = score
    return {word: score for word, score in result.items() if score > 0}


def _last_layer_logit(model: Any, ids: torch.Tensor, label_index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A label's logit for one window and the hidden state the encoder's last layer received.

    The last layer is the last call of the module class that the model records
    hidden states of (ALBERT calls one shared layer several times).
    """
    from transformers.utils.output_capturing import _CAN_RECORD_REGISTRY

    layer_class = _CAN_RECORD_REGISTRY.get(model)["hidden_states"]
    layer_class = getattr(layer_class, "target_class", layer_class)
    received: list[torch.Tensor] = []

    def keep(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        received.append(args[0] if args else kwargs["hidden_states"])

    handles = [
        m.register_forward_pre_hook(keep, with_kwargs=True) for m in model.modules() if isinstance(m, layer_class)
    ]
    try:
        logit = model(input_ids=ids).logits[0, label_index]
    finally:
        for handle in handles:
            handle.remove()
    return logit, received[-1]


def test_the_tokenizers_split_words_into_marked_pieces(classifier: tuple[str, TransformerClassifier]) -> None:
    """The schemes really cut words, so the evidence must merge pieces to report words."""
    kind, model = classifier
    tokens = model.tokenizer.convert_ids_to_tokens(model.tokenizer(CORPUS[0])["input_ids"])
    assert any(MARKERS[kind] in token for token in tokens)
    word_ids = [w for w in model.tokenizer(CORPUS[0]).word_ids() if w is not None]
    assert len(word_ids) > len(set(word_ids)), "some word is made of several tokens"
    assert len(model.windows([LONG])) > 2


def test_evidence_words_are_whole_words_of_the_paragraph_with_float_weights(
    classifier: tuple[str, TransformerClassifier],
) -> None:
    kind, model = classifier
    flags = np.ones((len(TEXTS), len(LABELS)), dtype=bool)
    evidence = model.evidence(TEXTS, flags, k=100)
    assert [set(item) for item in evidence] == [set(LABELS)] * len(TEXTS)
    reported = 0
    for text, item in zip(TEXTS, evidence, strict=True):
        for terms in item.values():
            weights = [weight for _, weight in terms]
            assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
            assert len({term.casefold() for term, _ in terms}) == len(terms)
            for term, weight in terms:
                reported += 1
                assert type(weight) is float  # a numpy float would not serialise to JSON
                assert not any(marker in term for marker in MARKERS.values()), (kind, term)
                assert term == term.strip() and " " not in term and re.search(r"[^\W\d_]", term)
                assert re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text), (kind, term, text)
    assert reported > 10


def test_evidence_matches_an_unbatched_per_pair_reference(classifier: tuple[str, TransformerClassifier]) -> None:
    """Weights are each pair's own gradient x input on its best window, also when labels share a window."""
    _, model = classifier
    flags = _flags(0)
    evidence = model.evidence(TEXTS, flags, k=100)
    for row, text in enumerate(TEXTS):
        assert set(evidence[row]) == {LABELS[j] for j in np.flatnonzero(flags[row])}
        for j in np.flatnonzero(flags[row]):
            expected = _reference(model, text, int(j))
            got = {term.casefold(): weight for term, weight in evidence[row][LABELS[j]]}
            assert set(got) == set(expected), (row, LABELS[j])
            for word, weight in got.items():
                assert weight == pytest.approx(expected[word], rel=2e-3, abs=1e-6)


def test_batched_evidence_equals_one_paragraph_at_a_time(classifier: tuple[str, TransformerClassifier]) -> None:
    _, model = classifier
    flags = _flags(1)
    batched = model.evidence(TEXTS, flags, k=100)
    for row, text in enumerate(TEXTS):
        alone = model.evidence([text], flags[row : row + 1], k=100)[0]
        assert set(alone) == set(batched[row])
        for label, terms in alone.items():
            assert _as_dict(batched[row][label]) == pytest.approx(_as_dict(terms), rel=2e-3, abs=1e-6)
    assert model.evidence(TEXTS, flags, k=2) == [
        {label: terms[:2] for label, terms in item.items()} for item in model.evidence(TEXTS, flags, k=100)
    ]
    assert model.evidence(TEXTS, flags, k=0) == [{LABELS[j]: [] for j in np.flatnonzero(row)} for row in flags]
    assert model.evidence([], np.zeros((0, len(LABELS)), dtype=bool), k=5) == []


def test_only_the_last_layer_keeps_a_graph_where_the_model_has_one_module_per_layer(
    classifier: tuple[str, TransformerClassifier],
) -> None:
    """BERT and RoBERTa list their layers: the layers before the last run without gradients. ALBERT
    reuses one layer, so its whole forward keeps a graph; both give the reference's weights (above)."""
    kind, model = classifier
    layer = _last_layer(model.model)
    if kind == "unigram-metaspace":
        assert layer is None
        return
    assert layer is not None and layer is model.model.base_model.encoder.layer[-1]
    batch = model.pad([model.windows([CORPUS[0]]).input_ids[0]])
    with torch.enable_grad():
        logits, entering = _last_layer_input(model.model, batch)
    assert entering.is_leaf and entering.requires_grad and logits.requires_grad
    assert torch.is_grad_enabled()


def _first_layer_rows(model: TransformerClassifier, run: Any) -> tuple[Any, int]:
    """What ``run()`` returns and how many rows the encoder's first layer ran over meanwhile."""
    rows: list[int] = []

    def count(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        rows.append(len(args[0] if args else kwargs["hidden_states"]))

    layer = next(m for m in model.model.modules() if isinstance(m, torch.nn.ModuleList))[0]
    handle = layer.register_forward_pre_hook(count, with_kwargs=True)
    try:
        return run(), sum(rows)
    finally:
        handle.remove()


@pytest.mark.parametrize("tolerance", [transformer_model.REPLAY_TOLERANCE, -1.0])  # as shipped; a check that fails
def test_scoring_keeps_the_states_that_explain_flags_without_a_second_forward_pass(
    encoder_dir: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tolerance: float
) -> None:
    """decide_and_explain gives evidence()'s weights; where the last layer is known, a flagged one-window
    paragraph is explained from the state its scoring pass kept, so the layers before the last never run
    again for it. A model whose replayed logits fail the check is explained by whole passes from then on."""
    kind, folder = encoder_dir
    monkeypatch.setattr(transformer_model, "REPLAY_TOLERANCE", tolerance)
    model = _classifier(folder, max_length=48, window_stride=8)  # the long paragraph alone has several windows
    flags = _flags(3)
    windows = len(model.windows(TEXTS).owner)
    (probabilities, evidence), rows = _first_layer_rows(
        model, lambda: model.decide_and_explain(TEXTS, lambda positions, _: flags[positions], k=100)
    )
    assert np.allclose(probabilities, model.predict_proba(TEXTS), atol=1e-5)
    expected = model.evidence(TEXTS, flags, k=100)
    for got, want in zip(evidence, expected, strict=True):
        assert set(got) == set(want)
        for label in want:
            assert _as_dict(got[label]) == pytest.approx(_as_dict(want[label]), rel=2e-3, abs=1e-6)
    several = np.bincount(model.windows(TEXTS).owner) > 1
    long_pairs = int(flags[several].sum())
    one_window_pairs = int(flags[~several].sum())
    assert long_pairs and one_window_pairs
    if kind == "unigram-metaspace":  # ALBERT calls one shared layer: no layer to run alone, nothing replayed
        assert model._replays and _last_layer(model.model) is None
    elif tolerance < 0:  # the first replayed batch failed its check: whole passes, as before
        assert rows == windows + long_pairs + one_window_pairs and not model._replays
    else:
        assert rows == windows + long_pairs and model._replays


def test_evidence_fills_no_parameter_gradient(encoder_dir: tuple[str, Path]) -> None:
    _, folder = encoder_dir
    model = _classifier(folder)
    model.evidence(TEXTS, np.ones((len(TEXTS), len(LABELS)), dtype=bool), k=5)
    assert all(parameter.grad is None for parameter in model.model.parameters())


def test_words_cut_by_a_window_edge_keep_their_whole_span(classifier: tuple[str, TransformerClassifier]) -> None:
    _, model = classifier
    windows = model.windows([LONG], words=True)
    assert windows.word_ids is not None
    full = model.tokenizer(LONG, return_offsets_mapping=True)
    expected: dict[int, tuple[int, int]] = {}
    for word, (start, end) in zip(full.word_ids(), full["offset_mapping"], strict=True):
        if word is not None and end > start:
            known = expected.get(word, (start, end))
            expected[word] = (min(known[0], start), max(known[1], end))
    firsts = [next(w for w in ids if w is not None) for ids in windows.word_ids[1:]]
    lasts = [next(w for w in reversed(ids) if w is not None) for ids in windows.word_ids[:-1]]
    assert set(firsts) & set(lasts), "some word is cut by a window edge"
    # as text (spaces trimmed): a tokenizer may leave the space before a window's first token in its offsets
    (spans,) = _word_spans(windows)
    assert {w: LONG[a:b].strip() for w, (a, b) in spans.items()} == {
        w: LONG[a:b].strip() for w, (a, b) in expected.items()
    }


def test_a_quantized_model_is_explained_by_its_fp32_copy(encoder_dir: tuple[str, Path]) -> None:
    _, folder = encoder_dir
    model = _classifier(folder)
    flags = _flags(2)
    before = model.evidence(TEXTS, flags, k=100)
    model.quantize()
    assert model._explainer is not None and model.model is not model._explainer
    after = model.evidence(TEXTS, flags, k=100)
    for old, new in zip(before, after, strict=True):
        assert set(old) == set(new)
        for label in old:
            assert _as_dict(new[label]) == pytest.approx(_as_dict(old[label]), rel=2e-3, abs=1e-6)


# -------------------------------------------------------------------- TF-IDF


def test_tfidf_weights_are_the_ranked_contributions(tiny_overrides: list[str]) -> None:
    config = load_config(tiny_overrides)
    splits = prepare_data(config)
    model = TfidfClassifier(config.model, splits.label_names, config.data.task, seed=0)  # type: ignore[arg-type]
    model.fit(splits.train, splits.validation, FitContext())
    texts = splits.train.texts
    flags = np.ones((len(texts), len(model.labels)), dtype=bool)
    evidence = model.evidence(texts, flags, k=4)

    word = model.pipeline.named_steps["features"].transformer_list[0][1]
    names = list(word.get_feature_names_out())
    coefficients = np.vstack([e.coef_[0] for e in model.pipeline.named_steps["classifier"].estimators_])
    values = word.transform(texts).toarray()
    checked = 0
    for row, item in enumerate(evidence):
        for j, label in enumerate(model.labels):
            contribution = values[row] * coefficients[j, : len(names)]
            positive = sorted((c for c in contribution if c > 0), reverse=True)[:4]
            terms = item[label]
            assert [w for _, w in terms] == pytest.approx(positive, rel=1e-3)
            for term, weight in terms:
                checked += 1
                assert type(weight) is float
                assert weight == pytest.approx(contribution[names.index(term)], rel=1e-3)
    assert checked > 20


# ------------------------------------------------------------ files, report

WEIGHTED = pd.DataFrame(
    {
        "article_id": ["a1", "a2"],
        "paragraph": [0, 0],
        "text": ["Western newspapers spread lies about the vote.", "Aid trucks crossed the border."],
        "labels": [["claim"], []],
        "p_claim": [0.91, 0.05],
        "evidence": [{"claim": [("newspapers", 0.4213), ("lies", 0.0021)]}, {}],
    }
)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_weighted_evidence_survives_every_output_format(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"scores{suffix}"
    with AtomicSink(target) as sink:
        sink.write(WEIGHTED)
    if suffix == ".jsonl":
        cells = [json.loads(line)["evidence"] for line in target.read_text(encoding="utf-8").splitlines()]
    else:
        frame = pd.read_csv(target) if suffix == ".csv" else pd.read_parquet(target)
        cells = [json.loads(cell) for cell in frame["evidence"]]
    assert cells == [{"claim": [["newspapers", 0.4213], ["lies", 0.0021]]}, {}]
    assert evidence_terms(cells[0], "claim") == [("newspapers", 0.4213), ("lies", 0.0021)]
    page = write_report(target, tmp_path / "report", settings=ReportSettings(n_boot=0)).html
    examples = page.read_text(encoding="utf-8").split("<h2>Examples</h2>")[1]
    assert '<mark title="weight +0.421">newspapers</mark>' in examples
    assert "evidence: newspapers (+0.421), lies (+0.0021)" in examples


def test_the_report_marks_weighted_evidence_and_shows_its_weights() -> None:
    terms = evidence_terms(WEIGHTED["evidence"][0], "claim")
    marked = highlight(WEIGHTED["text"][0], terms)
    assert '<mark title="weight +0.421">newspapers</mark>' in marked
    assert '<mark title="weight +0.0021">lies</mark>' in marked
    page = "".join(examples_html({"claim": [Example(0.91, ("a1", 0), WEIGHTED["text"][0], terms)]}))
    assert "evidence: newspapers (+0.421), lies (+0.0021)" in page
    old = highlight("Biased media said so.", evidence_terms({"claim": ["biased media"]}, "claim"))
    assert old == "<mark>Biased</mark> <mark>media</mark> said so."
