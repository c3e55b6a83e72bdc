from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt

from dailypapers.community.services import ensure_can_post
from dailypapers.errors import Refused
from dailypapers.views import limit_posts

from . import subscriptions as services
from .forms import SubscribeForm
from .models import Subscription

_EXPIRED = "This confirmation link is invalid or older than 7 days. Subscribe again."


@limit_posts("RATE_DIGEST_SUBSCRIBE")
def subscribe(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"email": user.email} if user.is_authenticated else {}
    form = SubscribeForm(request.POST or None, initial=initial)
    if request.method == "POST" and user.is_authenticated:  # issue 8: a banned account does not subscribe (403)
        ensure_can_post(user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subscription = services.request_subscription(
            email=data["email"], frequency=data["frequency"], topic=data["topic"],
            min_upvotes=data["min_upvotes"] or 0, personal=data["personal"], user=user,
        )
        # Anyone but the verified owner gets one page, whatever the address: it tells nothing.
        return render(request, "digests/subscribed.html", {"subscription": subscription})
    return render(request, "digests/subscribe.html", {"form": form}, status=400 if form.errors else 200)


def confirm(request: HttpRequest, token: str) -> HttpResponse:
    requested = services.requested_settings(token=token)
    if requested is None:
        raise Refused(_EXPIRED)
    if request.method != "POST":
        # Mail scanners follow links: confirming takes a click on the button of this page.
        frequency = Subscription.Frequency(requested["frequency"]).label
        return render(request, "digests/confirm.html", {"requested": requested, "frequency": frequency})
    subscription = services.confirm(token=token)
    return render(request, "digests/confirmed.html", {"subscription": subscription})


@csrf_exempt  # RFC 8058 one-click: mail clients POST here with no session and no CSRF token
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    if request.method != "POST":
        return render(request, "digests/unsubscribe.html", {"token": token})
    subscription = services.unsubscribe(token=token)
    if subscription is None:
        raise Refused("This unsubscribe link is invalid.")
    return render(request, "digests/unsubscribed.html", {"subscription": subscription})
