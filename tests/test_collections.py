"""Collections: a Reading list that Save fills, any number of ordered collections with notes,
public or private, exported as BibTeX, RIS and CSL-JSON, fed as RSS/Atom, and filled from a .bib."""

import json
from concurrent.futures import ThreadPoolExecutor

import bibtexparser
import feedparser
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dailypapers.collections import services
from dailypapers.collections.models import Collection, CollectionItem
from dailypapers.community.models import Ban
from dailypapers.community.services import Refused
from dailypapers.papers.models import Paper
from dailypapers.papers.services import upsert_papers
from dailypapers.search.services import index_keywords

from .helpers import client_for, make_paper, make_user


@pytest.fixture
def shelf(three_days):
    upsert_papers(records=[make_paper("2603.00006", day=None, upvotes=0, title="Sparse Mixtures of Experts at Scale",
                                      doi="10.1234/MoE.2026", authors=["Grace Hopper"])])
    index_keywords(rebuild=True)
    return make_user("ada"), make_user("bob")


def paper(arxiv_id: str) -> Paper:
    return Paper.objects.get(arxiv_id=arxiv_id)


def ids(collection: Collection) -> list[str]:
    return list(collection.items.order_by("position").values_list("paper__arxiv_id", flat=True))


def test_save_fills_the_reading_list_and_takes_it_back(shelf, client):
    ada, _ = shelf
    ada_client = client_for(ada)
    response = ada_client.post("/papers/2603.00002/save", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Saved" in response.content and b'aria-pressed="true"' in response.content
    reading = Collection.objects.get(owner=ada, is_default=True)
    assert reading.title == "Reading list" and ids(reading) == ["2603.00002"]
    ada_client.post("/papers/2603.00003/save")
    assert ids(reading) == ["2603.00002", "2603.00003"]
    # The list shows which cards are saved, for the signed-in user only.
    page = ada_client.get("/papers/date/2026-03-16").content.decode()
    assert page.count('aria-pressed="true" title="Take off your Reading list"') == 2
    response = ada_client.post("/papers/2603.00002/save", HTTP_HX_REQUEST="true")
    assert b"Save to your Reading list" in response.content and ids(reading) == ["2603.00003"]
    # Anonymous: a link to log in, and a POST goes there too.
    assert 'title="Log in to save papers to a reading list"' in client.get("/papers/date/2026-03-16").content.decode()
    assert client.post("/papers/2603.00002/save").status_code == 302
    assert ada_client.post("/papers/2699.99999/save").status_code == 404


def test_collections_order_notes_and_privacy(shelf, client):
    ada, bob = shelf
    ada_client, bob_client = client_for(ada), client_for(bob)
    response = ada_client.post("/collections/new", {"title": "  Mixture   of experts ", "description": "MoE reading"})
    collection = Collection.objects.get(owner=ada, title="Mixture of experts")
    assert response.status_code == 302 and response["Location"] == f"/collections/{collection.pk}"
    for arxiv_id in ("2603.00006", "https://arxiv.org/abs/2603.00002v2", "hep-th/9901001", "2603.00002"):
        ada_client.post("/collections/add", {"collection": collection.pk, "paper": arxiv_id})
    assert ids(collection) == ["2603.00006", "2603.00002", "hep-th/9901001"]  # each paper once
    ada_client.post(f"/collections/{collection.pk}/papers/hep-th/9901001/up")
    ada_client.post(f"/collections/{collection.pk}/papers/hep-th/9901001/up")
    assert ids(collection) == ["hep-th/9901001", "2603.00006", "2603.00002"]
    ada_client.post(f"/collections/{collection.pk}/papers/2603.00006/down")
    assert ids(collection) == ["hep-th/9901001", "2603.00002", "2603.00006"]
    ada_client.post(f"/collections/{collection.pk}/papers/2603.00006/down")  # already last: nothing moves
    assert ids(collection) == ["hep-th/9901001", "2603.00002", "2603.00006"]
    ada_client.post(f"/collections/{collection.pk}/papers/2603.00006/note", {"note": "Read §3 first"})
    assert CollectionItem.objects.get(collection=collection, paper__arxiv_id="2603.00006").note == "Read §3 first"
    ada_client.post(f"/collections/{collection.pk}/papers/2603.00002/remove")
    assert ids(collection) == ["hep-th/9901001", "2603.00006"]

    # Private: a 404 for everyone but its owner, its exports and feed too.
    url = f"/collections/{collection.pk}"
    assert ada_client.get(url).status_code == 200
    for other in (client, bob_client):
        assert other.get(url).status_code == 404
        assert other.get(url + ".bib").status_code == 404
        assert other.get(f"/feeds/collections/{collection.pk}.rss").status_code == 404
    assert "Mixture of experts" not in client.get("/users/ada/collections").content.decode()
    # Someone else's collection can't be changed, even by guessing its id.
    assert bob_client.post("/collections/add", {"collection": collection.pk, "paper": "2603.00001"}).status_code == 404
    ada_client.post(f"{url}/edit", {"title": "Mixture of experts", "description": "", "is_public": "on"})
    page = bob_client.get(url).content.decode()
    assert "Read §3 first" in page and "Save note" not in page and "Remove" not in page
    response = bob_client.post("/collections/add", {"collection": collection.pk, "paper": "2603.00001"})
    assert response.status_code == 403 and "Only its owner changes a collection." in response.content.decode()
    assert bob_client.post(f"{url}/papers/2603.00006/remove").status_code == 403
    assert ids(collection) == ["hep-th/9901001", "2603.00006"]
    assert "Mixture of experts" in client.get("/users/ada/collections").content.decode()

    feed = feedparser.parse(client.get(f"/feeds/collections/{collection.pk}.atom").content)
    assert feed.feed.title.endswith("Mixture of experts")
    assert [e.link.rsplit("/papers/", 1)[1] for e in feed.entries] == ["hep-th/9901001", "2603.00006"]
    # A change shows in the (cached) feed at once.
    ada_client.post(f"{url}/papers/hep-th/9901001/remove")
    assert len(feedparser.parse(client.get(f"/feeds/collections/{collection.pk}.rss").content).entries) == 1


def test_exports_bibtex_ris_and_csl_json(shelf):
    ada, _ = shelf
    collection = services.create_collection(user=ada, title="Exports")
    services.add_papers(user=ada, collection=collection, papers=[paper("2603.00006"), paper("2603.00002")])
    ada_client = client_for(ada)
    bib = bibtexparser.parse_string(ada_client.get(f"/collections/{collection.pk}.bib").content.decode())
    assert not bib.failed_blocks and [e["eprint"] for e in bib.entries] == ["2603.00006", "2603.00002"]
    assert bib.entries[0]["doi"] == "10.1234/MoE.2026"

    response = ada_client.get(f"/collections/{collection.pk}.ris")
    assert response["Content-Type"].startswith("application/x-research-info-systems")
    records = response.content.decode().split("ER  - \r\n")
    assert len([r for r in records if r.strip()]) == 2
    first = records[0].split("\r\n")
    assert first[0] == "TY  - UNPB" and "AU  - Hopper, Grace" in first and "DO  - 10.1234/MoE.2026" in first
    assert "UR  - https://arxiv.org/abs/2603.00006" in first and "DA  - 2026/03/10" in first
    assert "AU  - Lovelace, Ada" in records[1].split("\r\n")

    items = json.loads(ada_client.get(f"/collections/{collection.pk}.json").content)
    assert [i["number"] for i in items] == ["arXiv:2603.00006", "arXiv:2603.00002"]
    assert items[0]["type"] == "article" and items[0]["author"] == [{"family": "Hopper", "given": "Grace"}]
    assert items[0]["issued"] == {"date-parts": [[2026, 3, 10]]} and items[0]["DOI"] == "10.1234/MoE.2026"
    assert items[0]["id"] == bib.entries[0].key  # one key per paper, whatever the format


BIB = r"""
% exported from somewhere else
@misc{a, title={Top paper with $\alpha$ math}, eprint={2603.00002v3}, archivePrefix={arXiv}}
@article{b, title={Whatever the journal called it}, journal={arXiv preprint arXiv:2603.00003}}
@inproceedings{c, title={Something}, url={https://arxiv.org/abs/hep-th/9901001}}
@article{d, title={Sparse mixtures of experts at scale}, doi={https://doi.org/10.1234/moe.2026}}
@article{e, title={{Sparse} Mixtures of {E}xperts at Scale}}
@misc{f, title={A paper this site never heard of}, eprint={2601.99999}}
@book{g, title={Gödel, Escher, Bach}, author={Hofstadter, Douglas}}
@misc{h, title = {Paper 2603.00005}}
@misc{a, title={A key used twice}, eprint={hep-th/9901001}}
@misc{broken, title={unterminated
"""


def test_import_a_bib_file(shelf):
    ada, _ = shelf
    collection = services.create_collection(user=ada, title="Imported")
    services.add_papers(user=ada, collection=collection, papers=[paper("2603.00003")])
    response = client_for(ada).post(f"/collections/{collection.pk}/import",
                                 {"file": SimpleUploadedFile("refs.bib", BIB.encode())})
    assert response.status_code == 200
    text = " ".join(response.content.decode().split())
    # eprint (versioned), a journal "arXiv:" note, an arXiv URL, a DOI (any case, as a URL), exact titles.
    assert ids(collection) == ["2603.00003", "2603.00002", "hep-th/9901001", "2603.00006", "2603.00005"]
    assert "7 entries matched a paper here: 4 added, 3 already in the collection" in text
    assert "f: A paper this site never heard of (arXiv 2601.99999, not held here)" in text
    assert "g: Gödel, Escher, Bach" in text


@pytest.mark.parametrize("data, reason", [
    (b"", "The submitted file is empty."),
    (b"   \n\n ", "That file is empty or not text"),
    (b"\x00\x01\x02 binary", "That file is empty or not text"),
    (b"just some prose, no entries", "No BibTeX entries found in that file."),
    ("".join(f"@misc{{x{i}, title={{big}}}}\n" for i in range(2_001)).encode(), "import at most 2,000 at a time"),
    (b"@misc{x, title={a}}\n" * 2_001, "import at most 2,000 at a time"),  # repeated keys count too
])
def test_import_refuses_what_is_not_a_bib_file(shelf, data, reason):
    ada, _ = shelf
    collection = services.create_collection(user=ada, title="Imported")
    response = client_for(ada).post(f"/collections/{collection.pk}/import", {"file": SimpleUploadedFile("x.bib", data)})
    assert response.status_code in (400, 403) and reason in response.content.decode()
    assert collection.items.count() == 0


def test_limits_bans_and_the_reading_list_stays(shelf):
    ada, bob = shelf
    reading = services.reading_list(user=ada)
    assert services.reading_list(user=ada) == reading
    with pytest.raises(Refused, match="The Reading list stays"):
        services.delete_collection(user=ada, collection=reading)
    with pytest.raises(Refused, match="Only its owner"):
        services.delete_collection(user=bob, collection=reading)
    Ban.objects.create(user=bob, reason="spam")
    with pytest.raises(Refused, match="banned"):
        services.toggle_saved(user=bob, paper=paper("2603.00002"))
    response = client_for(ada).post("/collections/new", {"title": "   "})
    assert response.status_code == 400 and "Give the collection a title." in response.content.decode()
    assert client_for(ada).get("/collections/99999999999999999999").status_code == 404
    assert client_for(ada).post("/collections/add", {"collection": "x", "paper": "2603.00002"}).status_code == 400


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_make_one_reading_list_and_keep_positions_unique(three_days):
    ada = make_user("ada")
    papers = list(Paper.objects.order_by("arxiv_id")[:5])
    collection = services.create_collection(user=ada, title="Race")

    def add(p):
        from django.db import connection

        try:
            services.reading_list(user=ada)
            services.add_papers(user=ada, collection=collection, papers=[p])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(add, papers * 2))
    assert Collection.objects.filter(owner=ada, is_default=True).count() == 1
    positions = list(collection.items.values_list("position", flat=True))
    assert sorted(ids(collection)) == sorted(p.arxiv_id for p in papers)
    assert len(set(positions)) == len(positions) == 5


@pytest.mark.django_db
def test_a_repeated_string_macro_in_an_import_is_not_taken_for_an_entry():
    # bibtexparser reports the second @string as a duplicate block; it has no fields to match (was a 500).
    matched, unmatched = services.match_entries(text='@string{a = "x"}\n@string{a = "y"}\n@article{k, title={T}}\n')
    assert matched == [] and unmatched == ["k: T"]
