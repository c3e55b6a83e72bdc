"""Issue 8 items 4 and 5: a digest subscription changes only through the link mailed to its
address (or by its verified owner), the reply tells nothing about the address, and neither one
address nor one client can make the site send mail without limit. Mails are read from a real
SMTP server on loopback (the `smtp` fixture)."""

import re
from datetime import datetime, timezone

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

from dailypapers.digests.models import Subscription

VICTIM = "victim@example.org"


def confirmed(email: str, **fields) -> Subscription:
    return Subscription.objects.create(email=email, confirmed_at=datetime(2026, 3, 1, tzinfo=timezone.utc), **fields)


def subscribe(client: Client, email: str, **fields):
    return client.post("/digest/subscribe", {"email": email, "frequency": "daily", "min_upvotes": 0, **fields})


def confirm_link(message) -> str:
    text = message.get_body(("plain",)).get_content()
    url = next(word for word in text.split() if "/digest/confirm/" in word)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def snapshot(subscription: Subscription) -> tuple:
    subscription.refresh_from_db()
    return (subscription.min_upvotes, subscription.personal, subscription.user_id, subscription.confirmed_at,
            subscription.unsubscribed_at, subscription.inactive_reason)


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def make_user(username: str, email: str, *, verified: bool):
    user = get_user_model().objects.create_user(username, email, "pw-long-enough-1")
    EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
    return user


@pytest.mark.django_db
def test_an_anonymous_resubscribe_changes_nothing_until_the_mailed_link_is_confirmed(client, smtp):
    victim = confirmed(VICTIM)
    before = snapshot(victim)
    response = subscribe(client, "Victim@Example.org", min_upvotes=10000)
    assert response.status_code == 200 and "Check your inbox" in response.content.decode()
    assert snapshot(victim) == before and Subscription.objects.count() == 1

    (recipients, mail), = smtp.messages
    assert recipients == [VICTIM]
    link = confirm_link(mail)
    page = client.get(link)  # a mail scanner following the link changes nothing either
    assert page.status_code == 200 and "at least 10000 upvotes" in page.content.decode()
    assert snapshot(victim) == before

    assert client.post(link).status_code == 200  # the address's owner says yes
    victim.refresh_from_db()
    assert victim.min_upvotes == 10000 and victim.active and Subscription.objects.count() == 1


@pytest.mark.django_db
def test_an_anonymous_request_does_not_bring_back_an_unsubscribed_address(client, smtp):
    gone = confirmed(VICTIM, unsubscribed_at=datetime(2026, 3, 2, tzinfo=timezone.utc))
    before = snapshot(gone)
    subscribe(client, VICTIM)
    assert snapshot(gone) == before and not gone.active
    assert client.post(confirm_link(smtp.messages[0][1])).status_code == 200
    gone.refresh_from_db()
    assert gone.active


@pytest.mark.django_db
def test_the_reply_is_the_same_for_a_subscribed_and_an_unknown_address(smtp):
    confirmed(VICTIM)
    known, unknown = subscribe(Client(), VICTIM), subscribe(Client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert without_csrf(known.content.decode()) == without_csrf(unknown.content.decode())
    assert sorted(known.headers) == sorted(unknown.headers)
    assert [r for r, _ in smtp.messages] == [[VICTIM], ["nobody@example.org"]]
    assert smtp.messages[0][1].get_body(("plain",)).get_content().replace(
        confirm_link(smtp.messages[0][1]), "") == smtp.messages[1][1].get_body(("plain",)).get_content().replace(
        confirm_link(smtp.messages[1][1]), "")  # the mail does not say either


@pytest.mark.django_db
def test_a_signed_in_user_cannot_attach_or_change_someone_elses_subscription(smtp):
    victim = confirmed(VICTIM)
    before = snapshot(victim)
    mallory = make_user("mallory", "mallory@example.org", verified=True)
    EmailAddress.objects.create(user=mallory, email=VICTIM, verified=False)  # added, never verified
    client = Client()
    client.force_login(mallory)
    response = subscribe(client, VICTIM, min_upvotes=10000, personal="on")
    assert "Check your inbox" in response.content.decode()
    assert snapshot(victim) == before

    # Even when the owner confirms the mailed link, the account that asked gets nothing.
    assert Client().post(confirm_link(smtp.messages[0][1])).status_code == 200
    victim.refresh_from_db()
    assert victim.user_id is None and victim.personal is False and victim.min_upvotes == 10000


@pytest.mark.django_db
def test_the_verified_owner_changes_their_own_subscription_at_once_and_ties_it_to_the_account(smtp):
    victim = confirmed(VICTIM)
    owner = make_user("vic", VICTIM, verified=True)
    client = Client()
    client.force_login(owner)
    response = subscribe(client, VICTIM, min_upvotes=7, personal="on")
    assert "You are subscribed" in response.content.decode()
    victim.refresh_from_db()
    assert (victim.user_id, victim.personal, victim.min_upvotes) == (owner.pk, True, 7) and smtp.messages == []


@pytest.mark.django_db
def test_a_forged_or_tampered_link_is_refused(client, smtp):
    subscribe(client, "reader@example.org")
    link = confirm_link(smtp.messages[0][1])
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    for path in (tampered, "/digest/confirm/forged"):
        assert client.get(path).status_code == 400
        assert client.post(path).status_code == 400
    assert not Subscription.objects.exists()


@pytest.mark.django_db
def test_one_address_gets_at_most_the_hourly_number_of_mails_and_never_the_requesters_text(smtp, settings):
    topic = "BUY CHEAP PILLS at spam.example " * 7 + "x" * 26
    assert len(topic) == 250
    replies = set()
    for i in range(15):  # fifteen clients, one address
        response = subscribe(Client(REMOTE_ADDR=f"10.1.0.{i}"), VICTIM, topic=topic)
        assert response.status_code == 200
        replies.add(without_csrf(response.content.decode()))
    assert len(replies) == 1  # past the limit the reply is the same: it reveals nothing
    assert len(smtp.to(VICTIM)) == settings.DIGEST_MAILS_PER_ADDRESS_PER_HOUR == 3
    for _, mail in smtp.messages:
        text = mail.as_string()
        assert "PILLS" not in text and "spam.example" not in text and "PILLS" not in str(mail["Subject"])
    # The topic is what the owner confirms, on the site, not in the mail.
    assert "BUY CHEAP PILLS" in Client().get(confirm_link(smtp.messages[0][1])).content.decode()


@pytest.mark.django_db
def test_one_client_is_refused_with_a_429_after_its_limit(smtp, settings):
    client = Client(REMOTE_ADDR="10.2.0.1")
    codes = [subscribe(client, f"reader{i}@example.org").status_code for i in range(11)]
    assert codes == [200] * 10 + [429]
    assert len(smtp.messages) == 10
    assert Client(REMOTE_ADDR="10.2.0.2").post("/digest/subscribe", {"email": "other@example.org",
                                                                     "frequency": "daily"}).status_code == 200
