"""Daily digests: a date's articles grouped into ranked stories, one briefing per story."""
