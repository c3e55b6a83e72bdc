"""HTML compression (gzip) for the site's pages, with the BREACH attack in mind.

BREACH recovers a secret from a compressed HTTPS response that also reflects the attacker's
input, by watching the compressed length as the guess improves. What protects us:

- CSRF tokens: Django masks the token in every page (a fresh random mask per response, since
  Django 1.10), so the bytes in the HTML differ each time and there is nothing stable to guess.
- Django's GZipMiddleware adds a random-length (0-100 byte) filename to each gzip stream
  ("Heal The Breach", Django 4.2), so lengths vary from response to response.
- The session cookie is a header, never in a body; the login and vote limits (allauth,
  django-ratelimit) cap the thousands of requests the attack needs.
- Responses that say `Cache-Control: no-store` are the ones that show a secret once (a newly
  created API token, a digest's manage page reached by its signed link): those are sent
  uncompressed, whatever else they hold.

Static files are compressed ahead of time by whitenoise (.gz/.br); this middleware only
compresses pages and feeds (COMPRESSED_TYPES).
"""

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware

# What is compressed: pages and feeds. JSON (the API) and markdown are left as they are: their
# clients are programs, some of which (a WSGI test transport, for one) do not decode gzip.
COMPRESSED_TYPES = ("text/html", "application/rss+xml", "application/atom+xml")


class CompressPages(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if "no-store" in response.get("Cache-Control", ""):
            return response
        if response.get("Content-Type", "").split(";")[0].strip() not in COMPRESSED_TYPES:
            return response
        return super().process_response(request, response)
