from django.urls import path

from . import token_views

app_name = "tokens"

urlpatterns = [
    path("tokens", token_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke", token_views.revoke, name="revoke"),
]
