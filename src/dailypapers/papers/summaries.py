"""One-line summaries from a language model, for papers Hugging Face gave none (off by default).

The model is any OpenAI-compatible chat endpoint (a local llama.cpp server, vLLM, Ollama):
DAILYPAPERS_LLM_URL is its base URL (".../v1"), DAILYPAPERS_LLM_MODEL the model's name, which
labels every summary it wrote. Its answers are outside input and are validated here, where they
come in: a summary is one line of plain text of at most MAX_SUMMARY_LENGTH characters, or it is
refused. The worker asks (papers.tasks), at most DAILYPAPERS_LLM_RATE requests a minute, one run
at a time site-wide; a timeout, a refused connection or an error status ends the run (the next
one tries again), a bad answer skips that paper until its text or the model changes. Summaries
are cached per paper by (content hash, model): the same text and model never ask twice.
"""

import hashlib
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.db.models import F, Q

from . import services
from .models import Paper, SummaryCache
from .records import clean_text
from .sources.http import USER_AGENT

logger = logging.getLogger(__name__)

MAX_SUMMARY_LENGTH = 400
MAX_RESPONSE_BYTES = 256 * 1024
# A run asks nothing more past this many seconds: a slow model never holds a worker thread long
# (the worker has two), and the next minute's run goes on.
RUN_SECONDS = 50.0
# Longer abstracts are cut before they are sent (a small local model's context is short).
MAX_ABSTRACT_CHARS = 4000
PROMPT = (
    "Summarise the research paper below in one plain sentence of at most 30 words, for a list of new "
    "papers: what it does and what it finds. Answer with the sentence only."
)


class SummaryError(Exception):
    """The model answered, but with no usable summary (the message says why)."""


class ModelUnavailable(Exception):
    """The model could not be asked (timeout, no connection, an error status): stop for now."""


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str
    api_key: str
    requests_per_minute: float
    timeout: float

    @classmethod
    def configured(cls) -> "Endpoint | None":
        """The endpoint of the settings, or None when summaries are off."""
        if not settings.LLM_URL:
            return None
        return cls(base_url=settings.LLM_URL.rstrip("/"), model=settings.LLM_MODEL, api_key=settings.LLM_API_KEY,
                   requests_per_minute=settings.LLM_RATE_PER_MINUTE, timeout=settings.LLM_TIMEOUT_SECONDS)


def content_hash(title: str, abstract: str) -> str:
    """What a summary is of: the title and the abstract."""
    return hashlib.sha256(f"{title}\n{abstract}".encode()).hexdigest()


_last_request_at = 0.0
_turn_lock = threading.Lock()


def _wait_turn(requests_per_minute: float, *, deadline: float) -> bool:
    """Leave 60 / rate seconds between two requests of this process (runs are one at a time site-wide).
    False, at once, when the next turn comes after the deadline."""
    global _last_request_at
    interval = 60.0 / requests_per_minute if requests_per_minute > 0 else 0.0
    with _turn_lock:
        turn = max(_last_request_at + interval, time.monotonic())
        if turn > deadline:
            return False
        time.sleep(max(turn - time.monotonic(), 0.0))
        _last_request_at = time.monotonic()
        return True


_THINKING = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_LABEL = re.compile(r"^(?:summary|one-line summary|tl;?dr)\s*:\s*", re.IGNORECASE)


def summary_from_response(body: bytes) -> str:
    """The summary in a chat-completions response body, validated; SummaryError says what was wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SummaryError("the answer is not JSON") from None
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise SummaryError("the answer has no choices[0].message.content") from None
    if not isinstance(content, str):
        raise SummaryError("the message content is not text")
    if isinstance(choice, dict) and choice.get("finish_reason") == "length":
        raise SummaryError("the answer was cut off (finish_reason: length)")
    text = clean_text(_THINKING.sub(" ", content))  # reasoning models think aloud first
    text = _LABEL.sub("", text).strip().strip("\"'“”").strip()
    if not text:
        raise SummaryError("the answer is empty")
    if len(text) > MAX_SUMMARY_LENGTH:
        raise SummaryError(f"the answer is longer than {MAX_SUMMARY_LENGTH} characters ({len(text)})")
    return text


def summarize(*, endpoint: Endpoint, title: str, abstract: str, client: httpx.Client) -> str:
    """Ask the model for the paper's one-line summary (now: the caller waits its turn)."""
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    payload = {
        "model": endpoint.model,
        "messages": [
            {"role": "system", "content": PROMPT},
            {"role": "user", "content": f"Title: {title}\n\nAbstract: {abstract[:MAX_ABSTRACT_CHARS]}"},
        ],
        "temperature": 0,
        "max_tokens": 120,
        "stream": False,
    }
    try:
        response = client.post(f"{endpoint.base_url}/chat/completions", json=payload, headers=headers,
                               timeout=endpoint.timeout)
    except httpx.TimeoutException:
        raise ModelUnavailable(f"no answer within {endpoint.timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise ModelUnavailable(f"could not reach {endpoint.base_url}: {exc}") from None
    if response.status_code != 200:
        # 429 and 5xx pass; other statuses (a wrong model name, a missing key) hold for every paper.
        raise ModelUnavailable(f"{endpoint.base_url} answered {response.status_code}")
    if len(response.content) > MAX_RESPONSE_BYTES:
        raise SummaryError(f"the answer is over {MAX_RESPONSE_BYTES} bytes")
    return summary_from_response(response.content)


@dataclass
class SummaryRun:
    written: int = 0  # asked the model, and stored its summary
    from_cache: int = 0
    unchanged: int = 0
    refused: dict[str, str] = field(default_factory=dict)  # arxiv id -> why its answer was not used
    stopped: str = ""  # why the run ended early, if it did

    def __str__(self) -> str:
        line = (f"{self.written} summarised / {self.from_cache} from the cache / {self.unchanged} unchanged / "
                f"{len(self.refused)} bad answers")
        return f"{line}; stopped: {self.stopped}" if self.stopped else line


def papers_needing_summaries(*, model: str):
    """Papers Hugging Face gave no summary whose summary is missing, by another model, or not checked
    since the paper last changed."""
    return Paper.objects.filter(ai_summary="").filter(
        ~Q(llm_summary_model=model) | Q(llm_summary_checked_at__isnull=True)
        | Q(llm_summary_checked_at__lt=F("modified_at"))
    )


def summarize_pending(*, endpoint: Endpoint, limit: int) -> SummaryRun:
    """Summaries for up to `limit` papers that need one, the newest first: from the cache when the
    paper's text and the model are the same as a summary's before, else from the model (at its rate)."""
    run = SummaryRun()
    rows = list(
        papers_needing_summaries(model=endpoint.model).order_by(F("published_at").desc(nulls_last=True), "-pk")
        .values_list("pk", "arxiv_id", "title", "abstract", "llm_summary_model", "llm_summary_hash")[:limit]
    )
    hashes = {pk: content_hash(title, abstract) for pk, _, title, abstract, _, _ in rows}
    cached = {
        (paper_id, text_hash): summary
        for paper_id, text_hash, summary in SummaryCache.objects.filter(
            paper_id__in=list(hashes), model=endpoint.model
        ).values_list("paper_id", "content_hash", "summary")
    }
    unchanged = [pk for pk, _, _, _, model, text_hash in rows if model == endpoint.model and text_hash == hashes[pk]]
    services.mark_summaries_checked(paper_ids=unchanged)
    run.unchanged = len(unchanged)
    deadline = time.monotonic() + RUN_SECONDS
    with httpx.Client(headers={"User-Agent": USER_AGENT}) as client:
        for pk, arxiv_id, title, abstract, _, _ in rows:
            if pk in unchanged:
                continue
            text_hash = hashes[pk]
            if (summary := cached.get((pk, text_hash))) is not None:
                services.set_summary(paper_id=pk, summary=summary, model=endpoint.model, content_hash=text_hash)
                run.from_cache += 1
                continue
            if not _wait_turn(endpoint.requests_per_minute, deadline=deadline):
                run.stopped = f"the run's {RUN_SECONDS:g} s are up"
                break
            try:
                summary = summarize(endpoint=endpoint, title=title, abstract=abstract, client=client)
            except ModelUnavailable as exc:
                run.stopped = str(exc)
                logger.warning("summaries: %s; the next run tries again", exc)
                break
            except SummaryError as exc:
                run.refused[arxiv_id] = str(exc)
                logger.warning("summary of %s refused: %s", arxiv_id, exc)
                services.set_no_summary(paper_id=pk, model=endpoint.model, content_hash=text_hash)
                continue
            services.set_summary(paper_id=pk, summary=summary, model=endpoint.model, content_hash=text_hash)
            run.written += 1
    return run
