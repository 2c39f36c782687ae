"""Put the real-text annotations through Label Studio: tasks in, each annotator's labels as their annotations.

Run from the repository root against a running server (``make label-studio``),
with one account per annotator (``make label-studio-user``) whose tokens are
given as ``--annotator NAME=TOKEN``:

    python data/framing_real/post_annotations.py --pool pool.jsonl --labels-dir labels/ \
        --annotator A=token-a --annotator E=token-e ... --url http://127.0.0.1:8080

``labels/<NAME>/*.jsonl`` hold one line per task, ``{"task": <unit id>, "labels": [...]}``,
as each annotator wrote them while labelling the task files. The script
creates a project with ``framing annotate config``'s labelling config and
two annotations per task at most, imports every pool unit as a task
(``data.id`` = unit id, plus article, stratum and sampling weight) and
posts every annotator's labels under that annotator's own account; then
``framing annotate pull``, ``agreement`` and ``import`` take over.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from label_studio_sdk import LabelStudio

from framing.annotate.labelling import FROM_NAME, TO_NAME, labelling_config
from framing.annotate.server import Server, push

LABELS = ["media_bias_claim", "foreign_hostility", "humanitarian", "security_threat", "diplomacy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=Path, required=True)
    parser.add_argument("--labels-dir", type=Path, required=True)
    parser.add_argument("--annotator", action="append", required=True, metavar="NAME=TOKEN")
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--title", default="framing real text (codebook v1.1)")
    args = parser.parse_args()
    tokens = dict(item.split("=", 1) for item in args.annotator)
    with open(args.pool, encoding="utf-8") as handle:
        pool = [json.loads(line) for line in handle]
    tasks = [
        {
            "data": {
                "id": unit["unit_id"],
                "text": unit["text"],
                "article_id": unit["article_id"],
                "paragraph": unit["unit_id"],
                "source": unit["source"],
                "stratum": unit["stratum"],
                "strategy": unit["stratum"],
                "weight": unit["weight"],
            }
        }
        for unit in pool
    ]
    first = next(iter(tokens.values()))
    config = labelling_config(LABELS)
    project, imported = push(Server(args.url, first), args.title, config, tasks, annotators=2)
    print(f"project {project}: {imported} tasks")
    ids = {}
    for task in LabelStudio(base_url=args.url, api_key=first).tasks.list(project=project):
        ids[task.data["id"]] = task.id
    for name, token in sorted(tokens.items()):
        client = LabelStudio(base_url=args.url, api_key=token)
        posted = 0
        for path in sorted((args.labels_dir / name).glob("*.jsonl")):
            with open(path, encoding="utf-8") as handle:
                for line in handle:
                    row = json.loads(line)
                    client.annotations.create(id=ids[row["task"]], result=_choices(row["labels"]))
                    posted += 1
        print(f"annotator {name}: {posted} annotations")


def _choices(labels: list[str]) -> list[dict[str, object]]:
    value = {"choices": sorted(labels)}
    return [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": value}] if labels else []


if __name__ == "__main__":
    main()
