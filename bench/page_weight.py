#!/usr/bin/env python3
"""Page weight of the main pages: the bytes a browser downloads for each, HTML and its CSS/JS.

    python bench/page_weight.py [--src DIR] [--label NAME]

--src: the src/ folder of the code to measure (default: this checkout's), so the same script
measures an older commit too (`git archive <commit> src | tar -x -C /tmp/old` then --src /tmp/old/src).

In a throwaway data dir: migrate, collectstatic (whitenoise writes the .gz files it serves), the
bundled demo (2,867 real papers over 120 days). Then, with Django's test client and
`Accept-Encoding: gzip`, for each page: the HTML as sent (compressed or not, as the server chose),
the HTML uncompressed, and the stylesheets and scripts the page loads (their .gz as whitenoise
serves them; KaTeX counts only where the page fetches it: always when base.html links it, else
when the page holds marked maths, which is when site.js fetches it). Prints a table and writes
bench/results/page_weight_<label>.json. Never fails on size.
"""

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--src", default=str(HERE.parent / "src"))
    parser.add_argument("--label", default="after")
    args = parser.parse_args()
    sys.path.insert(0, args.src)
    data = tempfile.mkdtemp(prefix="dp-weight-")
    os.environ.update(DAILYPAPERS_DATA_DIR=data, SECRET_KEY="bench-" + "x" * 44, ALLOWED_HOSTS="testserver",
                      DJANGO_SETTINGS_MODULE="dailypapers.settings", DAILYPAPERS_LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count
    from django.test import Client

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    call_command("demo", verbosity=0)
    from dailypapers.papers.models import DailyEntry, Organization, Paper

    days = list(DailyEntry.objects.values_list("day", flat=True).distinct().order_by("day"))
    by_month, by_week = {}, {}
    for day in days:
        n = DailyEntry.objects.filter(day=day).count()
        by_month[day.strftime("%Y-%m")] = by_month.get(day.strftime("%Y-%m"), 0) + n
        year, week, _ = day.isocalendar()
        by_week[f"{year}-W{week:02d}"] = by_week.get(f"{year}-W{week:02d}", 0) + n
    month = max(by_month, key=by_month.get)
    week = max(by_week, key=by_week.get)
    listed = Paper.objects.filter(daily_entries__isnull=False)
    # A paper whose maths the site marks (pandoc's rule; a bare "$" in prose is not maths).
    from dailypapers.papers.templatetags.papertext import math

    with_math = next((p for p in Paper.objects.order_by("arxiv_id")
                      if 'class="tex"' in math(p.abstract) + math(p.title) + math(p.ai_summary)), None)
    without_math = listed.exclude(abstract__contains="$").exclude(title__contains="$").order_by("arxiv_id").first()
    org = Organization.objects.annotate(n=Count("papers")).order_by("-n").first()
    pages = {
        "daily (latest day)": "/papers",
        f"week {week} ({by_week[week]} listed)": f"/papers/week/{week}",
        f"month {month} ({by_month[month]} listed)": f"/papers/month/{month}",
        "paper without maths": f"/papers/{without_math.arxiv_id}",
        **({"paper with maths": f"/papers/{with_math.arxiv_id}"} if with_math else {}),
        "search 'diffusion'": "/papers?q=diffusion",
        "trending": "/papers/trending",
        f"organization {org.slug}": f"/organizations/{org.slug}",
        "log in": "/accounts/login/",
    }
    static_root = Path(settings.STATIC_ROOT)
    client = Client(HTTP_ACCEPT_ENCODING="gzip")
    rows = []
    for name, url in pages.items():
        response = client.get(url)
        wire = response.content
        html = gzip.decompress(wire) if response.get("Content-Encoding") == "gzip" else wire
        text = html.decode()
        assets = re.findall(r'<(?:script[^>]*\bsrc|link[^>]*rel="stylesheet"[^>]*\bhref)="([^"]+)"', text)
        if 'class="tex"' in text:
            assets += re.findall(r'data-katex-(?:js|css)="([^"]+)"', text)
        asset_wire = 0
        for asset in assets:
            prefix = settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL
            path = static_root / asset.removeprefix(prefix)
            gz = path.with_name(path.name + ".gz")
            asset_wire += (gz if gz.exists() else path).stat().st_size
        rows.append({"page": name, "url": url, "status": response.status_code, "html_bytes": len(html),
                     "html_sent_bytes": len(wire), "html_compressed": response.get("Content-Encoding") == "gzip",
                     "cards": text.count('<article class="card"'), "assets": len(assets),
                     "assets_sent_bytes": asset_wire, "total_sent_bytes": len(wire) + asset_wire})
    print(f"{'page':40} {'status':>6} {'cards':>5} {'HTML':>10} {'HTML sent':>10} "
          f"{'CSS+JS sent':>12} {'total sent':>11}")
    for r in rows:
        print(f"{r['page']:40} {r['status']:>6} {r['cards']:>5} {r['html_bytes']:>10,} {r['html_sent_bytes']:>10,} "
              f"{r['assets_sent_bytes']:>12,} {r['total_sent_bytes']:>11,}")
    out = HERE / "results" / f"page_weight_{args.label}.json"
    out.write_text(json.dumps({"label": args.label, "src": args.src, "pages": rows}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
