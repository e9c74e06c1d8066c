"""Request limits: body size before it is read whole, article count and length, prompt versions."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.errors import ApiError, error_body
from service.errors import PromptError
from service.prompts import load_prompt_set
from service.requests import ArticleIn, BriefingOptions
from service.settings import ApiSettings


def check_articles(articles: list[ArticleIn], limits: ApiSettings) -> None:
    """422 naming the field when there are too many articles or one is too long."""
    if len(articles) > limits.max_articles:
        raise ApiError(422, "too_many_articles", f"at most {limits.max_articles} articles per request",
                       field="articles")
    for n, article in enumerate(articles):
        if len(article.text) > limits.max_article_chars:
            raise ApiError(422, "article_too_long", f"articles[{n}].text is longer than "
                           f"{limits.max_article_chars} characters", field=f"articles.{n}.text")


def check_options(options: BriefingOptions) -> None:
    """422 naming the field for an unknown prompt stage or version."""
    try:
        load_prompt_set(options.prompts or {})
    except PromptError as err:
        raise ApiError(422, "unknown_prompt", str(err), field="options.prompts") from None


class BodySizeLimit:
    """ASGI middleware: 413 when a body is larger than allowed, judged by Content-Length or as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._reject(send)
            return
        # why: FastAPI turns any error raised while it reads a body into a 400, so the limit is
        # enforced here, chunk by chunk, before the app sees the body (never more than the limit).
        buffered: list[Message] = []
        seen = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                await self._reject(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        import json

        body = json.dumps(error_body("body_too_large", f"request body is larger than {self.max_bytes} bytes"))
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body.encode()})
