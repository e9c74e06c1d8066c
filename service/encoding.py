"""Bytes to text when the declared encoding may be wrong: decode as declared, else detect the
encoding (charset-normalizer), else refuse, so no article is ever published as mojibake."""

from __future__ import annotations

import re

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
_MOJIBAKE = re.compile(r"Ã[\x80-\xbf¡-¿]|â€[\x80-\xbf™œ\x9d“”˜¦]|Â[\xa0-\xbf]")


def decode(data: bytes, origin: str, declared: str = "utf-8") -> tuple[str, str | None]:
    """Return the text and, when it was not the declared one, the encoding actually found: the
    declared encoding if the bytes read as clean text in it, else UTF-8 (a feed that says Latin-1
    but is UTF-8 would otherwise read as mojibake), else the detected one."""
    tried = [declared] + ([] if _is_utf8(declared) else ["utf-8"])
    garbled = False
    for encoding in tried:
        try:
            text = data.decode("utf-8-sig" if _is_utf8(encoding) else encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if not _garbled(text):
            return text, None if encoding == declared else encoding
        garbled = True
    best = from_bytes(data, cp_isolation=_LIKELY).best() if len(data) >= _MIN_BYTES else None
    if best is not None and best.chaos <= _MAX_CHAOS and not _garbled(str(best)):
        return str(best), best.encoding
    if garbled:
        raise InputError(origin, "text is mojibake (UTF-8 read in another encoding before it got here)")
    raise InputError(origin, f"not valid {declared} and its real encoding cannot be told")


def decode_feed(data: bytes, origin: str) -> tuple[bytes, str | None]:
    """Return the feed as UTF-8 bytes (XML declaration updated) and the encoding found when it was
    not the declared one."""
    match = _XML_ENCODING.match(data)
    declared = match.group(1).decode() if match else "utf-8"
    text, found = decode(data, origin, declared)
    if match:
        text = text.replace(match.group(1).decode(), "utf-8", 1)
    return text.encode("utf-8"), found


def _is_utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _garbled(text: str) -> bool:
    return len(_MOJIBAKE.findall(text)) >= 3
