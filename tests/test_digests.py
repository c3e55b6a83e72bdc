"""Email digests against a real SMTP server on loopback (aiosmtpd), parsed with `email`."""

import os
import signal
import subprocess
import sys
from datetime import date, datetime, timezone
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

from dailypapers.community.services import toggle_vote
from dailypapers.digests.models import DigestDelivery, Subscription
from dailypapers.digests.selection import closed_periods
from dailypapers.digests.sending import send_digests
from dailypapers.follows import services as follows
from dailypapers.papers.models import Author, Paper
from dailypapers.papers.periods import Period
from dailypapers.papers.records import DailyRecord, PaperRecord
from dailypapers.papers.services import upsert_papers
from dailypapers.search import services as search_services

from .helpers import database_url, make_user

DAY = Period("day", date(2026, 3, 16))  # a Monday
TOPICS = [
    ("2603.00001", "Diffusion models for video generation", "We generate videos with diffusion.", 50),
    ("2603.00002", "Reinforcement learning for robot arms", "Policies for grasping objects.", 40),
    ("2603.00003", "Large language model reasoning", "Chain of thought prompting for math.", 30),
    ("2603.00004", "Image diffusion with fewer steps", "Distilling diffusion samplers.", 5),
]


def load_day(*, embed: bool = False) -> None:
    at = datetime(2026, 3, 16, 9, tzinfo=timezone.utc)
    upsert_papers(records=[
        PaperRecord(arxiv_id=i, title=t, abstract=a, authors=["Ada Lovelace", "Alan Turing"], upvotes=u,
                    published_at=at, daily=DailyRecord(day=DAY.start, submitted_at=at))
        for i, t, a, u in TOPICS
    ])
    search_services.index_keywords(rebuild=True)
    if embed:
        search_services.embed_pending()


def confirmed(email: str, **fields) -> Subscription:
    return Subscription.objects.create(email=email, confirmed_at=datetime.now(timezone.utc), **fields)


def link_in(message, marker: str) -> str:
    text = message.get_body(("plain",)).get_content()
    url = next(word for word in text.split() if marker in word)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.django_db
def test_double_opt_in_then_one_multipart_digest_with_one_click_unsubscribe(client, smtp):
    load_day()
    response = client.post("/digest/subscribe", {"email": "Reader@Example.org", "frequency": "daily", "min_upvotes": 0})
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    (_, confirmation), = smtp.messages
    assert send_digests(period=DAY).sent == 0  # nothing before the link is clicked
    confirm_path = link_in(confirmation, "/digest/confirm/")
    assert client.get(confirm_path).status_code == 200  # a mail scanner's GET confirms nothing
    assert not Subscription.objects.filter(confirmed_at__isnull=False).exists()
    assert client.post(confirm_path).status_code == 200
    assert Subscription.objects.get().confirmed_at is not None

    stats = send_digests(period=DAY)
    assert (stats.sent, stats.already) == (1, 0)
    recipients, digest = smtp.messages[1]
    assert recipients == ["reader@example.org"]
    assert digest.get_content_type() == "multipart/alternative"
    text = digest.get_body(("plain",)).get_content()
    html = digest.get_body(("html",)).get_content()
    titles = [t for _, t, _, _ in TOPICS]
    assert [text.index(t) for t in titles] == sorted(text.index(t) for t in titles)  # by upvotes
    assert "▲ 50" in text and "Ada Lovelace, Alan Turing" in text and "http://127.0.0.1:8000/papers/2603.00001" in text
    assert "Diffusion models for video generation" in html
    unsubscribe = str(digest["List-Unsubscribe"]).strip()
    assert unsubscribe.startswith("<mailto:") and "<http://127.0.0.1:8000/digest/unsubscribe/" in unsubscribe
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert digest["Message-ID"] == f"<digest-{Subscription.objects.get().pk}-day-2026-03-16@127.0.0.1>"
    assert send_digests(period=DAY).already == 1 and len(smtp.messages) == 2

    # RFC 8058: the mail client POSTs, with no session and no CSRF token.
    one_click = "/" + unsubscribe.split("<http://", 1)[1].split("/", 1)[1].rstrip(">")
    response = Client(enforce_csrf_checks=True).post(one_click, "List-Unsubscribe=One-Click",
                                                     content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200 and Subscription.objects.get().unsubscribed_at is not None
    assert send_digests(period=Period("week", date(2026, 3, 16))).sent == 0
    assert Client().post("/digest/unsubscribe/forged-token").status_code == 400


@pytest.mark.django_db
def test_signed_in_verified_user_subscribes_in_one_click(smtp):
    user = get_user_model().objects.create_user("ada", "ada@example.org", "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email="ada@example.org", verified=True, primary=True)
    client = Client()
    client.force_login(user)
    assert 'value="ada@example.org"' in client.get("/digest/subscribe").content.decode()
    response = client.post("/digest/subscribe", {"email": "ada@example.org", "frequency": "weekly"})
    assert "You are subscribed" in response.content.decode()
    assert Subscription.objects.get().active and smtp.messages == []


@pytest.mark.django_db
def test_bad_subscribe_input_is_a_400(client):
    response = client.post("/digest/subscribe", {"email": "not-an-email", "frequency": "hourly"})
    assert response.status_code == 400 and not Subscription.objects.exists()
    assert client.post("/digest/confirm/forged").status_code == 400


@pytest.mark.django_db
def test_minimum_upvotes_topic_and_personal_choices(smtp):
    load_day(embed=True)
    paper_ids = [p for p, *_ in TOPICS]
    confirmed("votes@example.org", min_upvotes=35)
    confirmed("topic@example.org", topic="diffusion")
    user = get_user_model().objects.create_user("rob", "rob@example.org", "pw-long-enough-1")
    toggle_vote(user=user, paper=Paper.objects.create(arxiv_id="2602.00009", title="Robot grasping with deep RL",
                                                     abstract="Grasping policies for robot hands."))
    search_services.embed_pending()
    confirmed("rob@example.org", user=user, personal=True)
    assert send_digests(period=DAY).sent == 3

    def ids(address):
        (message,) = smtp.to(address)
        text = message.get_body(("plain",)).get_content()
        return sorted((text.index(f"/papers/{i}"), i) for i in paper_ids if f"/papers/{i}" in text)

    assert [i for _, i in ids("votes@example.org")] == ["2603.00001", "2603.00002"]
    assert {i for _, i in ids("topic@example.org")} == {"2603.00001", "2603.00004"}
    assert ids("rob@example.org")[0][1] == "2603.00002"  # nearest to the robot paper rob upvoted


@pytest.mark.django_db
def test_each_paper_has_its_best_summary_and_its_keywords_each_saying_where_it_came_from(smtp):
    load_day()
    Paper.objects.filter(arxiv_id="2603.00001").update(  # Hugging Face's summary wins over a model's
        ai_summary="Videos from diffusion, frame by frame & in \\$1 steps.",
        ai_keywords=[f"keyword {n}" for n in range(1, 9)],
        llm_summary="A model's summary, not shown.", llm_summary_model="qwen3-4b")
    Paper.objects.filter(arxiv_id="2603.00002").update(
        llm_summary="Robot arms learn to grasp <objects>.", llm_summary_model="qwen3-4b",
        extracted_keywords=["robot arms", "grasping"], keywords_model="all-MiniLM-L6-v2-onnx-int8")
    # 2603.00003 has neither: its abstract's first sentence stands in, saying so.
    reader = make_user("reader")
    follow, _ = follows.follow_author(user=reader, author=Author.objects.get(name="Ada Lovelace"))
    follows.set_digest(user=reader, follow=follow, digest=True)
    confirmed(reader.email, user=reader, min_upvotes=35)
    assert send_digests(period=DAY).sent == 1
    (digest,) = smtp.to(reader.email)
    text = digest.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP's line ends
    top, followed = text.split("From what you follow")
    assert top.split("\n\n")[1:3] == [
        "1. Diffusion models for video generation\n"
        "   Ada Lovelace, Alan Turing · ▲ 50\n"
        "   Videos from diffusion, frame by frame & in $1 steps. (summary: from Hugging Face)\n"
        "   keyword 1, keyword 2, keyword 3, keyword 4, keyword 5, keyword 6 (keywords: from Hugging Face)\n"
        "   http://127.0.0.1:8000/papers/2603.00001",
        "2. Reinforcement learning for robot arms\n"
        "   Ada Lovelace, Alan Turing · ▲ 40\n"
        "   Robot arms learn to grasp <objects>. (summary: generated by qwen3-4b)\n"
        "   robot arms, grasping (keywords: extracted by all-MiniLM-L6-v2-onnx-int8)\n"
        "   http://127.0.0.1:8000/papers/2603.00002",
    ]
    assert ("   - Reinforcement learning for robot arms\n"
            "     Robot arms learn to grasp <objects>. (summary: generated by qwen3-4b)\n"
            "     robot arms, grasping (keywords: extracted by all-MiniLM-L6-v2-onnx-int8)\n"
            "     http://127.0.0.1:8000/papers/2603.00002\n") in followed
    assert ("   - Large language model reasoning\n"
            "     Chain of thought prompting for math. (first sentence of the abstract)\n"
            "     http://127.0.0.1:8000/papers/2603.00003\n") in followed
    assert "not shown" not in text

    html = digest.get_body(("html",)).get_content()
    cards = {arxiv_id: card for card in html.split('<div style="border')[1:]
             for arxiv_id in [card.split("/papers/")[1].split('"')[0]]}
    assert "Videos from diffusion, frame by frame &amp; in $1 steps. <span" in cards["2603.00001"]
    assert "summary: from Hugging Face" in cards["2603.00001"] and "not shown" not in html
    assert cards["2603.00001"].count(">keyword ") == 6 and "keywords: from Hugging Face" in cards["2603.00001"]
    assert "Robot arms learn to grasp &lt;objects&gt;." in cards["2603.00002"]
    assert "summary: generated by qwen3-4b" in cards["2603.00002"] and ">grasping</span>" in cards["2603.00002"]
    assert "keywords: extracted by all-MiniLM-L6-v2-onnx-int8" in cards["2603.00002"]
    assert "Chain of thought prompting for math. <span" in cards["2603.00003"]
    assert "first sentence of the abstract" in cards["2603.00003"] and ">keyword" not in cards["2603.00003"]


@pytest.mark.django_db
def test_a_permanent_refusal_marks_the_address_inactive_and_a_temporary_one_retries(smtp):
    load_day()
    confirmed("gone@example.org")
    confirmed("busy@example.org")
    confirmed("fine@example.org")
    smtp.refuse = {"gone@example.org": "550 5.1.1 No such user", "busy@example.org": "451 4.2.1 Mailbox busy"}
    stats = send_digests(period=DAY)
    assert (stats.sent, stats.refused, stats.deferred) == (1, 1, 1)
    gone = Subscription.objects.get(email="gone@example.org")
    assert "550" in gone.inactive_reason and not gone.active
    smtp.refuse = {}
    stats = send_digests(period=DAY)
    assert (stats.sent, stats.already) == (1, 1)  # busy gets it now; gone is no longer asked
    assert len(smtp.to("busy@example.org")) == 1 and len(smtp.to("fine@example.org")) == 1


@pytest.mark.django_db(transaction=True)
def test_a_sender_killed_mid_run_and_run_again_sends_nobody_twice_and_misses_nobody(smtp, settings):
    load_day()
    addresses = [f"reader{i}@example.org" for i in range(8)]
    for address in addresses:
        confirmed(address)
    env = {**os.environ, "DATABASE_URL": database_url(), "DAILYPAPERS_DATA_DIR": str(settings.DATA_DIR),
           "SECRET_KEY": settings.SECRET_KEY, "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(settings.EMAIL_PORT),
           "DJANGO_SETTINGS_MODULE": "dailypapers.settings"}
    command = [sys.executable, "-m", "dailypapers.cli", "digest", "send", "--period", DAY.key, "--quiet"]
    sender = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    smtp.kill_the_sender_at_the_fourth_mail(pid=sender.pid)
    sender.wait(timeout=60)
    assert sender.returncode == -signal.SIGKILL
    assert len(smtp.messages) == 3
    assert DigestDelivery.objects.filter(status="sent").count() == 3

    smtp.before_accepting = None
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert rerun.returncode == 0, rerun.stderr
    assert "5 sent / 3 already sent" in rerun.stdout
    assert sorted(r[0] for r, _ in smtp.messages) == sorted(addresses)  # each exactly once


@pytest.mark.django_db
def test_digest_command():
    out = StringIO()
    load_day()
    confirmed("reader@example.org")
    with pytest.raises(CommandError, match="not a period"):
        call_command("digest", "send", "--period", "day:2026-02-30")
    call_command("digest", "send", "--period", DAY.key, "--quiet", stdout=out)
    assert out.getvalue().strip() == (
        f"digest {DAY.key}: 1 sent / 0 already sent / 0 with nothing to send / 0 refused (marked inactive) / 0 deferred"
    )


def test_closed_periods_skip_weekends_and_follow_the_rollover():
    # Tuesday 2026-03-17 10:00 New York: Monday's list has closed; last week was W11.
    tuesday = datetime(2026, 3, 17, 14, tzinfo=timezone.utc)
    assert [p.key for p in closed_periods(now=tuesday)] == ["day:2026-03-16", "week:2026-W11"]
    monday = datetime(2026, 3, 16, 14, tzinfo=timezone.utc)
    assert closed_periods(now=monday)[0].key == "day:2026-03-13"  # Friday, not the weekend
