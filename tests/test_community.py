"""Accounts, votes, submissions, comments, organizations, claims, moderation and abuse limits,
through the real HTTP stack (and a real SMTP server on loopback for the mails)."""

import io
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from PIL import Image

from dailypapers.community import services
from dailypapers.community.models import AuthorshipClaim, Ban, Comment, Membership, Report, Vote
from dailypapers.papers.models import DailyEntry, Organization, Paper
from dailypapers.papers.records import PaperRecord
from dailypapers.papers.services import upsert_papers

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db
User = get_user_model()
NOW = datetime.now(timezone.utc)


def test_sign_up_verify_by_mail_then_upvote_submit_comment_and_reply(client, smtp, fresh_papers):
    response = client.post("/accounts/signup/", {
        "email": "grace@example.org", "username": "grace",
        "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9",
    })
    assert response.status_code == 302
    assert len(smtp.messages) == 1
    recipients, message = smtp.messages[0]
    assert recipients == ["grace@example.org"]
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", message.get_body(("plain",)).get_content())[0]
    path = link.split("://", 1)[1].split("/", 1)[1]
    assert client.post("/" + path).status_code == 302
    user = User.objects.get(username="grace")
    assert EmailAddress.objects.get(user=user).verified
    assert user.password.startswith("md5$") or user.password.startswith("argon2")  # tests use a fast hasher

    client.logout()
    assert client.post("/accounts/login/", {"login": "grace", "password": "a-long-pass-phrase-9"}).status_code == 302

    assert client.post("/papers/2611.00001/vote").status_code == 302
    assert Paper.objects.get(arxiv_id="2611.00001").upvotes == 1

    response = client.post(
        "/papers/submit", {"paper": "https://arxiv.org/abs/2611.00002v1", "comment": "Great **work**"}
    )
    assert response.status_code == 302 and response["Location"] == "/papers/2611.00002"
    entry = DailyEntry.objects.get(paper__arxiv_id="2611.00002")
    assert entry.submitted_by == user and entry.source == "community"

    response = client.post("/papers/2611.00002/comments", {"body": "A question about *section 3*"})
    assert response.status_code == 302
    first = Comment.objects.get(body__startswith="A question")
    client.post("/papers/2611.00002/comments", {"body": "Answering myself", "parent": first.pk})
    assert Comment.objects.get(body="Answering myself").parent == first
    html = client.get("/papers/2611.00002").content.decode()
    assert "<strong>work</strong>" in html and "<em>section 3</em>" in html
    assert "Submitter" in html  # badge on the submitter's comments
    assert Paper.objects.get(arxiv_id="2611.00002").num_comments == 3
    assert "3 comments" in html or "💬" not in html
    profile = client.get("/users/grace").content.decode()
    assert "Fresh paper 1" in profile and "Fresh paper 2" in profile


def test_password_reset_by_mail(client, smtp):
    make_user("ada")
    assert client.post("/accounts/password/reset/", {"email": "ada@example.org"}).status_code == 302
    (_, message), = smtp.messages
    link = re.search(
        r"https?://[^\s]+/accounts/password/reset/key/[^\s]+/", message.get_body(("plain",)).get_content()
    )[0]
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    response = client.get(path)
    assert response.status_code == 302  # allauth moves the key out of the URL
    response = client.post(response["Location"], {"password1": "brand-new-pass-77", "password2": "brand-new-pass-77"})
    assert response.status_code == 302
    assert client.login(username="ada", password="brand-new-pass-77")


def test_production_hasher_is_argon2():
    import dailypapers.settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_votes_toggle_and_count_once(fresh_papers):
    user = make_user()
    paper = Paper.objects.get(arxiv_id="2611.00001")
    assert services.toggle_vote(user=user, paper=paper) == (True, 1)
    assert services.toggle_vote(user=user, paper=paper) == (False, 0)
    assert services.toggle_vote(user=user, paper=paper) == (True, 1)
    # A second vote row can never exist (the double-click race ends at the constraint).
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Vote.objects.create(user=user, paper=paper)
    assert Paper.objects.get(pk=paper.pk).upvotes == 1


def test_upvote_count_adds_local_votes_to_imported_ones(fresh_papers):
    upsert_papers(records=[PaperRecord(arxiv_id="2611.00003", title="Fresh paper 3", upvotes=40)])
    services.toggle_vote(user=make_user(), paper=Paper.objects.get(arxiv_id="2611.00003"))
    assert Paper.objects.get(arxiv_id="2611.00003").upvotes == 41
    upsert_papers(records=[PaperRecord(arxiv_id="2611.00003", title="Fresh paper 3", upvotes=45)])
    assert Paper.objects.get(arxiv_id="2611.00003").upvotes == 46


def test_htmx_vote_returns_the_button(fresh_papers):
    client = client_for(make_user())
    response = client.post("/papers/2611.00001/vote", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and html.startswith("<form") and 'aria-pressed="true"' in html and ">1<" in html


def test_anonymous_vote_leads_to_login_and_back(client, fresh_papers):
    response = client.post("/papers/2611.00001/vote", HTTP_REFERER="http://testserver/papers/2611.00001")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=") and "2611.00001" in response["Location"]
    html = client.get("/papers/2611.00001").content.decode()
    assert 'href="/accounts/login/?next=/papers/2611.00001"' in html


def test_paper_page_lists_upvoters(fresh_papers):
    services.toggle_vote(user=make_user("bob"), paper=Paper.objects.get(arxiv_id="2611.00001"))
    html = Client().get("/papers/2611.00001").content.decode()
    assert "Upvoted by" in html and 'href="/users/bob"' in html


def test_writes_need_a_csrf_token_and_post(fresh_papers):
    user = make_user()
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post("/papers/2611.00001/vote").status_code == 403
    assert client.post("/papers/2611.00001/comments", {"body": "hi"}).status_code == 403
    assert client.get("/papers/2611.00001/vote").status_code == 405
    assert not Vote.objects.exists() and not Comment.objects.exists()


@pytest.mark.parametrize("case, raw_id, expected", [
    ("unverified", "2611.00001", "Verify your email"),
    ("old", "2001.00001", "only papers from the last 14 days"),
    ("bad id", "not-a-paper", "is not an arXiv id"),
])
def test_submission_refusals_are_explained(fresh_papers, case, raw_id, expected):
    client = client_for(make_user(verified=case != "unverified"))
    response = client.post("/papers/submit", {"paper": raw_id})
    assert response.status_code == 400 and expected in response.content.decode()
    assert not DailyEntry.objects.exists()


def test_five_submissions_a_day_and_no_duplicates(fresh_papers):
    user = make_user()
    for i in range(1, 6):
        services.submit_paper(user=user, raw_id=f"2611.0000{i}", now=NOW)
    with pytest.raises(services.Refused, match="submitted 5 papers"):
        services.submit_paper(user=user, raw_id="2611.00006", now=NOW)
    with pytest.raises(services.Refused, match="already on the list"):
        services.submit_paper(user=make_user("other"), raw_id="2611.00001", now=NOW)


def test_feed_day_rolls_over_at_2130_new_york():
    eastern = timezone(timedelta(hours=-5))  # EST, 2026-03-02 is before daylight saving
    assert services.feed_day(datetime(2026, 3, 2, 21, 29, tzinfo=eastern)).isoformat() == "2026-03-02"
    assert services.feed_day(datetime(2026, 3, 2, 21, 31, tzinfo=eastern)).isoformat() == "2026-03-03"


def test_submitting_an_unknown_paper_fetches_it_from_arxiv(arxiv, settings):
    settings.SUBMIT_MAX_AGE_DAYS = 100_000  # the recorded paper is from 2016
    user = make_user()
    entry = services.submit_paper(user=user, raw_id="https://arxiv.org/abs/1605.08386")
    assert entry.paper.title == "Heat-bath random walks with Markov bases" and entry.paper.authors.exists()
    with pytest.raises(services.Refused, match="arXiv has no paper"):
        services.submit_paper(user=user, raw_id="0000.0000")


def test_comment_markdown_is_sanitised(fresh_papers):
    client = client_for(make_user())
    payload = ('<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror="alert(3)"> '
               '[ok](https://example.org) <a href="javascript:alert(4)">raw</a>')
    client.post("/papers/2611.00001/comments", {"body": payload})
    html = Comment.objects.get().body_html
    tags = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    Collect().feed(html)
    assert [t for t, _ in tags] == ["p", "a"]  # everything else stayed text
    assert all(not name.startswith("on") for _, attrs in tags for name in attrs)
    assert all(not attrs.get("href", "").startswith("javascript") for _, attrs in tags)
    assert '<a href="https://example.org" rel="nofollow noopener ugc">ok</a>' in html
    page = client.get("/papers/2611.00001").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_nobody_edits_or_deletes_someone_elses_comment(fresh_papers):
    owner, other = make_user("owner"), make_user("other")
    comment = services.post_comment(user=owner, paper=Paper.objects.get(arxiv_id="2611.00001"), body="mine")
    intruder = client_for(other)
    assert intruder.post(f"/comments/{comment.pk}/edit", {"body": "hacked"}).status_code == 403
    assert intruder.post(f"/comments/{comment.pk}/delete").status_code == 403
    comment.refresh_from_db()
    assert comment.body == "mine" and comment.deleted_at is None


def test_edit_within_15_minutes_delete_and_report(fresh_papers):
    owner, other = make_user("owner"), make_user("other")
    paper = Paper.objects.get(arxiv_id="2611.00001")
    comment = services.post_comment(user=owner, paper=paper, body="first")
    client = client_for(owner)
    assert client.post(f"/comments/{comment.pk}/edit", {"body": "*second*"}).status_code == 302
    comment.refresh_from_db()
    assert comment.body_html == "<p><em>second</em></p>\n" and comment.edited_at
    with pytest.raises(services.Refused, match="15 minutes"):
        services.edit_comment(user=owner, comment=comment, body="late", now=comment.created_at + timedelta(minutes=16))
    assert client_for(other).post(f"/comments/{comment.pk}/report", {"reason": "spam"}).status_code == 302
    assert Report.objects.get().reason == "spam"
    assert client.post(f"/comments/{comment.pk}/report").status_code == 403  # not your own
    assert client.post(f"/comments/{comment.pk}/delete").status_code == 302
    assert Paper.objects.get(pk=paper.pk).num_comments == 0
    assert "[deleted by its author]" in Client().get("/papers/2611.00001").content.decode()


def test_banned_user_reads_but_cannot_write(fresh_papers):
    user = make_user()
    Ban.objects.create(user=user, reason="spam")
    client = client_for(user)
    assert client.get("/papers/2611.00001").status_code == 200
    assert client.post("/papers/2611.00001/vote").status_code == 403
    assert client.post("/papers/2611.00001/comments", {"body": "hi"}).status_code == 403
    response = client.post("/papers/submit", {"paper": "2611.00001"})
    assert response.status_code == 400 and "banned" in response.content.decode()
    assert not Vote.objects.exists() and not Comment.objects.exists() and not DailyEntry.objects.exists()


def test_locked_discussion_refuses_comments(fresh_papers):
    Paper.objects.filter(arxiv_id="2611.00001").update(comments_locked=True)
    response = client_for(make_user()).post("/papers/2611.00001/comments", {"body": "hi"})
    assert response.status_code == 403 and "locked" in response.content.decode()


def _png(size=(8, 8)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "orange").save(data, "PNG")
    data.seek(0)
    data.name = "a.png"
    return data


def test_organizations_avatar_checks_members_and_paper_organization(fresh_papers):
    admin_user, member, stranger = make_user("boss"), make_user("member"), make_user("stranger")
    client = client_for(admin_user)
    response = client.post("/organizations/new", {"name": "Lab <script>x</script>", "slug": "lab", "avatar": _png()})
    assert response.status_code == 302
    org = Organization.objects.get(slug="lab")
    assert org.avatar.name.startswith("organizations/")
    assert Client().get(org.avatar.url).status_code == 200
    page = Client().get("/organizations/lab").content.decode()
    assert "<script>x</script>" not in page and "Lab &lt;script&gt;x&lt;/script&gt;" in page

    bad = io.BytesIO(b"GIF89a not really")
    bad.name = "x.png"
    response = client.post("/organizations/new", {"name": "Other", "slug": "other", "avatar": bad})
    assert response.status_code == 400 and not Organization.objects.filter(slug="other").exists()
    big = io.BytesIO(b"\0" * 1_100_000)
    big.name = "big.png"
    response = client.post("/organizations/new", {"name": "Big", "slug": "big", "avatar": big})
    assert response.status_code == 400 and "at most 1 MB" in response.content.decode()
    assert client.post("/organizations/new", {"name": "Lab again", "slug": "lab"}).status_code == 400

    # Issue 8: adding a member is an invitation, a member only once accepted.
    assert client.post("/organizations/lab/members", {"username": "member", "role": "member"}).status_code == 302
    assert not Membership.objects.filter(user=member).exists()
    invitation = member.invitations.get()
    assert client_for(member).post(f"/settings/invitations/{invitation.pk}/accept").status_code == 302
    assert Membership.objects.get(user=member).role == "member"
    assert (
        client_for(member).post("/organizations/lab/members", {"username": "stranger", "role": "admin"}).status_code
        == 403
    )

    # Issue 8: an admin of "lab" may not put a paper they did not submit under it; its submitter may
    # put it under an organization they are a member of, and not under another.
    assert client.post("/papers/2611.00004/organization", {"organization": "lab"}).status_code == 403
    assert Paper.objects.get(arxiv_id="2611.00004").organization is None
    services.submit_paper(user=member, raw_id="2611.00004")
    assert client_for(member).post("/papers/2611.00004/organization", {"organization": "lab"}).status_code == 302
    assert Paper.objects.get(arxiv_id="2611.00004").organization == org
    assert client_for(stranger).post("/papers/2611.00004/organization", {"organization": ""}).status_code == 403
    services.submit_paper(user=stranger, raw_id="2611.00005")
    assert client_for(stranger).post("/papers/2611.00005/organization", {"organization": "lab"}).status_code == 403
    assert Paper.objects.get(arxiv_id="2611.00005").organization is None


def test_authorship_claim_approved_in_the_admin_shows_on_profile_and_badge(fresh_papers):
    staff, ada = make_user("mod", staff=True), make_user("ada")
    paper = Paper.objects.get(arxiv_id="2611.00001")
    authorship = paper.authorships.get(author__name="Ada Lovelace")
    assert client_for(ada).post(f"/papers/2611.00001/claim/{authorship.pk}").status_code == 302
    claim = AuthorshipClaim.objects.get()
    assert claim.status == "pending"
    response = client_for(staff).post(
        "/admin/community/authorshipclaim/", {"action": "approve", "_selected_action": [claim.pk]}
    )
    assert response.status_code == 302
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_by == staff
    assert LogEntry.objects.filter(user=staff, change_message="Approved the claim").exists()
    services.post_comment(user=ada, paper=paper, body="I wrote this")
    assert "Paper author" in Client().get("/papers/2611.00001").content.decode()
    assert "Fresh paper 1" in Client().get("/users/ada").content.decode()
    other = Paper.objects.get(arxiv_id="2001.00001").authorships.get()
    assert client_for(ada).post(f"/papers/2611.00001/claim/{other.pk}").status_code == 404  # not of this paper


def test_moderation_actions_are_recorded(fresh_papers):
    staff, user = make_user("mod", staff=True), make_user("troll")
    admin = client_for(staff)
    paper = Paper.objects.get(arxiv_id="2611.00001")
    comment = services.post_comment(user=user, paper=paper, body="rude")
    report = services.report_comment(user=staff, comment=comment, reason="rude")
    admin.post("/admin/community/report/", {"action": "hide_and_resolve", "_selected_action": [report.pk]})
    comment.refresh_from_db()
    report.refresh_from_db()
    assert comment.hidden_at and report.resolved_by == staff
    assert "[hidden by a moderator]" in Client().get("/papers/2611.00001").content.decode()
    admin.post("/admin/papers/paper/", {"action": "lock_comments", "_selected_action": [paper.pk]})
    assert Paper.objects.get(pk=paper.pk).comments_locked
    entry = services.submit_paper(user=staff, raw_id="2611.00002")
    admin.post("/admin/papers/dailyentry/", {"action": "remove_from_list", "_selected_action": [entry.pk]})
    assert not DailyEntry.objects.exists()
    admin.post("/admin/auth/user/", {"action": "ban", "_selected_action": [user.pk]})
    assert Ban.objects.get(user=user).banned_by == staff
    messages = set(LogEntry.objects.filter(user=staff).values_list("change_message", flat=True))
    assert {"Hid the reported comment", "Locked comments", "Banned the user"} <= messages
    assert LogEntry.objects.filter(user=staff, action_flag=3).exists()  # the removed list entry


def test_rate_limits_answer_429_with_retry_after(fresh_papers, settings):
    settings.RATE_COMMENT = "2/m"
    client = client_for(make_user())
    for _ in range(2):
        assert client.post("/papers/2611.00001/comments", {"body": "hi"}).status_code == 302
    response = client.post("/papers/2611.00001/comments", {"body": "hi"})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "Try again in 60 seconds" in response.content.decode()


def test_login_is_throttled_after_repeated_failures(client):
    make_user("ada")
    for _ in range(5):
        assert client.post("/accounts/login/", {"login": "ada", "password": "wrong"}).status_code == 200
    response = client.post("/accounts/login/", {"login": "ada", "password": "pw-long-enough-1"})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_and_signup_rate_limits_answer_429(client, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip", "signup": "2/m/ip"}
    codes = [client.post("/accounts/login/", {"login": "x", "password": "y"}).status_code for _ in range(4)]
    assert codes[-1] == 429
    assert (
        "Try again in 60 seconds" in client.post("/accounts/login/", {"login": "x", "password": "y"}).content.decode()
    )
    codes = [client.post("/accounts/signup/", {"email": "bad"}).status_code for _ in range(3)]
    assert codes[-1] == 429


def test_account_pages_render_in_the_site_layout():
    client = client_for(make_user("ada"))
    profile = client.get("/users/ada").content.decode()
    for url in ("/accounts/email/", "/accounts/password/change/", "/organizations/new"):
        assert f'href="{url}"' in profile
        response = client.get(url)
        assert response.status_code == 200 and 'class="site-header"' in response.content.decode()
    response = client.post("/accounts/password/change/", {
        "oldpassword": "pw-long-enough-1", "password1": "another-long-one-5", "password2": "another-long-one-5"})
    assert response.status_code == 302
    assert Client().login(username="ada", password="another-long-one-5")
    response = client.post("/accounts/email/", {"action_add": "", "email": "ada2@example.org"})
    assert response.status_code == 302 and EmailAddress.objects.filter(email="ada2@example.org").exists()
