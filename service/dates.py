"""Dates inside article text: found, and resolved against the article's publication date when it is
known. A relative date with nothing to resolve it against is kept as written and marked unresolved,
never guessed."""

from __future__ import annotations

import re
from calendar import month_name
from datetime import UTC, date, datetime, timedelta

from service.models import DateMention


def as_utc(moment: datetime) -> datetime:
    """Return a time in UTC; one without an offset is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# why: a digest's date is computed with (days before it, the next day); near year 1 that overflows
FIRST_DIGEST_DAY = date(1900, 1, 1)


def digest_day_problem(day: date, today: date) -> str | None:
    """Say why a digest cannot cover `day`, or None when it can."""
    if day < FIRST_DIGEST_DAY:
        return f"{day} is before {FIRST_DIGEST_DAY}, the first date a digest covers"
    if day > today:
        return f"{day} is in the future (today is {today})"
    return None


_MONTHS = {name.lower(): n for n, name in enumerate(month_name) if name}
# why: case-sensitive, so the verb "may" and "march" are not months
_MONTH = "(?-i:" + "|".join(name for name in month_name if name) + ")"
_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_PATTERN = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})\s+(?P<m1>{_MONTH})(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<m2>{_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y2>\d{{4}}))?"
    # a month alone only after a word that makes it a date ("Theresa May said" is not May)
    rf"|(?:(?:in|since|until|by|from|early|late|mid|last|next|this)[\s-]+)(?P<m3>{_MONTH})(?:\s+(?P<y3>\d{{4}}))?"
    rf"|(?P<m4>{_MONTH})\s+(?P<y4m>\d{{4}})"
    r"|(?P<rel>yesterday|today|last\s+(?:week|month|year)|this\s+(?:week|month|year)"
    # the day of publication, as news says it; "overnight" only as an adverb ("an overnight success" is none)
    # ("overnight on Sunday" is dated by its day)
    r"|(?:this\s+(?:morning|afternoon|evening)|tonight|at\s+dawn|during\s+the\s+night"
    r"|overnight(?=\s*(?:[,.;:)]|$)|\s+(?:and|on|in|into|to|from|as|after|before|while|when|with|near|across|against|at)\b))"
    rf"(?!\s+(?:on|of)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|\d|{_MONTH})))"
    r"|(?:on|last)\s+(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    # news drops the "on" ("traveled to Kyiv Tuesday"); capitalised, and not a named day ("Super Tuesday")
    r"|(?<!Super\s)(?<!Black\s)(?<!Good\s)(?<!Cyber\s)(?<!Ash\s)(?<!Holy\s)(?<!Easter\s)(?<!Palm\s)"
    r"(?-i:(?P<bare>Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday))"
    r"|in\s+(?P<y4>(?:19|20)\d{2}))\b",
    re.IGNORECASE,
)


_SAME_DAY = frozenset({"today", "tonight", "overnight", "at dawn", "during the night", "this morning",
                       "this afternoon", "this evening"})
_FUTURE = re.compile(r"\b(?:will|next|upcoming|due to|scheduled|plans? to|is to|are to)\b", re.IGNORECASE)


def find_dates(sentence: str, published: datetime | None) -> list[DateMention]:
    """Every date the sentence mentions, resolved where its publication date (or its own year) allows.
    A month with no year is the last such month before publication, or the next one when the sentence
    speaks of the future ("will", "next", "scheduled")."""
    future = bool(_FUTURE.search(sentence))
    today = published.date() if published else None
    return [_resolve(match, today, future) for match in _PATTERN.finditer(sentence)]


def _resolve(match: re.Match[str], today: date | None, future: bool) -> DateMention:
    said = match.group(0)
    parts = match.groupdict()
    month_text = parts["m1"] or parts["m2"] or parts["m3"] or parts["m4"]
    if month_text:
        month = _MONTHS[month_text.lower()]
        year_text = parts["y1"] or parts["y2"] or parts["y3"] or parts["y4m"]
        day_text = parts["d1"] or parts["d2"]
        if year_text:
            year = int(year_text)
        elif today and future:
            year = today.year if month >= today.month else today.year + 1
        elif today:
            year = today.year if month <= today.month else today.year - 1
        else:
            return DateMention(said=said)
        if day_text and 1 <= int(day_text) <= 31:
            try:
                return DateMention(said=said, when=date(year, month, int(day_text)).isoformat(), precision="day")
            except ValueError:
                return DateMention(said=said)
        return DateMention(said=said, when=f"{year:04d}-{month:02d}", precision="month")
    if parts["y4"]:
        return DateMention(said=said, when=parts["y4"], precision="year")
    if today is None:
        return DateMention(said=said)
    if weekday := parts["day"] or parts["bare"]:
        back = (today.weekday() - _DAYS.index(weekday.lower())) % 7 or 7  # the last one before
        return DateMention(said=said, when=(today - timedelta(days=back)).isoformat(), precision="day")
    relative = " ".join(parts["rel"].lower().split())
    if relative == "yesterday":
        return DateMention(said=said, when=(today - timedelta(days=1)).isoformat(), precision="day")
    if relative in _SAME_DAY:
        return DateMention(said=said, when=today.isoformat(), precision="day")
    if relative.endswith("month"):
        first = today.replace(day=1)
        shown = first if relative.startswith("this") else (first - timedelta(days=1))
        return DateMention(said=said, when=f"{shown.year:04d}-{shown.month:02d}", precision="month")
    if relative.endswith("year"):
        return DateMention(said=said, when=str(today.year - relative.startswith("last")), precision="year")
    monday = today - timedelta(days=today.weekday()) - timedelta(weeks=relative.startswith("last"))
    return DateMention(said=said, when=monday.isoformat(), precision="week")



_MONTH_ABBREVIATIONS = {name[:3]: n for name, n in _MONTHS.items()}
_FULL_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
               r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?")
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
_FULL_DATE = (rf"{_WEEKDAY}(?:(?P<d1>\d{{1,2}})\s+(?P<m1>{_FULL_MONTH}),?\s+(?P<y1>(?:19|20)\d\d)"
              rf"|(?P<m2>{_FULL_MONTH})\s+(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y2>(?:19|20)\d\d)"
              r"|(?P<y3>(?:19|20)\d\d)-(?P<m3>\d\d)-(?P<d3>\d\d))\b")
# A date the text gives itself: a "Published ..." or "Updated ..." label (a time may come first), a first
# line that is only a date, or a dateline ("KYIV, November 17, 2024 (Reuters) —"). Dates inside the
# story's sentences are what happened, not when it was written, and are never taken for it.
_LABELLED = re.compile(rf"\b(?:published|updated|posted|dated)\b(?:\s+(?:on|at))?:?\s+[^\n]{{0,30}}?{_FULL_DATE}",
                       re.IGNORECASE)
_OPENING = re.compile(rf"\s*(?:[A-Z][A-Za-z .'-]{{1,30}},\s+)?{_FULL_DATE}\s*(?:\([^)\n]{{1,30}}\)\s*)?"
                      r"(?:[-–—:]|[,\s]*(?:\d{1,2}[:.]\d\d[^\n]{0,20})?$)", re.IGNORECASE | re.MULTILINE)
_LABEL_WORDS = 12
_SELF_DATE_REACH = 400  # characters: a byline or dateline opens an article; a "Published" line may close it


def date_line_length(paragraph: str) -> int:
    """How many characters of an opening paragraph are its date line or dateline, 0 when none: they
    say when it was written, and are no part of the story."""
    match = _OPENING.match(paragraph)
    return match.end() if match else 0


def is_date_label(paragraph: str) -> bool:
    """Tell a paragraph that only labels the article's date ("Published: 17 November 2024")."""
    return _LABELLED.search(paragraph) is not None and len(paragraph.split()) <= _LABEL_WORDS


def stated_date(text: str) -> datetime | None:
    """The publication date an article's text states about itself (noon UTC of that day), or None."""
    match = _OPENING.match(text) or _LABELLED.search(text[:_SELF_DATE_REACH]) \
        or _LABELLED.search(text[-_SELF_DATE_REACH:])
    if match is None:
        return None
    day, month, year = next((match[f"d{n}"], match[f"m{n}"], match[f"y{n}"]) for n in (1, 2, 3) if match[f"y{n}"])
    number = int(month) if month.isdigit() else _MONTH_ABBREVIATIONS[month[:3].lower()]
    try:
        return datetime(int(year), number, int(day), 12, tzinfo=UTC)
    except ValueError:
        return None
