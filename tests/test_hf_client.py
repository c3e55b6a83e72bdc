"""The official huggingface_hub client, unchanged, against a live dailypapers server."""

import pytest
from huggingface_hub import HfApi

from .helpers import load_papers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(live_server):
    load_papers()
    return HfApi(endpoint=live_server.url, token=False)


def test_list_papers_searches(api):
    papers = list(api.list_papers(query="diffusion image synthesis", limit=3))
    assert len(papers) == 3
    top = papers[0]
    assert top.id == "2601.00003"
    assert top.title == "Denoising Diffusion Probabilistic Models"
    assert [a.name for a in top.authors] == ["Jonathan Ho"]
    assert top.published_at.year == 2026 and top.upvotes == 80
    assert top.summary.startswith("High quality image synthesis")


def test_list_papers_by_arxiv_id(api):
    assert [p.id for p in api.list_papers(query="2601.00006")] == ["2601.00006"]
