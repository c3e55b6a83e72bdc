#!/usr/bin/env python3
"""Screenshots of the main pages at 390 and 1280 px, signed out and in, light and dark, into
docs/screenshots/ (PNG, the visible screen only, reduced to a 256-colour palette).

    .venv/bin/python scripts/screenshots.py

In a throwaway data dir: migrate, collectstatic, the bundled demo (real papers; their
organizations' logos are not mirrored without network, so they show initials), a user, then
`dailypapers serve` on a free loopback port and Debian's chromium through Playwright.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("DAILYPAPERS_CHROMIUM", "/usr/bin/chromium")


def main() -> None:
    data = tempfile.mkdtemp(prefix="dp-shots-")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DAILYPAPERS_DATA_DIR": data, "SECRET_KEY": "screenshots-" + "x" * 40,
           "DAILYPAPERS_LOG_LEVEL": "WARNING", "DAILYPAPERS_BASE_URL": f"http://127.0.0.1:{port}"}
    run = lambda *args: subprocess.run([str(BIN / "dailypapers"), *args], env=env, check=True, capture_output=True)  # noqa: E731
    run("migrate", "--no-input")
    run("collectstatic", "--no-input")
    run("demo")
    run("shell", "-c", "from django.contrib.auth import get_user_model;"
        "from allauth.account.models import EmailAddress;"
        "u = get_user_model().objects.create_user('ada', 'ada@example.org', 'correct horse battery');"
        "EmailAddress.objects.create(user=u, email=u.email, verified=True, primary=True);"
        # A few upvotes on papers about language models, so For you has interests to rank by.
        "from dailypapers.community.services import toggle_vote;"
        "from dailypapers.papers.models import Paper;"
        "[toggle_vote(user=u, paper=p) for p in Paper.objects.filter(title__icontains='language model')[:6]]")
    ids = subprocess.run([str(BIN / "dailypapers"), "shell", "-c",
                          "from dailypapers.papers.models import Paper, Organization;"
                          "from django.db.models import Count;"
                          "p = Paper.objects.filter(daily_entries__isnull=False).exclude(organization=None)"
                          ".order_by('-upvotes').first();"
                          "o = Organization.objects.annotate(n=Count('papers')).order_by('-n').first();"
                          "print('IDS', p.arxiv_id, o.slug)"],
                         env=env, check=True, capture_output=True, text=True).stdout.split("IDS")[-1].split()
    serve = [str(BIN / "dailypapers"), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    server = subprocess.Popen(serve,
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/papers", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        shoot(base, paper=ids[0], org=ids[1])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


PAGES = {"daily": "/papers", "paper": "/papers/{paper}", "search": "/papers?q=diffusion+distillation",
         "login": "/accounts/login/", "organization": "/organizations/{org}", "for-you": "/papers/for-you"}
SHOTS = [  # (name suffix, signed in, colour scheme, pages)
    ("", False, "light", [name for name in PAGES if name != "for-you"]),
    ("-signed-in", True, "light", ["daily", "paper", "for-you"]),
    ("-dark", False, "dark", ["daily", "paper", "login"]),
    ("-dark-signed-in", True, "dark", ["paper"]),
]


def shoot(base: str, *, paper: str, org: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-background-networking"])
        for width, height in ((1280, 900), (390, 844)):
            for suffix, signed_in, scheme, names in SHOTS:
                context = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme)
                page = context.new_page()
                if signed_in:
                    page.goto(f"{base}/accounts/login/")
                    page.fill("#id_login", "ada")
                    page.fill("#id_password", "correct horse battery")
                    page.click("main button[type=submit]")
                    page.wait_for_url("**/papers")
                for name in names:
                    page.goto(base + PAGES[name].format(paper=paper, org=org))
                    page.wait_for_load_state("networkidle")
                    file = OUT / f"{name}{suffix}-{width}.png"
                    page.screenshot(path=str(file))
                    with Image.open(file) as image:
                        image.convert("RGB").quantize(256).save(file, optimize=True)
                    print(file.relative_to(ROOT), file.stat().st_size)
                context.close()
        browser.close()


if __name__ == "__main__":
    main()
