from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from dailypapers.community.services import Refused, ensure_can_post
from dailypapers.views import bad_request, forbidden, limit_posts

from . import manage as managing
from . import services
from .forms import ManageForm, SubscribeForm
from .models import Subscription

_EXPIRED = "This confirmation link is invalid or older than 7 days. Subscribe again."


@limit_posts("RATE_DIGEST_SUBSCRIBE")
def subscribe(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"email": user.email} if user.is_authenticated else {}
    form = SubscribeForm(request.POST or None, initial=initial)
    if not user.is_authenticated:
        del form.fields["personal"]  # nearest to what *I* upvoted: only for a signed-in reader
    if request.method == "POST" and user.is_authenticated:  # issue 8: a banned account does not subscribe
        try:
            ensure_can_post(user)
        except Refused as exc:
            return forbidden(request, reason=str(exc))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subscription = services.request_subscription(
            email=data["email"], frequency=data["frequency"], topic=data["topic"],
            min_upvotes=data["min_upvotes"] or 0, personal=data.get("personal", False), user=user,
        )
        # Anyone but the verified owner gets one page, whatever the address: it tells nothing.
        return render(request, "digests/subscribed.html", {"subscription": subscription})
    # A signed-in reader sees the digests they have already (each with its manage page).
    mine = Subscription.objects.filter(user=user).order_by("frequency", "topic") if user.is_authenticated else []
    links = [(s, services.unsubscribe_token(s)) for s in mine]
    return render(request, "digests/subscribe.html", {"form": form, "mine": links}, status=400 if form.errors else 200)


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    requested = services.requested_settings(token=token)
    if requested is None:
        return bad_request(request, reason=_EXPIRED)
    if request.method != "POST":
        # Mail scanners follow links: confirming takes a click on the button of this page.
        frequency = Subscription.Frequency(requested["frequency"]).label
        return render(request, "digests/confirm.html", {"requested": requested, "frequency": frequency})
    subscription = services.confirm(token=token)
    return render(request, "digests/confirmed.html", {"subscription": subscription})


@csrf_exempt  # RFC 8058 one-click: mail clients POST here with no session and no CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        # A used link says so, and offers the manage page (resubscribe) instead of the button.
        subscription = managing.subscription_for(token=token)
        if subscription is None:
            return bad_request(request, reason="This unsubscribe link is invalid.")
        return _private(render(request, "digests/unsubscribe.html", {"token": token, "subscription": subscription}))
    subscription = services.unsubscribe(token=token)
    if subscription is None:
        return bad_request(request, reason="This unsubscribe link is invalid.")
    return render(request, "digests/unsubscribed.html", {"subscription": subscription})


def _private(response: HttpResponse) -> HttpResponse:
    # The page holds the signed link: kept out of caches, and sent uncompressed (compression.py).
    response["Cache-Control"] = "no-store, private"
    return response


@limit_posts("RATE_DIGEST_SUBSCRIBE")
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The page every digest links to: the subscription's settings, unsubscribe, resubscribe."""
    subscription = managing.subscription_for(token=token)
    if subscription is None:
        return bad_request(request, reason="This link to manage a digest is invalid.")
    form = ManageForm(request.POST or None, initial={
        "frequency": subscription.frequency, "topic": subscription.topic, "min_upvotes": subscription.min_upvotes})
    notice, status = "", 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "unsubscribe":
            services.unsubscribe(token=token)
            notice = "Unsubscribed: no more digests are sent to this address."
        elif action == "resubscribe":
            managing.resubscribe(subscription=subscription)
            notice = "Subscribed again: the next digest comes as before."
        elif form.is_valid():
            data = form.cleaned_data
            try:
                managing.change_subscription(subscription=subscription, frequency=data["frequency"],
                                             topic=data["topic"], min_upvotes=data["min_upvotes"] or 0)
                notice = "Saved."
            except managing.ManageRefused as exc:
                form.add_error(None, str(exc))
        if form.errors:
            status = 400
        subscription.refresh_from_db()
    context = {"subscription": subscription, "form": form, "token": token, "notice": notice}
    return _private(render(request, "digests/manage.html", context, status=status))
