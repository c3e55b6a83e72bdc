"""Issue 8 items 6, 11 and 17: the admin signs in through the site's throttled login; sign-up
and password reset do not tell whether an address is registered; an attacker's failed logins
do not lock the account's owner out. Mails are read from a real SMTP server (`smtp` fixture)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client

User = get_user_model()
PASSWORD = "pw-long-enough-1"
ATTACKER, OWNER = "10.0.0.1", "10.0.0.2"


def make_user(username: str, *, staff: bool = False) -> User:
    user = User.objects.create_user(username, f"{username}@example.org", PASSWORD, is_staff=staff, is_superuser=staff)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def log_in(client: Client, login: str, password: str, **extra):
    return client.post("/accounts/login/", {"login": login, "password": password, **extra})


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def throttled(response) -> bool:
    return response.status_code == 429 or "Too many failed login attempts" in response.content.decode()


# --- item 17: per client and per account ------------------------------------------------------

@pytest.mark.django_db
def test_an_attackers_failures_do_not_lock_the_owner_out_but_lock_the_attacker_out():
    make_user("carol")
    attacker = Client(REMOTE_ADDR=ATTACKER)
    answers = [log_in(attacker, "carol", f"wrong-{i}") for i in range(6)]
    assert [throttled(a) for a in answers] == [False] * 5 + [True]

    owner = Client(REMOTE_ADDR=OWNER)
    assert log_in(owner, "carol", PASSWORD).status_code == 302 and signed_in(owner)

    # The attacker stays locked out, even with the right password, and by address after ten tries.
    assert throttled(log_in(attacker, "carol", PASSWORD)) and not signed_in(attacker)
    for i in range(3):
        log_in(attacker, "carol", f"wrong-again-{i}")
    eleventh = log_in(attacker, "someone-else", "wrong")
    assert throttled(eleventh) and not signed_in(attacker)


@pytest.mark.django_db
def test_failures_from_many_addresses_hit_the_account_wide_limit(settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_account": "8/h/key"}
    make_user("carol")
    for i in range(8):  # a guess spread over many addresses, each under its own limit
        assert not throttled(log_in(Client(REMOTE_ADDR=f"10.9.0.{i}"), "carol", f"wrong-{i}"))
    late = Client(REMOTE_ADDR="10.9.1.1")
    assert throttled(log_in(late, "carol", PASSWORD)) and not signed_in(late)
    # Successful logins are not failures: they never use up the account-wide limit.
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed_account": "2/h/key"}
    make_user("dave")
    for i in range(3):
        assert log_in(Client(REMOTE_ADDR=f"10.8.0.{i}"), "dave", PASSWORD).status_code == 302


# --- item 6: the admin login ------------------------------------------------------------------

@pytest.mark.django_db
def test_the_admin_login_is_the_sites_throttled_login():
    make_user("root", staff=True)
    attacker = Client(REMOTE_ADDR=ATTACKER)
    # Django's own admin login form takes no password any more: it sends everyone to the site's login.
    response = attacker.post("/admin/login/?next=/admin/", {"username": "root", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=%2Fadmin%2F"
    assert not signed_in(attacker)

    for i in range(25):
        log_in(attacker, "root", f"wrong-{i}", next="/admin/")
        attacker.post("/admin/login/?next=/admin/", {"username": "root", "password": f"wrong-{i}"})
    right = log_in(attacker, "root", PASSWORD, next="/admin/")
    assert throttled(right) and not signed_in(attacker)
    assert attacker.get("/admin/").status_code == 302

    staff = Client(REMOTE_ADDR=OWNER)
    response = log_in(staff, "root", PASSWORD, next="/admin/")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert staff.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_a_signed_in_user_who_is_not_staff_cannot_reach_the_admin_login():
    client = Client()
    client.force_login(make_user("eve"))
    assert client.get("/admin/login/").status_code == 403
    assert client.get("/admin/").status_code == 302  # Django's admin still sends non-staff to its login


# --- item 11: no enumeration of registered addresses ------------------------------------------

def _sign_up(email: str, username: str):
    client = Client()
    response = client.post("/accounts/signup/", {
        "email": email, "username": username, "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9",
    }, follow=True)
    return client, response


def _page(response, typed_address: str) -> str:
    """The page without its CSRF token and with the address the visitor typed (it is echoed) blanked."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
    return re.sub(re.escape(typed_address), "ADDRESS", html, flags=re.IGNORECASE)


@pytest.mark.django_db
def test_signing_up_with_a_registered_address_looks_like_any_sign_up_and_mails_the_owner(smtp):
    make_user("carol")
    _, fresh = _sign_up("new@example.org", "newcomer")
    _, taken = _sign_up("Carol@Example.org", "impostor")
    assert fresh.redirect_chain == taken.redirect_chain == [("/accounts/confirm-email/", 302)]
    assert fresh.status_code == taken.status_code == 200
    assert _page(fresh, "new@example.org") == _page(taken, "carol@example.org")
    assert "already registered" not in taken.content.decode()

    assert not User.objects.filter(username="impostor").exists()
    assert User.objects.filter(email__iexact="carol@example.org").count() == 1
    (owner_mail,) = smtp.to("carol@example.org")
    assert "already exists" in owner_mail.get_body(("plain",)).get_content()
    (newcomer_mail,) = smtp.to("new@example.org")
    assert "/accounts/confirm-email/" in newcomer_mail.get_body(("plain",)).get_content()


@pytest.mark.django_db
def test_a_new_account_signs_in_only_after_its_address_is_verified(smtp):
    client, response = _sign_up("new@example.org", "newcomer")
    assert not signed_in(client)
    response = log_in(client, "newcomer", "a-long-pass-phrase-9")
    assert response["Location"] == "/accounts/confirm-email/" and not signed_in(client)
    link = re.search(
        r"https?://\S+/accounts/confirm-email/\S+/", smtp.messages[0][1].get_body(("plain",)).get_content()
    )[0]
    assert client.post("/" + link.split("://", 1)[1].split("/", 1)[1]).status_code == 302
    assert signed_in(client)


@pytest.mark.django_db
def test_a_password_reset_answers_alike_for_a_known_and_an_unknown_address(smtp):
    make_user("carol")
    known = Client().post("/accounts/password/reset/", {"email": "carol@example.org"}, follow=True)
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.org"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain and known.status_code == unknown.status_code == 200
    assert _page(known, "carol@example.org") == _page(unknown, "nobody@example.org")
    assert [r for r, _ in smtp.messages] == [["carol@example.org"], ["nobody@example.org"]]
