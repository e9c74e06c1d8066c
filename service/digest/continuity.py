"""What changed: a digest story that continues a story of an earlier digest (the same event,
reported again by newer articles) links to it and lists what it says that the earlier one did not.

Which earlier story is the same event is decided the way one batch's stories are: the new
story's articles and the earlier digests' articles are grouped together (service/group.py), and
a new story continues the newest earlier story whose articles fall into its group. Briefings of
one topic (two strikes in one war) share most of their words, so comparing briefings alone
cannot tell a second event from a continued one; the grouping weighs the names, numbers and
dates that set events apart.
"""

from __future__ import annotations

from collections.abc import Callable

from service import numerics
from service.embeddings import Embedder
from service.models import Briefing, Continuation, Digest, DigestStory, KeyPoint
from service.pipeline.prepare import Corpus

_RESTATED = 0.8  # cosine from which a sentence restates one of the earlier briefing


def link_earlier(stories: list[DigestStory], earlier: list[Digest], prepare: Callable[[list[str]], Corpus]) -> None:
    """Set `continues` on each story (with a briefing) that continues a story of an `earlier`
    digest (newest first); `prepare` gives the prepared corpus of articles by id. Only briefed
    stories' articles are grouped: the rest of a day (thousands of articles) continues nothing."""
    before: dict[str, tuple[str, DigestStory]] = {}
    for digest in earlier:
        for old in digest.stories:
            for article_id in old.article_ids if old.briefing else []:
                before.setdefault(article_id, (digest.date, old))  # the newest digest's story wins
    briefed = [s for s in stories if s.briefing is not None]
    if not before or not briefed:
        return
    corpus = prepare(list(dict.fromkeys([*(a for s in briefed for a in s.article_ids), *before])))
    group_of = {a: n for n, group in enumerate(corpus.stories) for a in group.article_ids}
    for story in briefed:
        groups = {group_of[a] for a in story.article_ids if a in group_of}
        matches = [before[a] for a in before if group_of.get(a) in groups]
        if not matches:
            continue
        day, old = max(matches, key=lambda match: match[0])
        assert story.briefing is not None and old.briefing is not None
        story.continues = Continuation(date=day, story_id=old.id, title=old.briefing.title,
                                       new=_new_since(story.briefing, old.briefing, corpus.embedder))


def _new_since(briefing: Briefing, earlier: Briefing, embedder: Embedder) -> list[KeyPoint]:
    """The briefing's sentences that restate none of the earlier briefing's."""
    mine, theirs = _sentences(briefing), _sentences(earlier)
    if not theirs:
        return mine
    closest = numerics.similarity(embedder.encode([p.text for p in mine]), embedder.encode([p.text for p in theirs]))
    return [p for p, score in zip(mine, closest.max(axis=1), strict=True) if score < _RESTATED]


def _sentences(briefing: Briefing) -> list[KeyPoint]:
    return [*briefing.summary_sentences, *briefing.key_points]
