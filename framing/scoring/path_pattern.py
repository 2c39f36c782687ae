"""Metadata from the paths of a ``.txt`` archive: ``--path-pattern "{outlet}/{date}_{slug}.txt"``.

Scraped archives keep the outlet and the date in folder and file names, not
in the text; without them a report cannot group by outlet or year. A pattern
names the parts of the path (relative to the input folder) with ``{name}``
placeholders; each becomes a metadata column of every paragraph of the file.
``{date}`` matches ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ``YYYYMMDD`` and is
written as ``YYYY-MM-DD`` (or the shorter form), so ``year`` and ``month``
work in reports; any other placeholder matches text without ``/``. A file
whose path does not match is a reject with the reason ``path pattern``, so a
wrong pattern shows at once instead of leaving outlets empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from framing.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_DATE = r"\d{4}(?:-?\d{2}(?:-?\d{2})?)?"
_SUFFIXES = (".txt.gz", ".txt", ".html.gz", ".htm.gz", ".html", ".htm")
RESERVED = {"article_id", "paragraph", "text", "labels", "evidence", "kind", "detected_language", "source_encoding"}


@dataclass(frozen=True)
class PathPattern:
    """A compiled ``--path-pattern``."""

    pattern: str
    regex: re.Pattern[str]
    names: tuple[str, ...]

    @classmethod
    def compile(cls, pattern: str) -> PathPattern:
        """Check and compile; a bad pattern is a one-line ``ConfigError`` naming the problem."""
        body = pattern
        for suffix in _SUFFIXES:
            if body.lower().endswith(suffix):
                body = body[: -len(suffix)]
                break
        names: list[str] = []
        parts: list[str] = []
        position = 0
        for match in _PLACEHOLDER.finditer(body):
            name = match.group(1)
            if not name.isidentifier() or name in RESERVED or name in names:
                problem = "is used twice" if name in names else "is reserved" if name in RESERVED else "is not a name"
                raise ConfigError(f"--path-pattern {pattern!r}: placeholder {{{name}}} {problem}")
            parts.append(re.escape(body[position : match.start()]))
            parts.append(f"(?P<{name}>{_DATE if name == 'date' else '[^/]+?'})")
            names.append(name)
            position = match.end()
        parts.append(re.escape(body[position:]))
        if not names:
            raise ConfigError(
                f"--path-pattern {pattern!r}: no {{name}} placeholder, e.g. '{{outlet}}/{{date}}_{{slug}}.txt'"
            )
        return cls(pattern, re.compile("".join(parts)), tuple(names))

    def metadata(self, relative: str) -> dict[str, str] | None:
        """The placeholders' values for a path relative to the input (without ``.txt``), or None."""
        match = self.regex.fullmatch(relative)
        if match is None:
            return None
        values = dict(match.groupdict())
        if "date" in values:
            values["date"] = _iso_date(values["date"])
        return values


def _iso_date(value: str) -> str:
    digits = value.replace("-", "")
    return "-".join(part for part in (digits[:4], digits[4:6], digits[6:8]) if part)


__all__ = ["PathPattern"]
