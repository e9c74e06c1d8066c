"""Bytes to text when the declared encoding may be wrong: decode as declared, else detect the
encoding (charset-normalizer), else refuse. Valid UTF-8 is never decoded again: mojibake inside it
(UTF-8 read as cp1252 somewhere upstream, "FÃ©in") is repaired (ftfy), and what cannot be repaired
is flagged when the article is cleaned."""

from __future__ import annotations

import re
from dataclasses import dataclass

import ftfy
from charset_normalizer import from_bytes

from service.errors import InputError

# Most a detected decoding may look like noise (charset-normalizer's chaos, 0 to 1).
_MAX_CHAOS = 0.2
# Below this, detection guesses (a short Latin-1 line reads as Urdu cp1006 just as well).
_MIN_BYTES = 200
# The encodings news text arrives in when it is not UTF-8.
_LIKELY = ["cp1252", "latin_1", "iso8859_15", "cp1250", "iso8859_2", "cp1251", "koi8_r", "iso8859_7",
           "cp1254", "shift_jis", "euc_jp", "gb18030", "big5", "euc_kr", "utf_16"]
_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding=[\"']([A-Za-z0-9._-]+)[\"']")
# UTF-8 read as Latin-1 or cp1252: "Ã©" for "é", "â€™" for "’".
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf¡-¿]|â€[\x80-\xbf™œ\x9d“”˜¦\s]|Â[\xa0-\xbf]")
# Only the encoding repair: quotes, ligatures, widths and line breaks stay as the source wrote them.
_REPAIR_ONLY = ftfy.TextFixerConfig(
    unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False, fix_character_width=False,
    uncurl_quotes=False, fix_line_breaks=False, remove_control_chars=False, normalization=None, explain=False,
)


@dataclass(frozen=True)
class Decoded:
    """Text read from bytes: the encoding found when it was not the declared one, and how many
    mojibake sequences were repaired."""

    text: str
    encoding: str | None = None
    repaired: int = 0

    def note(self) -> str | None:
        """What a reader of the logs should know about this decoding, or None."""
        notes = [f"read as {self.encoding}"] if self.encoding else []
        if self.repaired:
            notes.append(f"{self.repaired} mojibake sequences repaired (UTF-8 read in another encoding upstream)")
        return "; ".join(notes) or None


def decode(data: bytes, origin: str, declared: str = "utf-8") -> Decoded:
    """Decode in the declared encoding if the bytes read as clean text in it, else in UTF-8 (a feed
    that says Latin-1 but is UTF-8 would otherwise read as mojibake), else in the detected one."""
    tried = [declared] + ([] if _is_utf8(declared) else ["utf-8"])
    garbled = False
    for encoding in tried:
        try:
            text = data.decode("utf-8-sig" if _is_utf8(encoding) else encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        found = None if encoding == declared else encoding
        if _is_utf8(encoding):
            # why: bytes that are valid UTF-8 are UTF-8; decoding them again only compounds mojibake
            return _repaired(text, found)
        if not has_mojibake(text):
            return Decoded(text, found)
        garbled = True
    best = from_bytes(data, cp_isolation=_LIKELY).best() if len(data) >= _MIN_BYTES else None
    if best is not None and best.chaos <= _MAX_CHAOS and not has_mojibake(str(best)):
        return Decoded(str(best), best.encoding)
    if garbled:
        raise InputError(origin, "text is mojibake (UTF-8 read in another encoding before it got here)")
    raise InputError(origin, f"not valid {declared} and its real encoding cannot be told")


def decode_feed(data: bytes, origin: str) -> tuple[bytes, Decoded]:
    """Return the feed as UTF-8 bytes (XML declaration updated) and how it was decoded."""
    match = _XML_ENCODING.match(data)
    declared = match.group(1).decode() if match else "utf-8"
    decoded = decode(data, origin, declared)
    text = decoded.text.replace(match.group(1).decode(), "utf-8", 1) if match else decoded.text
    return text.encode("utf-8"), decoded


def _repaired(text: str, found: str | None) -> Decoded:
    if not _MOJIBAKE.search(text):
        return Decoded(text, found)
    fixed = ftfy.fix_text(text, _REPAIR_ONLY)
    return Decoded(fixed, found, max(0, len(_MOJIBAKE.findall(text)) - len(_MOJIBAKE.findall(fixed))))


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def has_mojibake(text: str) -> bool:
    """Whether text still holds UTF-8 read in another encoding ("Ã©" for "é"), more than by chance."""
    return len(_MOJIBAKE.findall(text)) >= 3
