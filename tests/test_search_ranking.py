"""What the query is decides the ranking: names, authors, titles, typos, nonsense (real embedder and indexes)."""

from datetime import datetime, timezone

import pytest

from dailypapers.papers.models import Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.search import selectors, services
from dailypapers.search.keyword import TEXT_FIELDS, Analysis, Filters, Term
from dailypapers.search.models import PaperVector
from dailypapers.search.query import parse_query

from .helpers import ids, load, search

pytestmark = pytest.mark.django_db

# Papers about attention and softmax: semantic neighbours of "Entmax" and of each other.
TOPICS = [
    ("Sparse Attention with Softmax Temperature", "We study softmax temperature for sparse attention in transformers."),
    ("Normalising Attention Weights",
     "Attention weights are normalised with a softmax over the keys of a transformer."),
    ("Sparsemax for Multi-Label Classification", "Sparsemax is a sparse alternative to the softmax activation."),
    ("Activation Functions for Attention",
     "A comparison of activation functions that map scores to attention probabilities."),
    ("Learning Sparse Transformers",
     "Transformers whose attention heads select a few tokens with sparse normalisation."),
    ("Probability Mappings in Neural Networks", "Mapping logits to probabilities: softmax, sparsemax and relatives."),
]


def record(arxiv_id: str, title: str, abstract: str, authors: list[str], day: int) -> PaperRecord:
    return PaperRecord(arxiv_id=arxiv_id, title=title, abstract=abstract, authors=authors,
                       published_at=datetime(2026, 1, day, tzinfo=timezone.utc))


def corpus() -> list[PaperRecord]:
    records = [record(f"2602.{i:05d}", t, a, ["Grace Hopper", "Xu Chen"], 1 + i) for i, (t, a) in enumerate(TOPICS, 1)]
    records += [
        record("2602.00101", "Adaptively Sparse Transformers with Entmax",
               "We replace softmax attention with a learnt sparse mapping.", ["Goncalo Correia"], 3),
        # Nearer to "Entmax" in meaning than the paper that holds the word.
        record("2602.00102", "Entmaxx Operators", "The entmaxx operator maps scores to sparse probabilities.",
               ["Grace Hopper"], 2),
        # One author, three unrelated topics; other authors share his given name or his family name.
        record("2602.00201", "Protein Folding with Graph Networks", "Graphs of residues predict structures.",
               ["Yinghao Xu", "Ada Lovelace"], 4),
        record("2602.00202", "Weather Forecasting at Kilometre Scale", "A regional model of rainfall.",
               ["Yinghao Xu"], 20),
        record("2602.00203", "Sparse Softmax Attention for Speech", "Sparse attention for speech recognition.",
               ["Li Wei", "Yinghao Xu"], 12),
        record("2602.00204", "Attention Heads of Yinghao Li", "Sparse attention in transformers, as Yinghao Li does.",
               ["Yinghao Li", "Xu Chen"], 25),
        record("2602.00301", "Bayesian Optimisation of Hyperparameters", "Gaussian processes tune learning rates.",
               ["Ada Lovelace"], 8),
    ]
    return records


@pytest.fixture
def papers(db):
    load(corpus())


def test_a_name_in_a_single_title_is_the_first_hit(papers):
    results = search("Entmax")
    assert ids(results)[0] == "2602.00101"
    assert results.matched[results.cards[0].paper.pk] == ["title"]


def test_an_author_name_puts_that_authors_papers_first_newest_first(papers):
    results = search("Yinghao Xu")
    assert ids(results)[:3] == ["2602.00202", "2602.00203", "2602.00201"]
    assert [a.name for a in results.authors] == ["Yinghao Xu"]
    assert results.matched[results.cards[0].paper.pk] == ["authors"]


def test_author_filter_in_the_query(papers):
    results = search('networks author:"Ada Lovelace"')
    assert ids(results)[0] == "2602.00201" and set(ids(results)) <= {"2602.00201", "2602.00301"}
    assert [a.name for a in results.authors] == ["Ada Lovelace"]
    # The filter alone lists the author's papers, newest first.
    assert ids(search('author:"ada  lovelace"')) == ["2602.00301", "2602.00201"]
    assert parse_query('author:Lovelace graphs') == selectors.parse_query('graphs author:"Lovelace"')


def test_a_misspelt_name_is_corrected(papers):
    results = search("Entmxa")
    assert ids(results)[0] == "2602.00101"
    assert results.corrected == "entmax" and results.suggestion == "entmax"
    assert ids(search("Sparsemaks"))[:2] == ["2602.00003", "2602.00006"]
    # A word that matched is never "corrected".
    assert search("Sparsemax").corrected == "" and search("Sparsemax").suggestion == ""


def test_results_for_a_correction_are_those_of_the_corrected_query(db):
    # "transfomer" is 1 edit from "transformer" and 2 from "transfer": both within the fuzzy distance of a
    # 10-letter word, so the fuzzy ranking holds the transfer papers too; the corrected one must not.
    load([
        record("2603.00001", "Style Transfer for Speech", "We transfer the style of one voice to another.", ["A B"], 1),
        record("2603.00002", "Transfer of Learning Rates", "Rates transfer across model sizes.", ["C D"], 2),
        record("2603.00003", "Sparse Transformer Heads", "A transformer whose heads attend sparsely.", ["E F"], 3),
        record("2603.00004", "Transformer Language Models", "Language models built from transformer blocks.",
               ["G H"], 4),
    ])
    results = search("Transfomer")
    assert results.corrected == "transformer"
    assert ids(results) == ids(search("transformer"))
    assert set(ids(results)[:2]) == {"2603.00003", "2603.00004"}


@pytest.mark.parametrize("query", ['"((:', "x", "qzvxkwpjl", "xkqzv pwmrt blorf", "强化学习", "Трансформеры"])
def test_nonsense_returns_nothing(papers, query):
    results = search(query)
    assert results.total == 0 and results.cards == []


def test_the_semantic_floor_decides_what_meaning_alone_returns(papers, settings):
    # No word of the query is indexed: only its meaning can match, and only above the floor.
    settings.SEARCH_SEMANTIC_FLOOR = 0.05
    assert search("qzvxkwpjl").total > 0
    settings.SEARCH_SEMANTIC_FLOOR = 0.99
    assert search("qzvxkwpjl").total == 0


def test_a_paper_without_a_vector_is_first_for_its_exact_title(db):
    title = "Sparse Attention for Long Documents"
    crowd = [record(f"2603.{i:05d}", f"Sparse Attention for Long Documents, part {i}" if i % 2 else
                    f"Long documents and sparse attention {i}", "Sparse attention over long documents.", ["A B"],
                    1 + i % 27)
             for i in range(1, 51)]
    load(crowd)
    load([record("2603.00999", title, "Efficient transformers for books.", ["C D"], 28)], embed=False)
    newcomer = Paper.objects.get(arxiv_id="2603.00999")
    assert not PaperVector.objects.filter(paper=newcomer).exists()
    assert ids(search(title))[0] == "2603.00999"
    assert ids(search(title.lower() + "!"))[0] == "2603.00999"


def test_papers_without_a_vector_keep_their_keyword_score(db):
    load(corpus())
    load([record("2602.00900", "Entmax Attention for Translation", "Sparse attention for translation.", ["E F"], 28)],
         embed=False)
    results = search("entmax attention")
    # The unembedded paper matches both words in its title: first, ahead of the embedded entmax paper.
    assert ids(results)[:2] == ["2602.00900", "2602.00101"]
    services.embed_pending()  # and once embedded it takes part in hybrid ranking like any other
    assert PaperVector.objects.filter(paper__arxiv_id="2602.00900").exists()
    assert ids(search("entmax attention"))[:2] == ["2602.00900", "2602.00101"]


def test_rare_words_put_every_paper_holding_them_first(papers):
    results = search("sparsemax")
    assert set(ids(results)[:2]) == {"2602.00003", "2602.00006"}
    assert all(selectors.rank(query="sparsemax", filters=Filters()).ids)


def test_semantic_only_results_are_marked_as_meaning(papers):
    results = search("Entmax")
    rest = [c.paper.pk for c in results.cards[1:]]
    assert rest and all(results.matched[pk] == ["meaning"] for pk in rest)


def test_bm25_leaves_out_words_most_papers_hold_unless_the_query_has_no_other():
    """Their idf is below ln 2, and a top-k search cannot skip them (at 1M, short queries' BM25 took twice as
    long with them); a long query, a sentence, is not looked for among the authors."""
    common, rare, commoner = Term("of", "of", 600), Term("entmax", "entmax", 3), Term("the", "the", 990)
    short = Analysis(terms=[common, rare, commoner], phrases=[], sequence=[common, rare, commoner], num_docs=1000)
    assert short.scored() == ([rare], TEXT_FIELDS)
    only_common = Analysis(terms=[common, commoner], phrases=[], sequence=[common, commoner], num_docs=1000)
    assert only_common.scored() == ([common, commoner], TEXT_FIELDS)
    words = [Term(f"w{i}", f"w{i}", 10 + i) for i in range(7)]
    assert Analysis(terms=words, phrases=[], sequence=words, num_docs=1000).scored() == (words, ("title", "abstract"))
