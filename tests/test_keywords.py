"""Keywords and one-line summaries for every paper (issue 13 item 6): Hugging Face's kept, the rest
extracted with the real embedder by the worker's task; LLM summaries from a fake OpenAI-compatible
server on loopback (a small http.server speaking /v1/chat/completions)."""

import gzip
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from dailypapers.papers import summaries
from dailypapers.papers import tasks as papers_tasks
from dailypapers.papers.models import Paper, SummaryCache
from dailypapers.papers.records import PaperRecord, clean_text
from dailypapers.papers.services import mark_changed, upsert_papers
from dailypapers.papers.sources import hf_daily
from dailypapers.papers.templatetags.cards import CARD_KEYWORDS
from dailypapers.search import keywords, services
from dailypapers.search import tasks as search_tasks
from dailypapers.search.embedders import MiniLMInt8, get_embedder, paper_text
from tests.helpers import load_papers

FIXTURES = Path(__file__).parent / "fixtures"
MODEL = MiniLMInt8.model_id


def _real_abstracts(count: int) -> list[tuple[str, str]]:
    """Title and abstract of real arXiv cs papers (the recorded jsonl fixture)."""
    with gzip.open(FIXTURES / "jsonl" / "arxiv_cs_daily_200.jsonl.gz", "rt") as lines:
        rows = [json.loads(line) for line in itertools.islice(lines, count)]
    return [(clean_text(r["title"]), clean_text(r.get("abstract") or r.get("summary") or "")) for r in rows]


def _extract(papers: list[tuple[str, str]]) -> list[list[str]]:
    embedder = get_embedder()
    vectors = embedder.embed([paper_text(t, a) for t, a in papers])
    return keywords.extract(papers=[(t, a, v) for (t, a), v in zip(papers, vectors)], embedder=embedder)


def _words(text: str) -> str:
    return " ".join(text.lower().split())


# --- extraction -----------------------------------------------------------------------------------------

def test_extraction_is_deterministic_diverse_and_takes_phrases_from_the_text():
    papers = _real_abstracts(4)
    first, again = _extract(papers), _extract(list(reversed(papers)))[::-1]
    assert first == again  # the same keywords in the same order, whatever the batch holds
    for (title, abstract), found in zip(papers, first):
        assert len(found) == keywords.KEYWORDS_PER_PAPER, found
        text = _words(f"{title} {abstract}")
        for phrase in found:
            assert _words(phrase) in text, (phrase, title)  # a phrase of the text, not made up
            assert 1 <= len(phrase.split()) <= keywords.MAX_WORDS
            edges = {phrase.split()[0].lower(), phrase.split()[-1].lower()}
            assert not edges & keywords._STOPWORDS, phrase
        word_sets = [set(p.lower().split()) for p in found]
        assert not any(a <= b for a, b in itertools.permutations(word_sets, 2)), found  # none inside another
        assert len({p.lower() for p in found}) == len(found)


def test_mmr_keeps_keywords_apart_where_plain_similarity_would_repeat_itself():
    embedder = get_embedder()
    (title, abstract), = _real_abstracts(1)
    cands = keywords.candidates(title, abstract)
    vectors = embedder.embed([c.phrase for c in cands])
    paper = embedder.embed([paper_text(title, abstract)])[0]
    picked = keywords.pick(paper_vector=paper, phrases=cands, phrase_vectors=vectors)
    top = [cands[i].phrase for i in np.argsort(-(vectors @ paper), kind="stable")[:len(picked)]]
    row = {c.phrase: vectors[i] for i, c in enumerate(cands)}

    def mean_pairwise(phrases):
        m = np.vstack([row[p] for p in phrases])
        sims = m @ m.T
        return float(sims[np.triu_indices(len(phrases), 1)].mean())

    assert mean_pairwise(picked) < mean_pairwise(top)  # more varied than the most similar few
    assert picked[0] == top[0]  # and the best phrase first


def test_candidates_are_noun_ish_phrases_split_at_punctuation_and_stopwords():
    found = {c.key for c in keywords.candidates(
        "Sparse Autoencoders for GPT-4",
        "We propose a simple method. It significantly improves retrieval-augmented generation, and "
        "the trained model is released; see $x^2$ results.")}
    assert {"sparse autoencoders", "gpt-4", "retrieval-augmented generation"} <= found
    assert not found & {"we", "propose", "significantly", "simple method", "trained", "model is released", "released"}
    assert not any("method it" in k or "generation and" in k or "x^2" in k for k in found)
    # "Multi-Turn" as a title writes it is lowered; acronyms and names stay as written.
    shown = {c.phrase for c in keywords.candidates("Multi-Turn Dialogue with LLMs and ConvLLaVA", "")}
    assert {"multi-turn dialogue", "LLMs", "ConvLLaVA"} <= shown


# --- the worker's task, and Hugging Face's keywords ------------------------------------------------------

def _ingest_hf(day: str) -> None:
    upsert_papers(records=hf_daily.read_files(paths=[FIXTURES / "hf" / f"{day}.json"]))


@pytest.mark.django_db
def test_the_task_fills_missing_keywords_keeps_hugging_faces_and_is_idempotent():
    _ingest_hf("2026-08-21")  # 16 of 17 with Hugging Face's keywords
    load_papers()  # 6 without, all embedded
    hf = {p.arxiv_id: p.ai_keywords for p in Paper.objects.exclude(ai_keywords=[])}
    assert len(hf) == 16
    services.embed_pending()
    missing = Paper.objects.filter(ai_keywords=[]).count()
    assert missing == 7

    assert search_tasks.extract_new_keywords.call_local() == missing
    for paper in Paper.objects.all():
        if paper.arxiv_id in hf:
            assert paper.ai_keywords == hf[paper.arxiv_id] and paper.extracted_keywords == []
            assert paper.keywords == hf[paper.arxiv_id] and paper.keywords_from == "huggingface"
        else:
            assert paper.extracted_keywords and paper.keywords_model == MODEL
            assert paper.keywords_from == "extracted"
    before = dict(Paper.objects.values_list("arxiv_id", "extracted_keywords"))
    modified = dict(Paper.objects.values_list("arxiv_id", "modified_at"))

    assert search_tasks.extract_new_keywords.call_local() == 0  # nothing twice
    assert dict(Paper.objects.values_list("arxiv_id", "extracted_keywords")) == before
    # Keywords are not searched: storing them did not mark papers for re-indexing or re-embedding.
    assert dict(Paper.objects.values_list("arxiv_id", "modified_at")) == modified

    # A new version's text: embedded again, then its keywords again (only that paper's).
    upsert_papers(records=[PaperRecord(
        arxiv_id="2601.00003", version=2, title="Denoising Diffusion Probabilistic Models",
        abstract="Score matching with Langevin dynamics for audio waveforms.")])
    assert search_tasks.embed_new_papers.call_local() == 1  # which enqueues the keywords (run inline here)
    changed = Paper.objects.get(arxiv_id="2601.00003")
    assert changed.extracted_keywords != before["2601.00003"]
    assert any("langevin" in k.lower() or "audio" in k.lower() for k in changed.extracted_keywords)
    assert search_tasks.extract_new_keywords.call_local() == 0


@pytest.mark.django_db
def test_keywords_and_their_method_on_pages_cards_apis_and_markdown(client):
    _ingest_hf("2026-08-21")
    load_papers()
    search_tasks.extract_new_keywords.call_local()
    hf_paper = Paper.objects.exclude(ai_keywords=[]).first()
    ours = Paper.objects.get(arxiv_id="2601.00001")
    assert hf_paper and ours.extracted_keywords

    page = client.get(f"/papers/{hf_paper.arxiv_id}").content.decode()
    assert "keywords: from Hugging Face" in page and hf_paper.ai_keywords[0] in page
    assert "summary: from Hugging Face" in page
    page = client.get("/papers/2601.00001").content.decode()
    assert f"keywords: extracted by {MODEL}" in page
    assert all(f'<span class="chip">{k}</span>' in page for k in ours.extracted_keywords)
    card = client.get("/papers/date/2026-01-05").content.decode()  # 2601.00001's day
    assert f"keywords: extracted by {MODEL}" in card and ours.extracted_keywords[0] in card
    day = client.get("/papers/date/2026-08-21").content.decode()
    assert "keywords: from Hugging Face" in day
    many = max(Paper.objects.exclude(ai_keywords=[]), key=lambda p: len(p.ai_keywords))
    assert len(many.ai_keywords) > CARD_KEYWORDS  # a card shows the first few, the paper's page all
    card_html = day.split(f'data-arxiv-id="{many.arxiv_id}"')[1].split("</article>")[0]
    assert card_html.count('class="chip"') == CARD_KEYWORDS
    page = client.get(f"/papers/{many.arxiv_id}").content.decode()
    assert all(f'<span class="chip">{k}</span>' in page for k in many.ai_keywords)

    markdown = client.get("/papers/2601.00001.md").content.decode()
    assert "## Keywords" in markdown and ", ".join(ours.extracted_keywords) in markdown
    assert f"(keywords: extracted by {MODEL})" in markdown

    # The Hugging Face API: the keywords in its own key, whoever made them, as Hugging Face shapes them.
    assert client.get("/api/papers/2601.00001").json()["ai_keywords"] == ours.extracted_keywords
    assert client.get(f"/api/papers/{hf_paper.arxiv_id}").json()["ai_keywords"] == hf_paper.ai_keywords
    # The native API names the method, and its schema documents it.
    native = client.get("/api/v1/papers/2601.00001").json()
    assert native["keywords"] == ours.extracted_keywords
    assert (native["keywords_from"], native["keywords_model"], native["ai_keywords"]) == ("extracted", MODEL, [])
    native = client.get(f"/api/v1/papers/{hf_paper.arxiv_id}").json()
    assert (native["keywords_from"], native["keywords_model"]) == ("huggingface", None)
    assert native["summary_from"] == "huggingface" and native["summary"] == hf_paper.ai_summary
    schema = client.get("/api/openapi.json").json()["components"]["schemas"]["PaperOut"]["properties"]
    assert {"keywords", "keywords_from", "keywords_model", "summary", "summary_from", "summary_model"} <= set(schema)


# --- LLM summaries, against a fake OpenAI-compatible server on loopback ---------------------------------

class FakeLLM(ThreadingHTTPServer):
    """POST /v1/chat/completions. `mode` says how to answer; every request is recorded."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mode = "ok"
        self.requests: list[dict] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeLLM

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "body": body, "at": time.monotonic(),
                                     "auth": self.headers.get("Authorization")})
        mode = self.server.mode
        if self.path != "/v1/chat/completions":
            return self._send(404, b'{"error": "not found"}')
        if mode == "slow":
            time.sleep(1.5)
        if mode == "429":
            return self._send(429, b'{"error": {"message": "rate limit"}}')
        if mode == "malformed":
            return self._send(200, b'{"choices": [{"message": {"content": "half')
        title = body["messages"][1]["content"].split("\n")[0].removeprefix("Title: ")
        content = f"<think>hmm</think>Summary: {title} in one line." if mode == "ok" else mode
        answer = {"id": "x", "object": "chat.completion", "model": body["model"],
                  "choices": [{"index": 0, "finish_reason": "stop",
                               "message": {"role": "assistant", "content": content}}]}
        self._send(200, json.dumps(answer).encode())

    def _send(self, status: int, payload: bytes):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (the timeout test)
            pass


@pytest.fixture
def llm(settings):
    server = FakeLLM()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.LLM_URL = server.url
    settings.LLM_MODEL = "tiny-llama-test"
    settings.LLM_API_KEY = "sk-local"
    settings.LLM_RATE_PER_MINUTE = 60_000
    settings.LLM_TIMEOUT_SECONDS = 0.5
    settings.LLM_PAPERS_PER_RUN = 50
    yield server
    server.shutdown()
    server.server_close()


def _summaries() -> dict[str, tuple[str, str]]:
    return {a: (s, m) for a, s, m in Paper.objects.filter(ai_summary="").values_list(
        "arxiv_id", "llm_summary", "llm_summary_model")}


@pytest.mark.django_db
def test_summaries_are_off_by_default(settings):
    load_papers(embed=False)
    settings.LLM_URL = ""
    assert papers_tasks.summarize_new_papers.call_local().startswith("off")
    assert not any(s for s, _ in _summaries().values())


@pytest.mark.django_db
def test_llm_summaries_for_papers_without_one_labelled_with_the_model(llm, client):
    _ingest_hf("2026-08-21")  # 16 with Hugging Face's summary: never asked
    load_papers(embed=False)
    result = papers_tasks.summarize_new_papers.call_local()
    assert result.startswith("7 summarised"), result
    assert len(llm.requests) == 7
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-local"
    assert request["body"]["model"] == "tiny-llama-test" and request["body"]["messages"][0]["role"] == "system"
    paper = Paper.objects.get(arxiv_id="2601.00003")
    # The thinking and the "Summary:" label are taken off; one line of plain text is stored.
    assert paper.llm_summary == "Denoising Diffusion Probabilistic Models in one line."
    assert paper.summary_from == "llm" and paper.summary_label == "summary: generated by tiny-llama-test"
    assert SummaryCache.objects.count() == 7

    page = client.get("/papers/2601.00003").content.decode()
    assert "Denoising Diffusion Probabilistic Models in one line." in page
    assert "summary: generated by tiny-llama-test" in page
    assert client.get("/api/papers/2601.00003").json()["ai_summary"] == paper.llm_summary
    native = client.get("/api/v1/papers/2601.00003").json()
    assert (native["summary"], native["summary_from"], native["summary_model"], native["ai_summary"]) == (
        paper.llm_summary, "llm", "tiny-llama-test", None)
    assert "(summary: generated by tiny-llama-test)" in client.get("/papers/2601.00003.md").content.decode()

    assert papers_tasks.summarize_new_papers.call_local().startswith("0 summarised")
    assert len(llm.requests) == 7  # nothing asked twice


@pytest.mark.django_db
def test_a_timeout_ends_the_run_and_writes_nothing(llm):
    load_papers(embed=False)
    llm.mode = "slow"
    started = time.monotonic()
    result = papers_tasks.summarize_new_papers.call_local()  # never raises
    assert "stopped: no answer within 0.5 s" in result and time.monotonic() - started < 1.5
    assert len(llm.requests) == 1  # the first timeout ends the run: the server is not asked six times
    assert not any(s for s, _ in _summaries().values()) and not SummaryCache.objects.exists()
    llm.mode = "ok"
    assert papers_tasks.summarize_new_papers.call_local().startswith("6 summarised")


@pytest.mark.django_db
def test_a_malformed_answer_is_refused_for_that_paper_only(llm):
    load_papers(embed=False)
    llm.mode = "malformed"
    result = papers_tasks.summarize_new_papers.call_local()
    assert "6 bad answers" in result and len(llm.requests) == 6
    assert not any(s for s, _ in _summaries().values()) and not SummaryCache.objects.exists()
    llm.mode = "ok"
    assert papers_tasks.summarize_new_papers.call_local().startswith("0 summarised")  # not asked again…
    mark_changed(paper_ids=[Paper.objects.get(arxiv_id="2601.00001").pk])
    assert papers_tasks.summarize_new_papers.call_local().startswith("0 summarised")  # …while its text is the same
    upsert_papers(records=[PaperRecord(arxiv_id="2601.00001", version=2, title="Attention Is All You Need",
                                       abstract="A new abstract.")])
    assert papers_tasks.summarize_new_papers.call_local().startswith("1 summarised")  # a new text is asked


@pytest.mark.parametrize(("body", "why"), [
    (b"<html>busy</html>", "not JSON"),
    (b'{"choices": []}', "no choices"),
    (b'{"choices": [{"message": {"content": null}}]}', "not text"),
    (b'{"choices": [{"message": {"content": "  <think>only thinking</think> "}}]}', "empty"),
    (json.dumps({"choices": [{"message": {"content": "word " * 200}}]}).encode(), "longer than"),
    (b'{"choices": [{"finish_reason": "length", "message": {"content": "A paper that"}}]}', "cut off"),
])
def test_answers_are_validated_where_they_come_in(body, why):
    with pytest.raises(summaries.SummaryError, match=why):
        summaries.summary_from_response(body)
    good = b'{"choices": [{"message": {"content": "\\"A model\\n  that\\u0007 reads.\\""}}]}'
    assert summaries.summary_from_response(good) == "A model that reads."


@pytest.mark.django_db
def test_the_rate_limit_spaces_requests_and_a_429_is_waited_out(llm, settings):
    load_papers(embed=False)
    llm.mode = "429"
    assert "stopped:" in papers_tasks.summarize_new_papers.call_local() and len(llm.requests) == 1
    assert not any(s for s, _ in _summaries().values())

    llm.mode, llm.requests = "ok", []
    settings.LLM_RATE_PER_MINUTE = 120  # one request every 0.5 s
    settings.LLM_PAPERS_PER_RUN = 3
    assert papers_tasks.summarize_new_papers.call_local().startswith("3 summarised")
    gaps = [b["at"] - a["at"] for a, b in itertools.pairwise(llm.requests)]
    assert len(gaps) == 2 and min(gaps) >= 0.45, gaps
    done = {a for a, (summary, _) in _summaries().items() if summary}
    assert done == {"2601.00006", "2601.00005", "2601.00004"}  # the newest papers first


@pytest.mark.django_db
def test_a_run_asks_nothing_more_once_its_time_is_up(llm, settings, monkeypatch):
    load_papers(embed=False)
    settings.LLM_RATE_PER_MINUTE = 120  # 0.5 s between requests
    monkeypatch.setattr(summaries, "RUN_SECONDS", 0.3)
    assert papers_tasks.summarize_new_papers.call_local().startswith("1 summarised")
    assert len(llm.requests) == 1


@pytest.mark.django_db
def test_the_cache_answers_for_the_same_text_and_model(llm, settings):
    load_papers(embed=False)
    papers_tasks.summarize_new_papers.call_local()
    first = _summaries()
    assert len(llm.requests) == 6
    settings.LLM_MODEL = "other-model"  # another model: asked again, labelled with its own name
    assert papers_tasks.summarize_new_papers.call_local().startswith("6 summarised")
    assert {m for _, m in _summaries().values()} == {"other-model"} and len(llm.requests) == 12
    settings.LLM_MODEL = "tiny-llama-test"  # back: every summary from the cache, nothing asked
    assert papers_tasks.summarize_new_papers.call_local().startswith("0 summarised / 6 from the cache")
    assert _summaries() == first and len(llm.requests) == 12
