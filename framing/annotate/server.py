"""Talk to a Label Studio server through its SDK: create a project with tasks, download its export.

The server's URL and API key come from the options or from ``LABEL_STUDIO_URL``
and ``LABEL_STUDIO_API_KEY``. The key is a user's access token (Account &
Settings in the web app): a legacy token or a personal access token, which the
SDK exchanges for short-lived access tokens itself. The export is Label
Studio's own JSON export (all tasks, including those nobody annotated), exactly
what ``framing annotate import`` and ``agreement`` read; beside it, ``<name>.users.json`` maps the
export's user ids (``completed_by``) to emails, which those commands use to name annotators.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from framing.errors import DataError, FramingError

BATCH = 500


@dataclass(frozen=True)
class Server:
    """Where the server is and who is asking."""

    url: str
    api_key: str


def server_from(url: str | None, api_key: str | None) -> Server:
    """The options, else the environment; a missing one is a user error."""
    url = url or os.environ.get("LABEL_STUDIO_URL")
    api_key = api_key or os.environ.get("LABEL_STUDIO_API_KEY")
    if not url:
        raise FramingError("no Label Studio URL: pass --url or set LABEL_STUDIO_URL (e.g. http://127.0.0.1:8080)")
    if not api_key:
        raise FramingError("no Label Studio API key: pass --api-key or set LABEL_STUDIO_API_KEY")
    return Server(url.rstrip("/"), api_key)


def client(server: Server) -> Any:
    """An SDK client; connection problems surface as one-line errors at the first call."""
    import warnings

    with warnings.catch_warnings():  # the SDK's pydantic-v1-style models warn on import; nothing to act on
        warnings.simplefilter("ignore", DeprecationWarning)
        from label_studio_sdk import LabelStudio

    return LabelStudio(base_url=server.url, api_key=server.api_key)


def _call(what: str, server: Server, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SDK call; the server's refusal or an unreachable server becomes a FramingError."""
    from label_studio_sdk.core.api_error import ApiError

    try:
        return function(*args, **kwargs)
    except ApiError as exc:
        body = exc.body
        if isinstance(body, dict):
            body = body.get("detail") or body.get("validation_errors") or body
        raise FramingError(f"Label Studio at {server.url} refused to {what}: HTTP {exc.status_code}: {body}") from None
    except OSError as exc:
        raise FramingError(f"cannot reach Label Studio at {server.url} to {what}: {exc}") from None
    except Exception as exc:  # httpx errors are not OSErrors
        if type(exc).__module__.startswith("httpx"):
            raise FramingError(f"cannot reach Label Studio at {server.url} to {what}: {exc}") from None
        raise


def read_tasks(path: Path) -> list[dict[str, Any]]:
    """A tasks file written by ``framing annotate sample``."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(path, f"not a Label Studio tasks file: {exc}") from None
    if not isinstance(tasks, list) or not all(isinstance(t, dict) and "data" in t for t in tasks):
        raise DataError(path, "not a Label Studio tasks file (expected a list of objects with 'data')")
    return tasks


def push(
    server: Server, title: str, label_config: str, tasks: Sequence[dict[str, Any]], annotators: int = 1
) -> tuple[int, int]:
    """Create a project with ``label_config`` and import ``tasks``; returns (project id, tasks imported).

    ``annotators`` is how many people label each task (Label Studio's overlap, on every task):
    two or more is what agreement is measured on.
    """
    if annotators < 1:
        raise FramingError("--annotators must be at least 1")
    ls = client(server)
    overlap = {"maximum_annotations": annotators, "overlap_cohort_percentage": 100}
    create = ls.projects.create
    project = _call("create a project", server, create, title=title, label_config=label_config, **overlap)
    imported = 0
    for start in range(0, len(tasks), BATCH):
        batch = list(tasks[start : start + BATCH])
        response = _call("import tasks", server, ls.projects.import_tasks, id=project.id, request=batch)
        imported += int(getattr(response, "task_count", None) or len(batch))
    return int(project.id), imported


def pull(server: Server, project: int, output: Path) -> int:
    """Write the project's JSON export (every task) to ``output``; returns the number of tasks."""
    ls = client(server)
    chunks = _call(
        "export the project",
        server,
        lambda: b"".join(ls.projects.exports.download_sync(id=project, export_type="JSON", download_all_tasks=True)),
    )
    tasks = json.loads(chunks)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    users = _call("list its users", server, ls.users.list)
    names = {str(user.id): user.email or user.username or str(user.id) for user in users}
    users_file(output).write_text(json.dumps(names, indent=1) + "\n", encoding="utf-8")
    return len(tasks)


def users_file(export: Path) -> Path:
    """Beside an export, the server's user ids and emails, so annotators are named, not numbered."""
    return export.with_name(export.stem + ".users.json")
