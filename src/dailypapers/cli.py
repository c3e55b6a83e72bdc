"""The `dailypapers` command: Django's management commands, plus `serve`.

    dailypapers serve [--host H] [--port P] [--workers N]   gunicorn, plus the background indexer
    dailypapers index [--rebuild] [--watch]                  search indexes and paper vectors
    dailypapers ingest SOURCE ...                            see `dailypapers ingest --help`
    dailypapers demo [--if-empty]                            load the bundled demo days
    dailypapers migrate | createsuperuser | ...              any Django management command
"""

import argparse
import os
import subprocess
import sys


def gunicorn_argv(*, host: str, port: int, workers: int, access_log: bool) -> list[str]:
    return [
        "gunicorn", "dailypapers.wsgi:application",
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        # gunicorn's control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), so
        # every `serve` on the host would share (and take over) it; nothing here uses it.
        "--no-control-socket",
        # Access logs cost ~5% of a cached page; DAILYPAPERS_ACCESS_LOG=1 turns them on.
        *(["--access-logfile", "-"] if access_log else []),
    ]


def _serve(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="dailypapers serve", description="Serve the site with gunicorn.")
    parser.add_argument("--host", default=os.environ.get("DAILYPAPERS_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAILYPAPERS_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    parser.add_argument(
        "--no-background", action="store_true",
        help="don't run the background jobs (`index --watch`, `digest schedule`) beside the web workers",
    )
    args = parser.parse_args(argv)
    # Settings fail early (e.g. no SECRET_KEY) with their own message, not inside a worker.
    import django

    django.setup()
    from gunicorn.app.wsgiapp import run

    sys.argv = gunicorn_argv(
        host=args.host, port=args.port, workers=args.workers,
        access_log=os.environ.get("DAILYPAPERS_ACCESS_LOG") == "1",
    )
    print(f"dailypapers: serving on http://{args.host}:{args.port}/papers", file=sys.stderr)
    # The background jobs: the indexer embeds new papers and keeps both search indexes
    # current; the digest scheduler mails each closed day and week once. One of each per
    # site (with several web machines, run them on one only).
    jobs = [] if args.no_background else [
        subprocess.Popen([sys.executable, "-m", "dailypapers.cli", *job])
        for job in (["index", "--watch", "--quiet"], ["digest", "schedule"])
    ]
    try:
        run()
    finally:
        for job in jobs:
            job.terminate()
        for job in jobs:
            job.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        if argv and argv[0] == "serve":
            _serve(argv[1:])
            return
        from django.core.management import execute_from_command_line

        execute_from_command_line(["dailypapers", *argv])
    except ImproperlyConfigured as exc:
        sys.exit(f"dailypapers: error: {exc}")


if __name__ == "__main__":
    main()
