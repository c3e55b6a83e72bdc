"""Authorship claims are per authorship (a place in one paper's author list), not per Author: authors
of the same name are one Author row ("Yang Liu" twice on one paper, sixteen papers under the name),
so a claim on the name would claim them all (issue 12 item 7)."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from dailypapers.community import selectors, services
from dailypapers.community.models import AuthorshipClaim
from dailypapers.errors import Refused
from dailypapers.papers.models import Author, Authorship, Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.papers.services import upsert_papers

from .helpers import client_for, make_user

SHARED = "Yang Liu"


@pytest.fixture
def same_names(db):
    """2603.07980 has two authors named Yang Liu (positions 0 and 2); two more papers have one each."""
    upsert_papers(records=[
        PaperRecord(arxiv_id="2603.07980", title="Two of a name", authors=[SHARED, "Mei Chen", SHARED]),
        PaperRecord(arxiv_id="2603.07981", title="Another Yang Liu", authors=["Ravi Rao", SHARED]),
        PaperRecord(arxiv_id="2603.07982", title="A third", authors=[SHARED]),
    ])
    return Paper.objects.get(arxiv_id="2603.07980")


def _authorship(arxiv_id: str, position: int) -> Authorship:
    return Authorship.objects.select_related("author", "paper").get(paper__arxiv_id=arxiv_id, position=position)


def _author_items(html: str) -> list[str]:
    """The author list's items, in order."""
    author_list = re.search(r'<ul class="author-list">(.*?)</ul>', html, re.S)
    assert author_list, "no author list on the page"
    return re.findall(r"<li>(.*?)</li>", author_list.group(1), re.S)


def _approve(claim: AuthorshipClaim) -> None:
    moderator = get_user_model().objects.filter(username="mod").first() or make_user("mod", staff=True)
    services.decide_claim(claim=claim, moderator=moderator, approve=True)


def test_claiming_one_of_two_same_name_authors_leaves_the_other_claimable(same_names):
    first, second = _authorship("2603.07980", 0), _authorship("2603.07980", 2)
    assert first.author_id == second.author_id  # one Author row for both
    yang, other = make_user("yang"), make_user("liu")
    assert client_for(yang).post(f"/papers/2603.07980/claim/{first.pk}").status_code == 302

    # The claimant sees their pending claim on that authorship only, and no more "claim" (one per paper).
    items = _author_items(client_for(yang).get("/papers/2603.07980").content.decode())
    assert "claim pending" in items[0] and "claim pending" not in items[2]
    assert not any('class="inline claim"' in item for item in items)
    # Another user may still claim either of them: a pending claim decides nothing yet.
    items = _author_items(client_for(other).get("/papers/2603.07980").content.decode())
    assert all('class="inline claim"' in item for item in items)

    _approve(AuthorshipClaim.objects.get(user=yang))
    html = Client().get("/papers/2603.07980").content.decode()
    items = _author_items(html)
    assert 'href="/users/yang"' in items[0]
    assert "/users/yang" not in items[1] and "/users/yang" not in items[2]
    items = _author_items(client_for(other).get("/papers/2603.07980").content.decode())
    assert 'class="inline claim"' not in items[0] and 'class="inline claim"' in items[2]
    assert f"/claim/{second.pk}" in items[2]

    # The other Yang Liu claims the second place; approved, each link sits on its own authorship.
    assert client_for(other).post(f"/papers/2603.07980/claim/{second.pk}").status_code == 302
    _approve(AuthorshipClaim.objects.get(user=other))
    items = _author_items(Client().get("/papers/2603.07980").content.decode())
    assert 'href="/users/yang"' in items[0] and "/users/liu" not in items[0]
    assert 'href="/users/liu"' in items[2] and "/users/yang" not in items[2]
    claimed = selectors.claimed_authorships(paper_ids=[same_names.pk])
    assert {(c.position, c.user.username) for c in claimed.values()} == {(0, "yang"), (2, "liu")}


def test_an_approved_authorship_is_not_claimed_again(same_names):
    first = _authorship("2603.07980", 0)
    _approve(services.claim_authorship(user=make_user("yang"), authorship=first))
    late = make_user("late")
    with pytest.raises(Refused, match="claimed by another user"):
        services.claim_authorship(user=late, authorship=first)
    assert client_for(late).post(f"/papers/2603.07980/claim/{first.pk}").status_code == 403
    # One claim per user and paper, whatever its status.
    services.claim_authorship(user=late, authorship=_authorship("2603.07980", 1))
    with pytest.raises(Refused, match="already"):
        services.claim_authorship(user=late, authorship=_authorship("2603.07980", 2))


def test_a_claim_names_an_authorship_of_that_paper(same_names):
    elsewhere = _authorship("2603.07981", 1)
    assert client_for(make_user("yang")).post(f"/papers/2603.07980/claim/{elsewhere.pk}").status_code == 404
    assert client_for(make_user("liu")).post("/papers/2603.07980/claim/99999999999999999").status_code == 404
    assert not AuthorshipClaim.objects.exists()


def test_the_shared_author_page_and_the_other_papers_are_not_claimed_by_one_claim(same_names):
    yang = make_user("yang")
    _approve(services.claim_authorship(user=yang, authorship=_authorship("2603.07981", 1)))
    author = Author.objects.get(name=SHARED)
    page = Client().get(f"/authors/{author.pk}").content.decode()
    assert "3 papers" in page  # the page by name stays: every paper of the name
    assert "/users/yang" not in page  # and claims no paper for anyone

    for arxiv_id, claimed_at in (("2603.07980", None), ("2603.07981", 1), ("2603.07982", None)):
        items = _author_items(Client().get(f"/papers/{arxiv_id}").content.decode())
        assert [i for i, item in enumerate(items) if "/users/yang" in item] == ([claimed_at] if claimed_at else [])
    claimed = selectors.claimed_authorships(paper_ids=list(Paper.objects.values_list("pk", flat=True)))
    assert [(c.paper_id, c.position) for c in claimed.values()] == [
        (Paper.objects.get(arxiv_id="2603.07981").pk, 1)]
    assert [p.arxiv_id for p in selectors.profile(user=yang)["claimed"]] == ["2603.07981"]
    # Claiming "Yang Liu" on one paper gives no rights on the others.
    assert selectors.organization_rights(user=yang, paper=Paper.objects.get(arxiv_id="2603.07981")).may_set
    assert not selectors.organization_rights(user=yang, paper=same_names).may_set


def test_a_claim_follows_its_author_when_the_author_list_changes(same_names):
    second = _authorship("2603.07980", 2)
    _approve(services.claim_authorship(user=make_user("liu"), authorship=second))
    # A new version puts an author in front and drops Mei Chen: the second Yang Liu is now at 2 of 3.
    upsert_papers(records=[PaperRecord(arxiv_id="2603.07980", title="Two of a name",
                                       authors=["Ana Ruiz", SHARED, SHARED])])
    claim = AuthorshipClaim.objects.select_related("authorship").get()
    assert claim.authorship_id == second.pk and claim.authorship.position == 2
    items = _author_items(Client().get("/papers/2603.07980").content.decode())
    assert [i for i, item in enumerate(items) if "/users/liu" in item] == [2]
    # The claimed author leaves the paper: the claim goes with their authorship.
    upsert_papers(records=[PaperRecord(arxiv_id="2603.07980", title="Two of a name", authors=["Ana Ruiz", SHARED])])
    assert not AuthorshipClaim.objects.exists()
    assert list(same_names.authorships.values_list("position", "author__name")) == [(0, "Ana Ruiz"), (1, SHARED)]


@pytest.mark.django_db(transaction=True)
def test_the_migration_maps_old_claims_to_the_first_authorship_of_the_name():
    before = [("community", "0003_pending_submission")]
    after = [("community", "0006_claim_paper_author_removed")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    OldClaim = executor.loader.project_state(before).apps.get_model("community", "AuthorshipClaim")  # noqa: N806
    # Papers and users are at their latest migrations still (only community's were taken back).
    upsert_papers(records=[
        PaperRecord(arxiv_id="2603.07980", title="Two of a name", authors=["Mei Chen", SHARED, SHARED]),
        PaperRecord(arxiv_id="2603.07981", title="Once", authors=[SHARED]),
        PaperRecord(arxiv_id="2603.07982", title="Elsewhere", authors=["Left Since"]),
    ])
    twice, once = (Paper.objects.get(arxiv_id=a).pk for a in ("2603.07980", "2603.07981"))
    yang, gone = (Author.objects.get(name=n).pk for n in (SHARED, "Left Since"))
    ada, bob, cy = (make_user(n) for n in ("ada", "bob", "cy"))
    OldClaim.objects.create(user_id=ada.pk, paper_id=twice, author_id=yang, status="approved")
    OldClaim.objects.create(user_id=bob.pk, paper_id=once, author_id=yang, status="pending")
    OldClaim.objects.create(user_id=cy.pk, paper_id=twice, author_id=gone, status="pending")  # not on that paper

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    # Every app's latest migrations again, for the tests that follow (this one's database is shared).
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    claims = {c.user.username: c for c in AuthorshipClaim.objects.select_related("user", "authorship__paper",
                                                                                  "authorship__author")}
    assert set(claims) == {"ada", "bob"}
    ada_claim, bob_claim = claims["ada"], claims["bob"]
    assert (ada_claim.authorship.paper.arxiv_id, ada_claim.authorship.position, ada_claim.status) == (
        "2603.07980", 1, "approved")  # the first of the two places with that name
    assert (bob_claim.authorship.paper.arxiv_id, bob_claim.authorship.position, bob_claim.status) == (
        "2603.07981", 0, "pending")
    assert ada_claim.authorship.author.name == SHARED


def test_the_paper_page_reads_claims_in_a_fixed_number_of_queries(same_names):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    many = [f"Author {i}" for i in range(30)]
    upsert_papers(records=[PaperRecord(arxiv_id="2603.07990", title="Many authors", authors=many)])
    for position in (0, 5, 9):
        claimant = make_user(f"claimant{position}")
        _approve(services.claim_authorship(user=claimant, authorship=_authorship("2603.07990", position)))
    reader = client_for(make_user("reader"))

    def queries(arxiv_id: str) -> int:
        with CaptureQueriesContext(db) as captured:
            assert reader.get(f"/papers/{arxiv_id}").status_code == 200
        return len(captured)

    queries("2603.07982")  # warm what every page reads once per process
    assert queries("2603.07990") == queries("2603.07982")  # 30 authors, 3 claims vs 1 author, none
