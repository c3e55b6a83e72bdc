"""Notifications: replies, mentions, followed authors' papers and submissions, on the page and the
API and, batched, by mail through a real SMTP server on loopback (aiosmtpd), parsed with `email`."""

import threading
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from dailypapers.api.services import create_token
from dailypapers.community import services as community
from dailypapers.community.models import Comment, PendingSubmission
from dailypapers.notifications import selectors, sending
from dailypapers.notifications.models import Kind, Notification, NotificationMail
from dailypapers.notifications.sending import STALE_AFTER, send_notification_mails
from dailypapers.notifications.services import notify_followed_author_papers, set_preferences
from dailypapers.papers.models import Paper

from .helpers import client_for, make_user

pytestmark = pytest.mark.django_db
RECORDED = "1605.08386"  # tests/fixtures/arxiv_api: published 2016


@pytest.fixture
def people(fresh_papers):
    return {name: make_user(name) for name in ("ada", "bob", "cy")}


@pytest.fixture
def paper(fresh_papers) -> Paper:
    return Paper.objects.get(arxiv_id="2611.00001")


def kinds_of(user) -> list[tuple[str, str | None]]:
    return [(n.kind, n.actor.username if n.actor else None) for n in selectors.visible(user=user)]


def test_a_reply_notifies_the_parent_author_not_oneself(people, paper):
    ada, bob = people["ada"], people["bob"]
    top = community.post_comment(user=ada, paper=paper, body="What about section 3?")
    community.post_comment(user=ada, paper=paper, body="Answering myself", parent=top)
    assert kinds_of(ada) == []  # no notification of your own reply
    reply = community.post_comment(user=bob, paper=paper, body="It is in the appendix", parent=top)
    (notification,) = selectors.visible(user=ada)
    assert (notification.kind, notification.actor, notification.comment) == (Kind.REPLY, bob, reply)
    shown = selectors.shown(notification)
    assert shown.text == "bob replied to your comment on “Fresh paper 1”"
    assert shown.url == f"/papers/2611.00001#comment-{reply.pk}" and shown.excerpt == "It is in the appendix"
    assert kinds_of(bob) == []


def test_mentions_are_linked_and_notify_known_others_once(people, paper):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    comment = community.post_comment(
        user=ada, paper=paper,
        body="Thanks @BOB, @ada and @nobody; mail ada@example.org, not `@cy` or [@cy](https://example.org)",
    )
    html = comment.body_html
    assert '<a href="/users/bob" class="mention" rel="nofollow noopener ugc">@bob</a>' in html
    assert 'href="/users/ada"' in html  # yourself: linked, but nobody is notified
    assert "@nobody" in html and "/users/nobody" not in html  # unknown: plain text
    assert "<code>@cy</code>" in html and "/users/cy" not in html  # code and link text are not mentions
    assert kinds_of(bob) == [("mention", "ada")]
    assert kinds_of(ada) == [] and kinds_of(cy) == []

    # An edit notifies only whom it adds: bob is not told twice, cy now is.
    community.edit_comment(user=ada, comment=comment, body="Thanks @bob and @cy!")
    assert kinds_of(bob) == [("mention", "ada")] and kinds_of(cy) == [("mention", "ada")]
    assert 'href="/users/cy"' in Comment.objects.get(pk=comment.pk).body_html

    # A reply that also mentions the parent's author tells them once, as a reply.
    reply = community.post_comment(user=cy, paper=paper, body="@ada agreed", parent=comment)
    assert kinds_of(ada) == [("reply", "cy")] and 'href="/users/ada"' in reply.body_html


def test_a_mention_cannot_inject_markup(people, paper):
    comment = community.post_comment(user=people["ada"], paper=paper,
                                     body='@bob"><script>alert(1)</script> <img src=x onerror=alert(1)>@bob')
    assert "<script" not in comment.body_html and "<img" not in comment.body_html
    assert comment.body_html.count('class="mention"') == 2  # after ">" is a word boundary: still bob


def test_a_removed_comment_takes_its_notification_away(people, paper):
    ada, bob = people["ada"], people["bob"]
    comment = community.post_comment(user=bob, paper=paper, body="Hey @ada")
    assert selectors.unread_count(user=ada) == 1
    community.delete_comment(user=bob, comment=comment)
    assert selectors.unread_count(user=ada) == 0 and kinds_of(ada) == []


def test_followed_author_papers_are_notified_once_per_user_and_paper(people, fresh_papers):
    ada, bob = people["ada"], people["bob"]
    first, second = Paper.objects.filter(arxiv_id__in=["2611.00003", "2611.00004"]).order_by("arxiv_id")
    assert notify_followed_author_papers(user_papers={ada: [first, second, first], bob: [second]}) == 3
    assert notify_followed_author_papers(user_papers={ada: [first], bob: [second, first]}) == 1  # bob: first
    assert notify_followed_author_papers(user_papers={}) == 0
    assert sorted(Notification.objects.filter(kind=Kind.FOLLOWED_AUTHOR_PAPER)
                  .values_list("user__username", "paper__arxiv_id")) == [
        ("ada", "2611.00003"), ("ada", "2611.00004"), ("bob", "2611.00003"), ("bob", "2611.00004")]
    shown = selectors.shown(selectors.visible(user=ada).first())
    assert shown.text.startswith("New paper by an author you follow: “Fresh paper") and shown.url.startswith("/papers/")
    # Off on the page and by mail: nothing is made for that user.
    cy = people["cy"]
    set_preferences(user=cy, choices={Kind.FOLLOWED_AUTHOR_PAPER: (False, False)})
    assert notify_followed_author_papers(user_papers={cy: [first]}) == 0 and kinds_of(cy) == []


def test_a_submission_fetched_or_refused_in_the_background_is_notified(arxiv, settings, fresh_papers):
    settings.SUBMIT_MAX_AGE_DAYS = 100_000  # the recorded paper is from 2016
    ada = make_user("ada")
    community.request_submission(user=ada, raw_id="0000.0000")  # the queue runs inline in tests
    community.request_submission(user=ada, raw_id=RECORDED)
    texts = [selectors.shown(n).text for n in selectors.visible(user=ada)]
    assert texts == [f"Your submission {RECORDED} was fetched and is on the list: "
                     "“Heat-bath random walks with Markov bases”",
                     "Your submission 0000.0000 was refused: arXiv has no paper 0000.0000."]
    assert selectors.shown(selectors.visible(user=ada).first()).url.startswith("/papers/submit/")
    # A paper already held is submitted at once, on the page the submitter is looking at: no notification.
    community.request_submission(user=make_user("bob"), raw_id="2611.00002")
    assert Notification.objects.count() == 2
    PendingSubmission.objects.all().delete()
    assert kinds_of(ada) == []  # the notifications go with their submissions


def test_the_page_lists_newest_first_pages_and_marks_read(people, paper):
    ada, bob = people["ada"], people["bob"]
    top = community.post_comment(user=ada, paper=paper, body="Top")
    replies = [community.post_comment(user=bob, paper=paper, body=f"Reply {i}", parent=top) for i in range(35)]
    client = client_for(ada)
    page = client.get("/notifications").content.decode()
    assert page.index(f"#comment-{replies[-1].pk}") < page.index(f"#comment-{replies[-2].pk}")
    assert page.count('class="notification unread"') == 30 and "Page 1 of 2" in page
    assert '<span class="badge unread-count">35<span class="sr-only"> unread</span></span>' in page
    assert client.get("/notifications?page=2").content.decode().count('class="notification unread"') == 5
    assert client.get("/notifications?page=3").status_code == 404
    assert client.get("/notifications?page=x").status_code == 400

    newest = Notification.objects.get(comment=replies[-1])
    assert client.post(f"/notifications/{newest.pk}/read").status_code == 302
    assert selectors.unread_count(user=ada) == 34
    assert client.get(f"/notifications/{newest.pk}/read").status_code == 405  # POST only
    assert client_for(bob).post(f"/notifications/{newest.pk + 1}/read").status_code == 404  # not bob's
    assert Client().post("/notifications/read")["Location"].startswith("/accounts/login/")
    signed_in = Client(enforce_csrf_checks=True)
    signed_in.force_login(ada)
    assert signed_in.post("/notifications/read").status_code == 403  # no CSRF token
    assert client.post("/notifications/read").status_code == 302
    assert selectors.unread_count(user=ada) == 0
    assert "unread-count" not in client.get("/notifications").content.decode()
    assert Client().get("/notifications")["Location"].startswith("/accounts/login/")


def test_the_badge_costs_one_query_and_anonymous_pages_none(people, paper, client):
    ada = people["ada"]
    community.post_comment(user=people["bob"], paper=paper, body="@ada look")
    signed_in = client_for(ada)
    with CaptureQueriesContext(connection) as queries:
        assert '<span class="badge unread-count">1' in signed_in.get("/papers/2611.00001").content.decode()
    assert sum("notifications_notification" in q["sql"] for q in queries.captured_queries) == 1
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/papers/2611.00001").content.decode()
    assert "unread-count" not in page and "Notifications" not in page
    assert not any("notifications_" in q["sql"] for q in queries.captured_queries)


def test_preferences_turn_kinds_off_on_the_page_and_by_mail(people, paper):
    ada, bob = people["ada"], people["bob"]
    client = client_for(ada)
    assert client.post("/notifications/preferences", {
        "on_site:reply": "on", "by_email:reply": "on", "by_email:mention": "on", "on_site:submission": "on",
        "on_site:followed_author_paper": "on"}).status_code == 302
    prefs = {p.kind: (p.on_site, p.by_email) for p in selectors.preferences(user=ada)}
    assert prefs == {"reply": (True, True), "mention": (False, True), "followed_author_paper": (True, False),
                     "submission": (True, False)}
    community.post_comment(user=bob, paper=paper, body="@ada mention")
    assert kinds_of(ada) == [] and selectors.unread_count(user=ada) == 0  # off on the page...
    assert Notification.objects.get(user=ada).wants_email  # ...but it is mailed
    page = client.get("/notifications").content.decode()
    assert 'name="on_site:mention" aria-label="Mentions of you in comments on this page">' in page
    client.post("/notifications/preferences", {})  # everything off
    assert not Notification.objects.get(user=ada).wants_email  # the waiting mail is taken back
    community.post_comment(user=bob, paper=paper, body="@ada again")
    assert Notification.objects.filter(user=ada).count() == 1  # neither channel: nothing made


def mail_text(message) -> str:
    return message.get_body(("plain",)).get_content()


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_one_batched_mail_per_user_with_one_click_unsubscribe_per_kind(people, paper, smtp):
    ada, bob, cy = people["ada"], people["bob"], people["cy"]
    top = community.post_comment(user=ada, paper=paper, body="My question")
    community.post_comment(user=bob, paper=paper, body="A reply", parent=top)
    community.post_comment(user=cy, paper=paper, body="Another reply", parent=top)
    community.post_comment(user=bob, paper=paper, body="cc @ada and @cy")
    make_user("dan", verified=False)
    community.post_comment(user=bob, paper=paper, body="cc @dan")  # no verified address: not mailed

    stats = send_notification_mails()
    assert (stats.sent, stats.no_address) == (2, 1)
    (mail,) = smtp.to("ada@example.org")
    assert mail["Subject"] == "Daily Papers: 3 new notifications"
    text = mail_text(mail)
    assert text.index("Replies to your comments") < text.index("bob replied") < text.index("Mentions of you")
    assert "cy replied to your comment on “Fresh paper 1”" in text and "bob mentioned you on" in text
    assert "http://127.0.0.1:8000/papers/2611.00001#comment-" in text
    assert "bob mentioned you" in mail.get_body(("html",)).get_content()
    assert len(smtp.to("cy@example.org")) == 1
    assert send_notification_mails().sent == 0 and len(smtp.messages) == 2  # nothing twice
    assert Notification.objects.filter(user=ada, emailed_at__isnull=False).count() == 3

    # RFC 8058: the mail client POSTs the header's link, with no session and no CSRF token; it stops
    # the kinds this mail held. Each kind's own link in the body stops that kind only.
    header = str(mail["List-Unsubscribe"]).strip()
    assert header.startswith("<http://127.0.0.1:8000/notifications/unsubscribe/") and header.endswith(">")
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"] == f"<notifications-{NotificationMail.objects.get(to='ada@example.org').pk}@127.0.0.1>"
    per_kind = [w for w in text.split() if "/notifications/unsubscribe/" in w]
    mention_link = per_kind[1]  # after the replies' link
    anonymous = Client(enforce_csrf_checks=True)
    assert "Stop these mails" in anonymous.get(path_of(mention_link)).content.decode()  # a GET only asks
    assert selectors.preferences(user=ada)[1].by_email
    response = anonymous.post(path_of(mention_link), "List-Unsubscribe=One-Click",
                              content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-store"
    prefs = {p.kind: p.by_email for p in selectors.preferences(user=ada)}
    assert prefs["mention"] is False and prefs["reply"] is True
    one_click = path_of(header.strip("<>"))
    assert anonymous.post(one_click, "List-Unsubscribe=One-Click",
                          content_type="application/x-www-form-urlencoded").status_code == 200
    assert {p.kind: p.by_email for p in selectors.preferences(user=ada)}["reply"] is False
    assert [p.on_site for p in selectors.preferences(user=ada)] == [True] * 4  # the page is as it was
    community.post_comment(user=bob, paper=paper, body="Another", parent=top)
    assert send_notification_mails().sent == 0
    assert anonymous.post("/notifications/unsubscribe/forged").status_code == 400
    assert anonymous.get(path_of(mention_link)[:-3] + "abc").status_code == 400


def test_a_refused_address_fails_and_a_deferred_mail_is_sent_later(people, paper, smtp):
    bob = people["bob"]
    community.post_comment(user=bob, paper=paper, body="@ada and @cy")
    smtp.refuse = {"ada@example.org": "550 5.1.1 No such user", "cy@example.org": "451 4.2.1 Mailbox busy"}
    stats = send_notification_mails()
    assert (stats.sent, stats.refused, stats.deferred) == (0, 1, 1)
    assert NotificationMail.objects.get(to="ada@example.org").status == "failed"
    smtp.refuse = {}
    assert send_notification_mails().sent == 0  # the deferred mail waits until it is stale
    assert send_notification_mails(now=timezone.now() + STALE_AFTER + timedelta(seconds=1)).sent == 1
    assert len(smtp.to("cy@example.org")) == 1 and smtp.to("ada@example.org") == []


def test_old_notifications_are_not_mailed(people, paper, smtp):
    community.post_comment(user=people["bob"], paper=paper, body="@ada")
    Notification.objects.update(created_at=timezone.now() - timedelta(days=4))
    assert send_notification_mails().sent == 0 and selectors.unread_count(user=people["ada"]) == 1


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_mail_each_notification_exactly_once(smtp, fresh_papers, monkeypatch):
    paper = Paper.objects.get(arxiv_id="2611.00001")
    author = make_user("writer")
    for i in range(12):
        reader = make_user(f"reader{i}")
        community.post_comment(user=author, paper=paper, body=f"@{reader.username} one")
        community.post_comment(user=author, paper=paper, body=f"@{reader.username} two")
    # Both senders have read the same waiting notifications before either claims any: the claims
    # alone must keep each notification in one mail.
    both_read = threading.Barrier(2)
    read_addresses = sending._addresses

    def addresses_then_wait(user_ids):
        found = read_addresses(user_ids)
        both_read.wait(timeout=30)
        return found

    monkeypatch.setattr(sending, "_addresses", addresses_then_wait)
    results: list = []

    def sender():
        try:
            results.append(send_notification_mails())
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 2 and sum(r.sent for r in results) == 12
    recipients = sorted(r[0] for r, _ in smtp.messages)
    assert recipients == sorted(f"reader{i}@example.org" for i in range(12))  # each exactly one mail
    assert all("2 new notifications" in m["Subject"] for _, m in smtp.messages)  # with both in it
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()
    assert NotificationMail.objects.filter(status="sent").count() == 12 == NotificationMail.objects.count()


def test_the_send_command(people, paper, smtp):
    community.post_comment(user=people["bob"], paper=paper, body="@ada")
    out = StringIO()
    call_command("notifications", "send", stdout=out)
    assert out.getvalue().startswith("notification mails: 1 sent / 0 refused") and len(smtp.messages) == 1


def test_the_api_lists_and_marks_read(people, paper):
    ada, bob = people["ada"], people["bob"]
    top = community.post_comment(user=ada, paper=paper, body="Top")
    for i in range(3):
        community.post_comment(user=bob, paper=paper, body=f"Reply {i} to @ada", parent=top)
    token = create_token(user=ada, name="tests")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    client = Client()
    assert client.get("/api/v1/me/notifications").status_code == 401
    body = client.get("/api/v1/me/notifications?per_page=2", **auth).json()
    assert (body["count"], body["pages"], body["unread"], len(body["items"])) == (3, 2, 3, 2)
    item = body["items"][0]
    assert item["kind"] == "reply" and item["actor"] == "bob" and item["paper_id"] == "2611.00001"
    assert item["text"] == "bob replied to your comment on “Fresh paper 1”" and item["excerpt"] == "Reply 2 to @ada"
    assert item["read"] is False and item["url"].endswith(f"#comment-{item['comment_id']}")

    response = client.post("/api/v1/me/notifications/read", {"ids": [item["id"]]}, content_type="application/json",
                           **auth)
    assert response.json() == {"marked": 1, "unread": 2}
    assert client.get("/api/v1/me/notifications?unread=true", **auth).json()["count"] == 2
    bob_token = create_token(user=bob, name="tests")[1]
    response = client.post("/api/v1/me/notifications/read", {"ids": [item["id"]]}, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {bob_token}")
    assert response.status_code == 404 and "no notification" in response.json()["error"]
    response = client.post("/api/v1/me/notifications/read", {}, content_type="application/json", **auth)
    assert response.json() == {"marked": 2, "unread": 0}
    assert client.post("/api/v1/me/notifications/read", {"ids": [0]}, content_type="application/json",
                       **auth).status_code == 422
    schema = client.get("/api/openapi.json").json()
    assert "/api/v1/me/notifications" in schema["paths"] and "/api/v1/me/notifications/read" in schema["paths"]



def test_the_queue_job_mails_on_its_schedule(people, paper, smtp, settings):
    from dailypapers.notifications.tasks import send_mails

    periodic = send_mails.task_class()  # what the consumer checks each minute
    assert periodic.validate_datetime(datetime(2026, 12, 2, 20, 45))  # huey passes naive UTC times
    assert not periodic.validate_datetime(datetime(2026, 12, 2, 20, 7))
    community.post_comment(user=people["bob"], paper=paper, body="@ada")
    send_mails()  # the queue runs inline in tests
    assert len(smtp.to("ada@example.org")) == 1
