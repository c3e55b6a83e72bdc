# gunicorn settings for a dailypapers web node (systemd: dailypapers-web.service).
#   gunicorn --config /etc/dailypapers/gunicorn.conf.py dailypapers.wsgi:application
# `dailypapers serve` starts gunicorn with the same essentials from its own options; use this file
# when gunicorn is started directly. Values from the environment win, as with `serve`.
import multiprocessing
import os

bind = f"{os.environ.get('DAILYPAPERS_HOST', '127.0.0.1')}:{os.environ.get('DAILYPAPERS_PORT', '8000')}"
# Sync workers: a page is rendered in a few ms and cached; search embeds the query in-process.
# Two per core is plenty (each web worker holds the search indexes' pages and the query embedder).
# One BLAS thread per web worker, as `serve` sets (see cli.py): set here, before the app loads numpy.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = 30            # a request still running after 30 s is killed and its worker replaced
graceful_timeout = 20   # on stop/restart, requests in flight get this long
keepalive = 5           # behind nginx's keepalive upstream connections
max_requests = 5000     # recycle workers now and then (bounded memory growth), with jitter
max_requests_jitter = 500
# gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl): several
# instances on one host would share it, and nothing uses it.
control_socket_disable = True
# The proxy in front (nginx, on this host) sets X-Forwarded-For/-Proto; Django reads them through
# DAILYPAPERS_TRUSTED_PROXY_COUNT=1, so gunicorn need not trust anyone else's headers.
forwarded_allow_ips = "127.0.0.1"
accesslog = "-" if os.environ.get("DAILYPAPERS_ACCESS_LOG") == "1" else None
errorlog = "-"
