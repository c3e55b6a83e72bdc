"""Honest content and controls (issue 12 items 6-9): counts that say where comments are, controls
only for who may use them, the digest's manage page, and the small things."""

import re
from datetime import date, timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from dailypapers.community import services as community
from dailypapers.community.models import AuthorshipClaim, Comment
from dailypapers.digests import emails as digests
from dailypapers.digests.manage import subscription_for
from dailypapers.digests.models import Subscription
from dailypapers.papers.models import Authorship, DailyEntry, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.services import upsert_papers

from .helpers import load_three_days, make_paper, make_user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def papers(db):
    load_three_days()
    upsert_papers(records=[make_paper("2603.00009", day="2026-03-16", upvotes=1, num_comments=3,
                                      title="\\$OneMillion-Bench: costs in \\$", github_repo="https://github.com/a/zero",
                                      github_stars=0)])


# -- 6: comment counts ----------------------------------------------------------------------------

def test_comment_counts_say_what_is_here_and_link_to_hugging_face(papers):
    client = Client()
    day = client.get("/papers/date/2026-03-16").content.decode()
    card = day.split('data-arxiv-id="2603.00009"')[1].split("</article>")[0]
    assert re.search(r'class="comments"[^>]*>.*?</svg> 0<span class="sr-only"> comments here', card)
    assert ('<a class="hf-comments" href="https://huggingface.co/papers/2603.00009#community" rel="noopener">'
            "+3 on Hugging Face</a>") in card
    page = client.get("/papers/2603.00009").content.decode()
    assert "0 comments here" in page and "No comments here yet." in page
    assert '3 more comments on <a href="https://huggingface.co/papers/2603.00009#community"' in page

    community.post_comment(user=make_user("ada"), paper=Paper.objects.get(arxiv_id="2603.00009"), body="Nice *work*")
    page = client.get("/papers/2603.00009").content.decode()
    assert "1 comment here" in page and "just now" in page
    plain = client.get("/papers/date/2026-03-16").content.decode()
    assert re.search(r'data-arxiv-id="2603.00009".*?</svg> 1<span class="sr-only"> comment here', plain, re.S)
    # No imported count: no Hugging Face line at all.
    assert "Hugging Face discussion" not in client.get("/papers/2603.00001").content.decode()


# -- 7: controls only for who may use them --------------------------------------------------------

def test_the_organization_control_is_shown_only_to_who_may_use_it(papers):
    paper = Paper.objects.get(arxiv_id="2603.00001")
    reader, submitter = make_user("reader"), make_user("submitter")
    DailyEntry.objects.filter(paper=paper).update(submitted_by=submitter)
    assert 'class="set-org"' not in signed_in(reader).get("/papers/2603.00001").content.decode()
    assert 'class="set-org"' not in Client().get("/papers/2603.00001").content.decode()
    assert 'class="set-org"' in signed_in(submitter).get("/papers/2603.00001").content.decode()


def _claim_buttons(html: str) -> int:
    return html.count('class="inline claim"')


def test_claim_is_offered_only_where_claimable_and_not_after_claiming(papers):
    ada, other, unverified = make_user("ada"), make_user("other"), make_user("nomail", verified=False)
    assert _claim_buttons(Client().get("/papers/2603.00001").content.decode()) == 0
    assert _claim_buttons(signed_in(unverified).get("/papers/2603.00001").content.decode()) == 0
    assert _claim_buttons(signed_in(ada).get("/papers/2603.00001").content.decode()) == 2

    lovelace = Authorship.objects.get(paper__arxiv_id="2603.00001", author__name="Ada Lovelace")
    response = signed_in(ada).post(f"/papers/2603.00001/claim/{lovelace.pk}")
    assert response.status_code == 302
    html = signed_in(ada).get("/papers/2603.00001").content.decode()
    assert _claim_buttons(html) == 0 and "claim pending" in html

    community.decide_claim(claim=AuthorshipClaim.objects.get(), moderator=make_user("mod", staff=True), approve=True)
    html = signed_in(ada).get("/papers/2603.00001").content.decode()
    assert _claim_buttons(html) == 0 and '<span class="badge">you</span>' in html
    # Someone else: the claimed author is marked, only the other one is claimable.
    html = signed_in(other).get("/papers/2603.00001").content.decode()
    assert _claim_buttons(html) == 1 and ">verified</span>" in html


# -- 8: digest management -------------------------------------------------------------------------

def test_anonymous_visitors_are_not_offered_the_personal_digest(db):
    assert "Personal" not in Client().get("/digest/subscribe").content.decode()
    html = signed_in(make_user("ada")).get("/digest/subscribe").content.decode()
    assert "Personal" in html
    # An anonymous subscription still works without the field.
    response = Client().post("/digest/subscribe", {"email": "x@example.org", "frequency": "daily", "min_upvotes": "0"})
    assert response.status_code == 200 and len(mail.outbox) == 1


def test_the_manage_page_by_the_digests_signed_link(db, settings):
    settings.BASE_URL = "http://papers.example.org:8101"
    subscription = Subscription.objects.create(email="reader@example.org", confirmed_at=timezone.now())
    token = digests.unsubscribe_token(subscription)
    client = Client()
    page = client.get(f"/digest/manage/{token}")
    html = page.content.decode()
    assert page.status_code == 200 and "reader@example.org" in html and ">active</span>" in html
    assert "no-store" in page["Cache-Control"]

    response = client.post(f"/digest/manage/{token}", {"action": "save", "frequency": "weekly", "topic": "diffusion",
                                                       "min_upvotes": "5"})
    assert response.status_code == 200 and "Saved." in response.content.decode()
    subscription.refresh_from_db()
    assert (subscription.frequency, subscription.topic, subscription.min_upvotes) == ("weekly", "diffusion", 5)

    client.post(f"/digest/manage/{token}", {"action": "unsubscribe"})
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is not None
    used = client.get(f"/digest/unsubscribe/{token}").content.decode()
    assert "is already unsubscribed" in used and "Stop sending me this digest" not in used
    assert f'href="/digest/manage/{token}"' in used

    html = client.post(f"/digest/manage/{token}", {"action": "resubscribe"}).content.decode()
    subscription.refresh_from_db()
    assert subscription.unsubscribed_at is None and "Subscribed again" in html

    assert client.get("/digest/manage/forged-token").status_code == 400
    assert client.get("/digest/unsubscribe/forged-token").status_code == 400
    bad = client.post(f"/digest/manage/{token}", {"action": "save", "frequency": "hourly", "min_upvotes": "-1"})
    assert bad.status_code == 400

    # Every digest links to it, at the address the site is served on.
    message = digests.build_message(subscription=subscription, period=Period("day", date(2026, 3, 16)), items=[])
    link = re.search(r"Change this digest: http://papers\.example\.org:8101(/digest/manage/\S+)", message.body)[1]
    assert f'href="http://papers.example.org:8101{link}"' in message.alternatives[0][0]
    assert "reader@example.org" in client.get(link).content.decode()


def test_a_subscribed_reader_sees_their_digests_on_the_subscribe_page(db):
    ada = make_user("ada")
    subscription = Subscription.objects.create(email=ada.email, user=ada, confirmed_at=timezone.now(), topic="graphs")
    html = signed_in(ada).get("/digest/subscribe").content.decode()
    # The link's token is signed with the second it was made in: read back, not compared with one made here.
    tokens = re.findall(r'href="/digest/manage/([^"]+)"', html)
    assert [subscription_for(token=t) for t in tokens] == [subscription] and "on “graphs”" in html


def test_make_run_links_mails_to_the_port_it_serves():
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "DAILYPAPERS_BASE_URL"}
    show = ["make", "-s", "-C", str(root), "--eval", "show-base-url: ; @echo $$DAILYPAPERS_BASE_URL", "show-base-url"]
    assert subprocess.run([*show, "PORT=8101"], capture_output=True, text=True, env=env).stdout.strip() == "http://127.0.0.1:8101"
    assert subprocess.run([*show, "HOST=0.0.0.0"], capture_output=True, text=True, env=env).stdout.strip() == "http://0.0.0.0:8000"


# -- 9: small things -------------------------------------------------------------------------------

def test_small_things_on_the_paper_page(papers):
    client = Client()
    html = client.get("/papers/2603.00009").content.decode()
    assert "<title>$OneMillion-Bench: costs in $ — " in html  # as the heading shows it
    assert "\\$" not in html.split("<body")[0]
    assert "GitHub ★ 0" not in html and "★ 0" not in html and 'class="button github"' in html
    assert "dailypapers index" not in html
    assert 'class="button copy-md" data-src="/papers/2603.00009.md" hidden' in html
    listed = re.findall(r'<p class="listed">.*?</p>', html, re.S)
    visible = re.sub(r"<[^>]+>", "", listed[0])
    assert len(listed) == 1 and visible == "Listed on Mar 16, 2026 by akhaliq"
    # The card: stars hidden when 0, shown otherwise.
    day = client.get("/papers/date/2026-03-16").content.decode()
    assert "★ 0" not in day and "★ 1,234" in day


def test_trending_score_is_rounded(papers, settings):

    html = Client().get("/papers/trending").content.decode()
    scores = re.findall(r'<span class="score"[^>]*>score ([\d.]+)</span>', html)
    assert scores and all(len(s.split(".")[1]) <= 2 for s in scores)


def test_delete_asks_first_and_just_now(papers):
    ada = make_user("ada")
    paper = Paper.objects.get(arxiv_id="2603.00001")
    community.post_comment(user=ada, paper=paper, body="hello")
    html = signed_in(ada).get("/papers/2603.00001").content.decode()
    assert 'data-confirm="Delete this comment? This cannot be undone."' in html and "just now" in html
    Comment.objects.update(created_at=timezone.now() - timedelta(hours=3))
    assert "3\xa0hours ago" in signed_in(ada).get("/papers/2603.00001").content.decode()


def test_profiles_show_comments_rendered(papers):
    ada = make_user("ada")
    community.post_comment(user=ada, paper=Paper.objects.get(arxiv_id="2603.00001"), body="**bold** claim")
    html = Client().get("/users/ada").content.decode()
    assert "<strong>bold</strong> claim" in html and "**bold**" not in html


@pytest.mark.parametrize("raw", ["2613.00001", "0001.00001", "2401.1234", "1401.12345"])
def test_an_impossible_id_is_a_real_404_with_a_search_box(client, db, raw):
    response = client.get(f"/papers/{raw}")
    html = response.content.decode()
    assert response.status_code == 404 and "cannot be an arXiv id" in html
    assert f'name="q" maxlength="250" value="{raw}"' in html and 'action="/papers"' in html


def test_a_possible_but_missing_id_still_says_so(client, db):
    response = client.get("/papers/2401.12345")
    assert response.status_code == 404 and "No paper 2401.12345 here yet." in response.content.decode()


def test_account_mails_name_the_site_not_the_host(db):
    response = Client().post("/accounts/signup/", {
        "email": "new@example.org", "username": "newcomer",
        "password1": "a long pass phrase 42", "password2": "a long pass phrase 42"})
    assert response.status_code == 302
    message = mail.outbox[-1]
    assert message.subject.startswith("[Daily Papers] ")
    # allauth names the site by its host without django.contrib.sites ("Hello from 127.0.0.1:8101!").
    assert "Hello from Daily Papers!" in message.body and "Thank you for using Daily Papers!" in message.body


def test_the_date_picker_goes_to_a_day_or_the_nearest_earlier_list(papers):
    client = Client()
    html = client.get("/papers/date/2026-03-16").content.decode()
    picker = re.search(r'<form class="date-picker" method="get" action="/papers/date">.*?</form>', html, re.S)
    assert picker, "no date picker on a day's page"
    assert 'type="date" name="day" value="2026-03-16" min="2026-03-13" max="2026-03-17" required' in picker.group(0)
    assert 'class="date-picker"' in client.get("/papers").content.decode()
    assert 'class="date-picker"' not in client.get("/papers/week/2026-W12").content.decode()

    assert client.get("/papers/date?day=2026-03-16")["Location"] == "/papers/date/2026-03-16"
    # Sunday: no list, so Friday's, saying so (and that page, holding a note, is not cached for others).
    response = client.get("/papers/date?day=2026-03-15", follow=True)
    assert response.redirect_chain == [("/papers/date/2026-03-13", 302)]
    assert "No list on Mar 15, 2026: this is the nearest earlier one." in response.content.decode()
    assert "No list on" not in Client().get("/papers/date/2026-03-13").content.decode()
    # Before the first list: the day's own page, which says there is none and links to the next.
    response = client.get("/papers/date?day=2026-01-01", follow=True)
    assert response.redirect_chain == [("/papers/date/2026-01-01", 302)]
    assert 'href="/papers/date/2026-03-13"' in response.content.decode()
    for bad in ("", "?day=", "?day=2026-02-30", "?day=tomorrow", "?day=99999-01-01"):
        response = client.get(f"/papers/date{bad}")
        assert response.status_code == 400 and "day: " in response.content.decode()


def test_urls_in_abstracts_and_arxiv_comments_are_links_and_nothing_else_is(db):
    upsert_papers(records=[make_paper(
        "2603.00010", day="2026-03-16", upvotes=1,
        abstract="We bound $f(x)=x^2$ (code: https://github.com/a/b). See http://example.org/p?a=1&b=2, "
                 'not javascript:alert(1) nor <a href="https://evil.example">x</a> nor https://"onmouseover=alert(1).',
        comments="10 pages; project page https://example.org/proj.")])
    html = Client().get("/papers/2603.00010").content.decode()
    abstract = re.search(r'<p class="abstract full">(.*?)</p>', html, re.S).group(1)
    assert '<span class="tex" data-display="0">f(x)=x^2</span>' in abstract  # the maths is still maths
    # Written HTML stays text (its URL, a URL in the text, is a link of ours); a quote ends a URL.
    assert re.findall(r'<a href="([^"]*)" rel="nofollow noopener ugc">', abstract) == [
        "https://github.com/a/b", "http://example.org/p?a=1&amp;b=2", "https://evil.example"]
    assert "(code: <a" in abstract and "</a>). See" in abstract and "b=2</a>, not" in abstract
    assert "javascript:" in abstract and 'href="javascript' not in abstract
    assert '&lt;a href=&quot;<a href="https://evil.example" rel="nofollow noopener ugc">https://evil.example</a>' \
        "&quot;&gt;x&lt;/a&gt;" in abstract
    assert "https://&quot;onmouseover=alert(1)." in abstract and abstract.count("<a ") == 3
    comments = re.search(r"<dt>Comments</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert comments == ('10 pages; project page <a href="https://example.org/proj" rel="nofollow noopener ugc">'
                        "https://example.org/proj</a>.")
    # A card's abstract opens on click: no links in it, nor in titles (themselves links).
    day = Client().get("/papers/date/2026-03-16").content.decode()
    card = day.split('data-arxiv-id="2603.00010"')[1].split("</article>")[0]
    card_abstract = re.search(r'<div class="abstract" data-clip>(.*?)</div>', card, re.S).group(1)
    assert "https://github.com/a/b" in card_abstract and "<a " not in card_abstract


def test_urls_in_comments_are_links_outside_code_and_links(papers):
    ada = make_user("ada")
    paper = Paper.objects.get(arxiv_id="2603.00001")
    comment = community.post_comment(user=ada, paper=paper, body=(
        "Code at https://github.com/a/b. Also `https://in.code/x` and [the page](https://example.org/p), "
        "**https://bold.example/y** and javascript:alert(1) [x](javascript:alert(1)) <https://angle.example>"))
    html = comment.body_html
    assert re.findall(r'<a href="([^"]*)" rel="nofollow noopener ugc">', html) == [
        "https://github.com/a/b", "https://example.org/p", "https://bold.example/y", "https://angle.example"]
    assert "<code>https://in.code/x</code>" in html and ">the page</a>" in html
    assert 'href="javascript' not in html
    page = Client().get("/papers/2603.00001").content.decode()
    assert '<a href="https://github.com/a/b" rel="nofollow noopener ugc">https://github.com/a/b</a>.' in page


def test_an_escaped_dollar_reads_the_same_in_feeds_and_digests_as_on_the_page(papers):
    rss = Client().get("/feeds/date/2026-03-16.rss").content.decode()
    assert "<title>$OneMillion-Bench: costs in $</title>" in rss and "\\$" not in rss
    paper = Paper.objects.get(arxiv_id="2603.00009")
    Paper.objects.filter(pk=paper.pk).update(ai_summary="We spend \\$5 on $x^2$.")  # the line a digest shows
    paper.refresh_from_db()
    subscription = Subscription.objects.create(email="a@example.org", frequency="daily")
    message = digests.build_message(subscription=subscription, period=Period("day", date(2026, 3, 16)),
                                    items=list(digests.digest_items([paper]).values()))
    html = message.alternatives[0][0]
    for text in (message.body, html):
        assert "$OneMillion-Bench: costs in $" in text and "\\$" not in text
    assert "We spend $5 on $x^2$." in message.body


@pytest.mark.django_db(transaction=True)
def test_the_migration_renders_stored_comments_again_with_links_and_mentions():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("community", "0006_claim_paper_author_removed")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    OldComment = old.get_model("community", "Comment")  # noqa: N806 - a class
    # Papers and users are at their latest migrations still (only community's were taken back).
    ada = make_user("Ada")
    upsert_papers(records=[make_paper("2603.00001", day=None, upvotes=0)])
    paper_id = Paper.objects.get().pk
    with_url = OldComment.objects.create(paper_id=paper_id, author_id=ada.pk, body="See https://example.org/x, @ada.",
                                         body_html="<p>See https://example.org/x, @ada.</p>")
    without = OldComment.objects.create(paper_id=paper_id, author_id=ada.pk, body="plain",
                                        body_html="<p>as it was</p>")
    executor.loader.build_graph()
    MigrationExecutor(connection).migrate(executor.loader.graph.leaf_nodes())

    html = Comment.objects.get(pk=with_url.pk).body_html
    assert '<a href="https://example.org/x" rel="nofollow noopener ugc">https://example.org/x</a>' in html
    assert 'href="/users/Ada"' in html and "@Ada" in html
    assert Comment.objects.get(pk=without.pk).body_html == "<p>as it was</p>"
