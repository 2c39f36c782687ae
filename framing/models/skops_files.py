"""scikit-learn pipelines on disk: skops files, slimmed on the way out, type-checked on the way in.

Never pickle: a model file may come from anyone, so loading lists the types
the file would build and refuses anything beyond skops' defaults
(scikit-learn estimators, numpy and scipy containers) and ``extra_trusted``.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

from framing.errors import ModelLoadError


def slim_vectorizers(pipeline: Any) -> None:
    """Plain-int vocabularies and no ``stop_words_``: the same transform, a file minutes faster to write.

    skops stores every numpy scalar as its own array entry, so a vocabulary of
    numpy ints takes minutes to write; plain ints store as one JSON object.
    ``stop_words_`` only records pruned terms and is not needed to transform
    (scikit-learn documents deleting it).
    """
    for _, vectorizer in pipeline.named_steps["features"].transformer_list:
        vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        if hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_


def dump_pipeline(pipeline: Any, path: Path, slim: bool = True) -> None:
    """Write ``pipeline`` as a deflated skops file, its vocabularies slimmed first (``slim``).

    ``slim`` needs a ``features`` FeatureUnion of vocabulary vectorizers. The
    vocabularies' JSON spells out a type for every entry, so it is most of an
    uncompressed file; deflate shrinks it about 20x.
    """
    import skops.io as sio

    if slim:
        slim_vectorizers(pipeline)
    sio.dump(pipeline, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)


def load_pipeline(path: Path, extra_trusted: frozenset[str] = frozenset()) -> Any:
    """Load a scikit-learn Pipeline after an explicit trusted-type check; never unpickles."""
    import skops.io as sio
    from sklearn.pipeline import Pipeline

    if not path.is_file():
        raise ModelLoadError(f"{path}: model file not found")
    untrusted = set(sio.get_untrusted_types(file=path))
    refused = sorted(untrusted - extra_trusted)
    if refused:
        raise ModelLoadError(f"{path}: refusing to load untrusted types {refused}")
    pipeline = sio.load(path, trusted=sorted(untrusted))
    if not isinstance(pipeline, Pipeline):
        raise ModelLoadError(f"{path}: expected a scikit-learn Pipeline, found {type(pipeline).__name__}")
    return pipeline


__all__ = ["dump_pipeline", "load_pipeline", "slim_vectorizers"]
