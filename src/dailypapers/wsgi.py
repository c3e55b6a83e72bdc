import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
application = get_wsgi_application()

# Each web worker loads the query embedder as it starts, on an embedding thread: loading it took longer
# than a search's embedding timeout, so the first search of every worker answered on keywords alone.
from dailypapers.search.selectors import load_query_embedder  # noqa: E402 - needs the settings above

load_query_embedder()
