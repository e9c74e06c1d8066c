"""Title: a headline from the verified sentences, checked like every other sentence; failing that,
the lead verified sentence (or the most salient source sentence) cut down to a headline. Never a
list of names."""

from __future__ import annotations

import re

from service.fidelity.sources import SourceIndex
from service.models import KeyPoint, Rejected
from service.neutral import neutrality_problem
from service.pipeline.calls import LLMCaller
from service.pipeline.salience import salience
from service.pipeline.verify import SupportChecker
from service.prompts import Prompt
from service.text import content_words, numbers, proper_names

_MAX_WORDS = 13  # why: a headline is read at a glance; under 14 words (issue 27)
_MIN_SPECIFICS = 2  # who did what to whom or where: "President Joe Biden has made a decision" names one

_TITLE = (r"(?:President(?:-elect)?|Prime Minister|Chancellor|(?:Foreign |Defen[cs]e )?(?:Secretary|Minister)"
          r"|Senator|Sen\.|Governor|Gov\.|Mayor|King|Queen|Pope|General|Gen\.|Speaker|Leader)")
# a subject's office and first names before the surname ("US President Joe Biden" -> "Biden")
_SUBJECT_OFFICE = re.compile(rf"^(?:The\s+)?(?:[A-Z][\w.’'-]*\s+){{0,3}}?{_TITLE}\s+"
                             r"(?:[A-Z][\w.’'-]*\s+)*?([A-Z][\w’'-]+)(?=\s+[a-z])")
# what a headline can do without, each cut tried with and without the others
_OPTIONAL = (
    re.compile(r",\s+(?:known as|also called|called|a|an|the)\s[^,]{1,60},\s+"),  # an appositive: ", known as ...,"
    re.compile(r"\s+(?:supplied|made|provided|built|backed|sent|led)\s+by\s+(?:the\s+)?[\w.-]+(?=\s)"),
    re.compile(r"\s[\w.]+-(?:supplied|made|built|backed|led|owned)(?=\s)"),  # "U.S.-supplied missiles"
    re.compile(r"\s+(?:on|last|this|late on|early on)\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
               r"|week|month|year|night)\b"),
)
# a cut that ends in what only introduced the rest: "missiles, known as Army Tactical Missile Systems"
_OPEN_ENDED = re.compile(r",\s+(?:known|also called|called|such as|including)\b[^,]*$")
# "has made a decision, authorizing X" says its fact in its participle: "authorized X" (regular verbs only)
_LIGHT_VERB = re.compile(r"\b(?:(?:has|have|had)\s+)?made\s+(?:a|the|an)\s+(?:\w+\s+)?(?:decision|move|choice),?\s+"
                         r"(\w+(?:iz|is|ov|ow|nt|rt|ct))ing\b")


async def write_title(
    sentences: list[KeyPoint],
    index: SourceIndex,
    checker: SupportChecker,
    prompt: Prompt,
    llm: LLMCaller,
) -> tuple[str, list[Rejected]]:
    """Ask for a headline over verified sentences; fall back to the lead sentence as a headline."""
    fallback = lead_headline(_lead(sentences, index) if sentences else _most_salient(index), checker)
    if not sentences:
        return fallback, []
    reply = await llm.ask(prompt, {"briefing": "\n".join(s.text for s in sentences)})
    title = clean_headline(reply)
    if not title:
        return fallback, []
    problem, unsupported = _title_problem(title, checker)
    if problem:
        return fallback, [Rejected(text=title, reason=problem, stage="title", unsupported=unsupported)]
    return title, []


_ATTRIBUTION_END = re.compile(
    r",?\s+(?:(?:according to|as reported by)\s+[^,.]+|(?:the\s+)?[\w'’.\- ]{1,40}?\s+(?:said|says|reported|"
    r"reports|announced|told [\w ]+))\s*[.!]?$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^(?:according to|as reported by)\s+[^,]+,\s*", re.IGNORECASE)
_CLAUSE = re.compile(r",\s|;\s|\s[-–—]\s|\s(?:which|who|while|after|as)\s")


def lead_headline(sentence: str, checker: SupportChecker) -> str:
    """Cut a verified sentence down to a headline that says who did what: no attribution, no
    parentheses, under _MAX_WORDS words, and of its shortened forms (see headline_forms) the first one
    still supported on its own ("Biden has made a decision" says nothing; "Biden authorized Ukraine
    to use long-range missiles ..." does); the whole sentence when no form is supported."""
    text = bare_claim(sentence)
    for candidate in headline_forms(text):
        if candidate == sentence or checker.check(candidate.rstrip("…"), []).supported:
            return candidate
    return sentence.strip().rstrip(".")


def bare_claim(sentence: str) -> str:
    """A sentence without its attribution, parentheticals and final stop: the claim a headline starts from."""
    text = _ATTRIBUTION_START.sub("", _ATTRIBUTION_END.sub("", sentence.strip()))
    text = re.sub(r"\s*\([^()]*\)", "", text).rstrip(" .!")  # no parentheticals in a headline
    return text[:1].upper() + text[1:]


def headline_forms(text: str) -> list[str]:
    """A sentence's shortened forms that fit a headline, best first: those naming who did what to
    whom or where (_MIN_SPECIFICS), then the rest; the more content kept, the better; its first
    words last."""
    forms = {_LIGHT_VERB.sub(lambda m: f"{m.group(1)}ed", text)}
    forms |= {_SUBJECT_OFFICE.sub(r"\1", form) for form in forms}
    for cut in _OPTIONAL:
        forms |= {cut.sub(" ", form).replace("  ", " ") for form in forms}
    forms |= {form[: m.start()] for form in list(forms) for m in _CLAUSE.finditer(form)
              if len(form[: m.start()].split()) >= 6}
    fitting = [form.strip() for form in forms if len(form.split()) <= _MAX_WORDS and not _OPEN_ENDED.search(form)]
    fitting.sort(key=lambda form: (len(specifics(form)) >= _MIN_SPECIFICS, len(content_words(form)), len(form)),
                 reverse=True)
    shortest = min(forms, key=len)
    return fitting + [" ".join(shortest.split()[:_MAX_WORDS]) + "…"]


def gist(sentence: str) -> str | None:
    """What a sentence says at its core, as a headline would: its first shortened form that still names
    who did what (_MIN_SPECIFICS) and keeps every number it states; None when it has no shorter form."""
    text = bare_claim(sentence)
    stated = numbers(text)
    for form in headline_forms(text)[:-1]:  # why: the last form is the cut-off fallback ("…")
        if form != text and len(specifics(form)) >= _MIN_SPECIFICS and stated <= numbers(form):
            return form
    return None


def specifics(text: str) -> set[str]:
    """Who and what a headline names: its names and numbers."""
    return proper_names(text) | numbers(text)


def _lead(sentences: list[KeyPoint], index: SourceIndex) -> str:
    """The first sentence that cites no flagged source (garbled or spun wording makes a poor headline)."""
    clean = [s for s in sentences if not any(index.flags.get(a) for a in s.sources)]
    return (clean or sentences)[0].text


def _most_salient(index: SourceIndex) -> str:
    scores = salience(index)
    return index.sentences[int(scores.argmax())].text if len(scores) else "News"


def clean_headline(reply: str) -> str:
    """Take the first non-empty line, without labels, quotes or markdown."""
    for line in reply.splitlines():
        line = re.sub(r"^\s*(headline|title)\s*:\s*", "", line.strip(), flags=re.IGNORECASE)
        line = line.strip(" #*\"“”'").rstrip(".")
        if line:
            return line
    return ""


def _title_problem(title: str, checker: SupportChecker) -> tuple[str, bool]:
    if len(title.split()) > _MAX_WORDS:
        return "too long for a headline", False
    if len(specifics(title)) < _MIN_SPECIFICS:
        return "names too little for a headline: not who did what to whom or where", False
    if problem := neutrality_problem(title):
        return problem, False
    support = checker.check(title, [])
    return ("", False) if support.supported else (support.reason or "unsupported", not support.addressed)
