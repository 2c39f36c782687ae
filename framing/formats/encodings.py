"""Text in the encoding it was written in: UTF-8 first, then a detected legacy encoding.

Archives scraped or exported years ago are often Latin-1 or Windows-1252;
refusing them as undecodable loses whole outlets, and decoding them as
UTF-8 with replacement characters corrupts every accented word. Bytes are
read as UTF-8 (a byte-order mark dropped) when they are valid UTF-8;
otherwise charset-normalizer picks the encoding that decodes them into the
most plausible text, and the caller records which one it was. Among
encodings that decode the bytes equally plausibly, Windows-1252 (printable
Latin-1 plus typographic quotes and dashes) is preferred: it is the usual
legacy encoding of Western news archives, and a short French or German text
is otherwise often read as Central European ``cp1250`` (``très`` as ``trčs``).
So is any guess that decodes to Latin letters only; a text the detector reads
as Cyrillic, Greek or another script keeps the detected encoding. (A Polish
text in ``cp1250`` is therefore read as Windows-1252; ``source_encoding``
says so.)
Only bytes that no encoding turns into text (binary data) stay undecodable.
"""

from __future__ import annotations

UTF8 = "utf-8"
PREFERRED = ("cp1252", "latin_1")
CHAOS_TOLERANCE = 0.01


class UndecodableText(ValueError):
    """No encoding turns the bytes into text; ``offset`` is the first byte that is not UTF-8."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"bytes that are not UTF-8 at offset {offset}, and no other encoding fits")
        self.offset = offset


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding used): UTF-8 when the bytes are UTF-8, else the detected encoding (e.g. ``cp1252``)."""
    try:
        return data.decode("utf-8-sig"), UTF8
    except UnicodeDecodeError as exc:
        offset = exc.start
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        raise UndecodableText(offset)
    best = matches[0]
    for name in PREFERRED:
        for match in matches:
            if match.encoding == name and match.chaos <= best.chaos + CHAOS_TOLERANCE:
                return str(match), name
    text = str(best)
    from charset_normalizer.utils import is_multi_byte_encoding

    single_byte = not is_multi_byte_encoding(str(best.encoding))
    if single_byte and _latin_only(text):  # another Latin code page is no better supported than Windows-1252
        try:
            return data.decode(PREFERRED[0]), PREFERRED[0]
        except UnicodeDecodeError:
            pass
    return text, str(best.encoding)


def _latin_only(text: str) -> bool:
    """Every letter is a Latin one: the guess is a Western or Central European code page, not Cyrillic, Greek, ..."""
    import unicodedata

    return all("LATIN" in unicodedata.name(ch, "") for ch in text if ch.isalpha())


__all__ = ["UTF8", "UndecodableText", "decode_text"]
