"""Login throttling on top of django-allauth (wired by ACCOUNT_ADAPTER).

allauth's "login_failed" limit counts failures per login name, so anyone could lock an
account out for minutes from anywhere with a handful of wrong passwords. Here the per-name
limit counts failures per (login name, client address) instead: an attacker's failures lock
out the attacker, not the owner. A much higher limit per login name, over all clients
("login_failed_account" in ACCOUNT_RATE_LIMITS), still slows down a guess spread over many
addresses.
"""

from dataclasses import dataclass

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from allauth.core import ratelimit
from django.conf import settings

ACCOUNT_WIDE_FAILURES = "login_failed_account"


@dataclass(frozen=True)
class _Site:
    """What allauth's mails call the site: its name (not the host, which allauth uses without
    django.contrib.sites) and the host it is served on."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        domain = request.get_host() if request is not None else settings.BASE_URL.split("://")[-1]
        super().send_mail(template_prefix, email, {**context, "current_site": _Site(settings.SITE_NAME, domain)})

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # The one key allauth uses to count, roll back (after a success) and clear (after a
        # password reset) the per-name failures: with the client in it they apply per pair.
        return f"{self._login_name_key(request, **credentials)}@{self.get_client_ip(request)}"

    def pre_authenticate(self, request, **credentials) -> None:
        super().pre_authenticate(request, **credentials)
        if not ratelimit.consume(request, action=ACCOUNT_WIDE_FAILURES,
                                 key=self._login_name_key(request, **credentials), dry_run=True):
            raise self.validation_error("too_many_login_attempts")

    def authentication_failed(self, request, **credentials) -> None:
        super().authentication_failed(request, **credentials)
        # Only a failure counts here, so the owner's own successful logins never add up.
        ratelimit.consume(request, action=ACCOUNT_WIDE_FAILURES, key=self._login_name_key(request, **credentials))

    def _login_name_key(self, request, **credentials) -> str:
        return super()._get_login_attempts_cache_key(request, **credentials)
