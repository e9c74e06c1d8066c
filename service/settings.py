"""All configuration in one place: environment variables prefixed BRIEFING_."""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.errors import ConfigError

# The most any setting can allow in one article (the API schema states it).
MAX_ARTICLE_CHARS = 1_000_000


class LLMSettings(BaseModel):
    """How to reach the chat model."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(
        None,
        description="OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp). "
        "Unset: start the embedded SmolLM2 server on loopback.",
    )
    api_key: str = Field("not-needed", description="API key sent to the backend.")
    model: str = Field("smollm2-135m-instruct", description="Model name sent to the backend.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    seed: int | None = Field(7, description="Sampling seed, for repeatable runs where supported.")
    timeout_s: float = Field(120.0, gt=0, description="Timeout of one LLM request, in seconds.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries of a failed LLM request.")
    concurrency: int = Field(2, ge=1, le=64, description="LLM calls of one briefing in flight at once.")
    send_max_tokens: bool = Field(
        True,
        description="Also send the legacy `max_tokens` field: llama.cpp ignores "
        "`max_completion_tokens`. Turn off for backends that reject both.",
    )


class EmbeddedSettings(BaseModel):
    """The embedded llama.cpp server used when no backend is configured."""

    model_config = ConfigDict(extra="forbid")

    n_ctx: int = Field(4096, ge=512, description="Context window of the embedded model.")
    n_threads: int = Field(2, ge=1, description="CPU threads for the embedded model.")
    n_batch: int = Field(
        128, ge=8, description="Prompt batch size; its logits buffer (x 49k vocab) dominates server memory."
    )
    startup_timeout_s: float = Field(120.0, gt=0, description="Seconds to wait for readiness.")


class ChunkSettings(BaseModel):
    """Token-aware chunking of cleaned articles."""

    model_config = ConfigDict(extra="forbid")

    encoding: str = Field("cl100k_base", description="tiktoken encoding shipped in service/data.")
    max_tokens: int = Field(1200, ge=64, description="Largest chunk, in tokens.")
    overlap_tokens: int = Field(0, ge=0, description="Tokens of trailing paragraphs repeated.")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkSettings:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError("chunk.overlap_tokens must be smaller than chunk.max_tokens")
        return self


class PipelineSettings(BaseModel):
    """Map, collapse and reduce."""

    model_config = ConfigDict(extra="forbid")

    prompts: dict[str, str] = Field(
        default_factory=lambda: {"map": "v3", "collapse": "v1", "reduce": "v3", "title": "v1"},
        description="Prompt version per stage, e.g. {'map': 'v1'}.",
    )
    facts_token_budget: int = Field(
        1200, ge=64, description="Facts above this many tokens are collapsed before reduce."
    )
    max_collapse_rounds: int = Field(3, ge=0, description="Collapse rounds at most.")
    max_article_sentences: int = Field(
        600, ge=10, description="Sentences of one article read at all (the rest is listed as dropped): "
        "bounds what one long article costs in embedding, grouping and verification.",
    )
    dropped_listed: int = Field(
        50, ge=0, description="Dropped paragraphs a briefing lists one by one; the rest are counted by reason.",
    )
    read_tokens: int = Field(
        1600, ge=0, description="Article tokens (chunk.encoding) the listing prompts (map v1, v2) read per batch, "
        "split among its stories by their text: the most salient "
        "sentences first, none restating another; 0 reads every kept sentence.",
    )
    rewrite_passages: int = Field(
        8, ge=1, le=100, description="Passages of a story a rewrite prompt (map v3) rewrites at most, most salient "
        "and least repetitive first: each is one LLM call.",
    )
    timeline_events: int = Field(
        6, ge=0, le=50, description="Dated events in a briefing's timeline at most (its own sentences first)."
    )


class VerifySettings(BaseModel):
    """The check every briefing sentence must pass before it ships."""

    model_config = ConfigDict(extra="forbid")

    min_content_overlap: float = Field(
        0.5, ge=0.0, le=1.0, description="Share of a mapped fact's content words that must occur in its chunk."
    )
    rewrite_in_order: float = Field(
        0.8, ge=0.0, le=1.0, description="Share of a rewritten passage's words (map v3) that must occur in the "
        "passage in the same order: a small model that recombines a passage's words gets who did what wrong, "
        "which the judge mostly misses; a compression keeps the order.",
    )
    min_key_points: int = Field(4, ge=1, description="Fewer verified points: add source sentences.")
    max_key_points: int = Field(10, ge=1, description="Most key points of one story.")
    points_words: int = Field(
        220, ge=20, description="Words of key points in one story at most: the coverage budget, spent on the points "
        "in the order they come (the most important and least repetitive first).",
    )


class FidelitySettings(BaseModel):
    """The fidelity checker: the trained judge over evidence windows (`python -m training judge calibrate`)."""

    model_config = ConfigDict(extra="forbid")

    threshold: float | None = Field(
        None, ge=0.0, le=1.0,
        description="Support score needed to count as supported; unset: the calibrated threshold "
        "stored in service/data/judge.json.",
    )
    evidence_sentences: int = Field(
        3, ge=1, le=16, description="Closest source sentences retrieved per claim; each is judged with its "
        "neighbours, and all of them together as one more window.",
    )
    block_size: int = Field(16, ge=1, description="Items embedded and judged together when scoring many.")


class ApiSettings(BaseModel):
    """The HTTP API: limits, jobs and who may call it."""

    model_config = ConfigDict(extra="forbid")

    auth_reads: bool = Field(False, description="Require an API key for GET requests too.")
    max_body_bytes: int = Field(5_000_000, ge=1_000, description="Largest request body; 413 beyond it.")
    max_articles: int = Field(50, ge=1, description="Most articles in one request.")
    max_article_chars: int = Field(
        100_000, ge=100, le=MAX_ARTICLE_CHARS, description="Most characters in one article's text."
    )
    sync_max_chars: int = Field(
        3_000, ge=0, description="Requests with at most this many characters are briefed at once (201); "
        "larger ones are queued (202)."
    )
    retry_after_s: int = Field(30, ge=1, description="Retry-After sent with 503 when the LLM backend is down.")
    page_size: int = Field(20, ge=1, le=500, description="Default page size of list endpoints.")
    keep_alive_s: int = Field(
        75, ge=1, description="How long the server keeps an idle connection open: longer than clients keep "
        "theirs (httpx: 5 s), so a client never sends on a connection the server is closing at that moment.",
    )
    threads: int = Field(
        8, ge=1, le=256, description="Threads that run request work (database, briefings made at once). More "
        "than the cores only makes them contend for the interpreter, and /healthz wait behind them.",
    )
    cache_briefings: int = Field(
        1000, ge=0, description="Finished briefings kept in memory for reads (they never change); 0: none."
    )


class PagesSettings(BaseModel):
    """The reading pages (/, stories, archive, search, briefings)."""

    model_config = ConfigDict(extra="forbid")

    read_keys: str = Field(
        "", description="Comma-separated read-only keys (BRIEFING_PAGES__READ_KEYS); with any, a browser is asked "
        "for one (HTTP Basic, the key as password; an API key also opens them); with none, the pages are open.",
    )
    search_results: int = Field(20, ge=1, le=200, description="Most stories a search lists.")
    fresh_s: float = Field(
        2.0, ge=0.0, le=300.0, description="How long a page may show a digest before the database is asked whether "
        "it was made again (0: every request asks).",
    )

    @property
    def keys(self) -> list[str]:
        """The read-only keys, parsed."""
        return [k.strip() for k in self.read_keys.split(",") if k.strip()]


class QueueSettings(BaseModel):
    """The task queue (Celery) that runs queued briefings and digest runs on workers."""

    model_config = ConfigDict(extra="forbid")

    concurrency: int = Field(2, ge=1, le=64, description="Tasks one worker process runs at once (threads).")
    onnx_threads: int = Field(
        1, ge=0, le=64, description="Threads each ONNX model of a worker process uses (0: one per core). With "
        "several worker processes on one machine, 1 lets each process have a core rather than fight for all."
    )
    start_worker: bool = Field(
        True, description="`briefing serve` starts one worker process (with the schedule) itself; turn off when "
        "workers run as their own processes (`briefing worker`)."
    )
    time_limit_s: int = Field(1800, ge=10, description="Hard time limit of one task; the worker kills it beyond.")
    soft_time_limit_s: int = Field(1500, ge=5, description="Soft time limit: the task fails cleanly beyond it.")
    visibility_timeout_s: int = Field(
        3600, ge=15, description="Redis: a task not acknowledged this long (its worker died) is delivered again. "
        "Must exceed time_limit_s."
    )
    max_retries: int = Field(3, ge=0, le=20, description="Retries of a task whose LLM backend was unavailable.")
    retry_backoff_s: float = Field(10.0, gt=0, description="First retry delay; it doubles with each retry.")
    tick_s: float = Field(30.0, ge=0.5, description="Seconds between schedule ticks (daily digest, resending).")
    embed_chunk_articles: int = Field(
        200, ge=1, description="A digest run with more articles than this to embed sends them to the workers in "
        "chunks of this many, embedded in parallel; fewer are embedded in the run's own task.",
    )
    resend_after_s: float = Field(
        60.0, ge=1, description="A job still queued this long (its message was lost, e.g. the broker was away) "
        "is sent again; a second copy of a task does nothing."
    )
    heartbeat_s: float = Field(
        5.0, gt=0, description="A running briefing's claimant renews its row this often (on a thread of its own)."
    )
    stale_after_s: float = Field(
        60.0, gt=0, description="A running briefing whose heartbeat is older than this is lost (its worker or API "
        "process died): the schedule sends it again and the next task takes it over. A slow job that is alive "
        "keeps beating and is never resent.",
    )

    @model_validator(mode="after")
    def _limits_in_order(self) -> QueueSettings:
        if not self.soft_time_limit_s < self.time_limit_s < self.visibility_timeout_s:
            raise ValueError("expected soft_time_limit_s < time_limit_s < visibility_timeout_s")
        if not self.heartbeat_s * 3 <= self.stale_after_s:
            raise ValueError("expected heartbeat_s * 3 <= stale_after_s (a missed beat or two is no death)")
        return self


class GroupSettings(BaseModel):
    """Grouping articles into stories, and copies into one independent source."""

    model_config = ConfigDict(extra="forbid")

    topic_threshold: float = Field(
        0.2, ge=0.0, le=1.0, description="Mean similarity that puts articles in one topic, split into stories next."
    )
    story_threshold: float = Field(
        0.37, ge=0.0, le=1.0,
        description="Mean similarity, within a topic, two groups of articles need to be one story."
    )
    entity_weight: float = Field(
        0.67, ge=0.0, le=1.0,
        description="Share of similarity from shared names, numbers and dates (the rest: sentence embeddings).",
    )
    max_days_apart: float = Field(3.0, gt=0, description="Articles published further apart are never one story.")
    copy_shingle_jaccard: float = Field(
        0.5, gt=0.0, le=1.0, description="Shared 5-word runs (Jaccard) that make two articles one source."
    )
    copy_skeleton_jaccard: float = Field(
        0.6, gt=0.0, le=1.0,
        description="Shared ordered pairs of names and numbers (Jaccard) that make two articles one source; "
        "catches spun and lightly rewritten copies.",
    )


class DigestSettings(BaseModel):
    """Daily digests: when they run, what they read, where they are written."""

    model_config = ConfigDict(extra="forbid")

    schedule_enabled: bool = Field(True, description="Request the daily digest from the schedule (Celery beat).")
    time: str = Field(
        "06:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="Local time of the daily run, HH:MM."
    )
    timezone: str = Field("UTC", description="IANA time zone of digest dates and the daily run.")
    catch_up_days: int = Field(7, ge=0, le=366, description="Missed days the schedule runs, at most this many.")
    retry_failed_after_s: float = Field(
        3600.0, ge=0, description="A failed digest of the catch-up window is requested again after this long."
    )
    folder: str | None = Field(None, description="Watched folder of article files read for each digest.")
    feeds: list[str] = Field(
        default_factory=list, description="RSS/Atom feeds (local files or http(s) URLs) read for each digest."
    )
    feed_timeout_s: float = Field(20.0, gt=0, description="Timeout of one feed download, in seconds.")
    output_dir: str = Field("digests", description="Folder the Markdown, HTML, JSON and Atom outputs go to.")
    max_stories: int = Field(20, ge=1, description="Most stories in one digest (highest ranked kept).")
    feed_entries: int = Field(30, ge=1, description="Digests listed in the Atom feed of digests.")
    continues_days: int = Field(
        3, ge=0, le=30, description="Days back whose digests are searched for the story a new one continues "
        "(their articles are grouped with the new ones, as one batch's are); 0: none.",
    )

    @model_validator(mode="after")
    def _known_timezone(self) -> DigestSettings:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{self.timezone}'") from None
        return self


class Settings(BaseSettings):
    """Every setting of the service; nested fields use '__', e.g. BRIEFING_LLM__MODEL."""

    model_config = SettingsConfigDict(
        env_prefix="BRIEFING_", env_nested_delimiter="__", extra="forbid"
    )

    llm: LLMSettings = Field(default_factory=LLMSettings, description="Chat model backend.")
    embedded: EmbeddedSettings = Field(
        default_factory=EmbeddedSettings, description="Embedded llama.cpp server."
    )
    chunk: ChunkSettings = Field(default_factory=ChunkSettings, description="Chunking.")
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings, description="Map-reduce.")
    verify: VerifySettings = Field(default_factory=VerifySettings, description="Verification.")
    fidelity: FidelitySettings = Field(default_factory=FidelitySettings, description="Fidelity checker.")
    api: ApiSettings = Field(default_factory=ApiSettings, description="HTTP API.")
    group: GroupSettings = Field(default_factory=GroupSettings, description="Story grouping.")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="Daily digests.")
    queue: QueueSettings = Field(default_factory=QueueSettings, description="Task queue.")
    pages: PagesSettings = Field(default_factory=PagesSettings, description="Reading pages.")
    api_keys: str = Field(
        "", description="Comma-separated API keys (BRIEFING_API_KEYS); with none, writes are refused."
    )
    database_url: str = Field(
        "sqlite:///briefing.db", description="SQLAlchemy URL (BRIEFING_DATABASE_URL): SQLite or PostgreSQL."
    )
    broker_url: str | None = Field(
        None, description="Celery broker (BRIEFING_BROKER_URL), e.g. redis://host:6379/0; unset: the database "
        "itself is the broker and the result store (zero configuration, one machine)."
    )
    llm_base_url: str | None = Field(
        None, description="Shortcut for llm.base_url (BRIEFING_LLM_BASE_URL)."
    )
    llm_api_key: str | None = Field(None, description="Shortcut for llm.api_key.")
    llm_model: str | None = Field(None, description="Shortcut for llm.model.")
    digest_schedule_enabled: bool | None = Field(
        None, description="Shortcut for digest.schedule_enabled (BRIEFING_DIGEST_SCHEDULE_ENABLED)."
    )

    @model_validator(mode="after")
    def _apply_shortcuts(self) -> Settings:
        # why: the issue names flat BRIEFING_LLM_BASE_URL-style variables; keep both spellings.
        if self.llm_base_url:
            self.llm.base_url = self.llm_base_url
        if self.llm_api_key:
            self.llm.api_key = self.llm_api_key
        if self.llm_model:
            self.llm.model = self.llm_model
        if self.digest_schedule_enabled is not None:
            self.digest.schedule_enabled = self.digest_schedule_enabled
        return self

    @property
    def keys(self) -> set[str]:
        """Return the configured API keys."""
        return {k.strip() for k in self.api_keys.split(",") if k.strip()}

    @property
    def shape(self) -> BriefingShape:
        """The settings that shape what a briefing says (see BriefingShape)."""
        return BriefingShape(
            model=self.llm.model, temperature=self.llm.temperature, seed=self.llm.seed,
            context_tokens=self.embedded.n_ctx, chunk=self.chunk, pipeline=self.pipeline,
            verify=self.verify, fidelity=self.fidelity, group=self.group,
        )

    def fingerprint(self) -> str:
        """Return a short hash of the values of the settings that shape a briefing."""
        return self.shape.fingerprint()

    def with_overrides(self, *, prompts: dict[str, str] | None = None, model: str | None = None) -> Settings:
        """A copy with some prompt versions (per stage) and the model replaced: what a CLI option,
        a request's options and an eval variant change."""
        local = self.model_copy(deep=True)
        if prompts:
            local.pipeline.prompts = {**local.pipeline.prompts, **prompts}
        if model:
            local.llm.model = model
        return local


class BriefingShape(BaseModel):
    """The settings that shape what a briefing says: model and sampling, chunking, prompts and
    caps, verification, the judge, grouping. Their fingerprint stamps every briefing and eval
    result and keys digest resume. Serving settings (URLs, ports, keys, retries, timeouts,
    concurrency, schedules) are not part of it, nor is how a value was spelled."""

    model_config = ConfigDict(frozen=True)

    model: str
    temperature: float
    seed: int | None
    context_tokens: int
    chunk: ChunkSettings
    pipeline: PipelineSettings
    verify: VerifySettings
    fidelity: FidelitySettings
    group: GroupSettings

    def fingerprint(self) -> str:
        """Return a short hash of these values."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def get_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with keyword overrides on top; a bad value raises
    ConfigError naming its variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        field = "BRIEFING_" + "__".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"bad setting {field}: {first['msg']}") from None
