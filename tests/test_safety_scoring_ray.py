"""The Ray engine's safety (issue 13): loopback-only local Ray, one read with rejects kept, guarded output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from framing.scoring import ScoringOptions
from framing.scoring.guard import OutputError
from tests.conftest import SPLIT_OF, write_split
from tests.test_scoring_resume import save_tiny_model, write_corpus

ray = pytest.importorskip("ray")


def test_a_local_ray_listens_on_loopback_only_and_serves_no_dashboard(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray._private.ray_constants as ray_constants

    from framing.scoring.ray_engine import _local_ray

    seen: dict[str, Any] = {}

    def fake_init(**kwargs: Any) -> None:
        seen.update(kwargs, cluster_mode=ray_constants.ENABLE_RAY_CLUSTER)

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fake_init)
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    before = ray_constants.ENABLE_RAY_CLUSTER
    with _local_ray(None, dashboard=False):
        pass
    assert seen["_node_ip_address"] == "127.0.0.1"
    assert seen["cluster_mode"] is False  # else Ray resolves 127.0.0.1 to the machine's public address
    assert seen["include_dashboard"] is False and seen["dashboard_host"] == "127.0.0.1"
    assert before == ray_constants.ENABLE_RAY_CLUSTER

    seen.clear()
    with _local_ray(None, dashboard=True):
        pass
    assert seen["include_dashboard"] is True and seen["dashboard_host"] == "127.0.0.1"

    seen.clear()
    with _local_ray("ray://head:10001", dashboard=False):
        pass
    assert "_node_ip_address" not in seen and seen["address"] == "ray://head:10001"


def test_overwrite_of_a_ray_output_refuses_files_no_ray_run_wrote(tmp_path: Path) -> None:
    from framing.scoring.ray_engine import RUN_RECORD, _prepare_output

    output = tmp_path / "ray_out"
    output.mkdir()
    (output / "abc_000000_000000.parquet").write_bytes(b"part")
    (output / RUN_RECORD).write_text(json.dumps({"files": ["abc_000000_000000.parquet"]}), encoding="utf-8")
    (output / "NOTES.md").write_text("keep", encoding="utf-8")
    with pytest.raises(OutputError, match=r"holds NOTES\.md, which no Ray scoring run wrote; nothing was deleted"):
        _prepare_output(output, overwrite=True)
    assert sorted(p.name for p in output.iterdir()) == ["NOTES.md", RUN_RECORD, "abc_000000_000000.parquet"]
    (output / "NOTES.md").unlink()
    with pytest.raises(OutputError, match="holds an earlier Ray scoring run; use another --output or --overwrite"):
        _prepare_output(output, overwrite=False)
    _prepare_output(output, overwrite=True)
    assert list(output.iterdir()) == []


def test_ray_with_limit_keeps_the_rejects_of_what_it_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from framing.scoring.ray_engine import REJECTS, RUN_RECORD, score_with_ray

    executions: list[str] = []  # the driver's calls that run a Ray dataset (not Ray's own calls inside them)
    depth = [0]
    for method in ("write_parquet", "take_all", "take", "iter_rows", "iter_batches", "materialize", "count"):
        original = getattr(ray.data.Dataset, method)

        def counted(self: Any, *args: Any, _name: str = method, _original: Any = original, **kwargs: Any) -> Any:
            if not depth[0]:
                executions.append(_name)
            depth[0] += 1
            try:
                return _original(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(ray.data.Dataset, method, counted)

    data = {name: write_split(tmp_path / f"{name}.jsonl", ids) for name, ids in SPLIT_OF.items()}
    model = save_tiny_model(data, tmp_path / "model")
    corpus = tmp_path / "corpus"
    write_corpus(corpus, articles=4)
    (corpus / "desk" / "0-blank.txt").write_text("   \n", encoding="utf-8")
    output = tmp_path / "ray_out"
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        summary = score_with_ray(
            str(model), corpus, output, options=ScoringOptions(progress=False, limit=3), concurrency=1
        )
    finally:
        ray.shutdown()
    assert executions == ["write_parquet"]  # the corpus is read and split once
    parts = sorted(output.glob("*.parquet"))
    assert len(pd.concat([pd.read_parquet(p) for p in parts])) == summary.paragraphs == 3
    assert summary.rejects == {"empty article": 1}
    rejects = [json.loads(line) for line in (output / REJECTS).read_text(encoding="utf-8").splitlines()]
    assert [Path(r["source"]).name for r in rejects] == ["0-blank.txt"]
    record = json.loads((output / RUN_RECORD).read_text(encoding="utf-8"))
    assert sorted(record["files"]) == [p.name for p in parts]
    assert not [p for p in output.iterdir() if p.name.startswith(".")]  # staging and side files are gone
