"""Build the bundled demo data: the last N days of real Hugging Face daily lists.

    python scripts/build_demo_data.py [--days 120] [--source ../shared/datasets/hf_daily_papers/items.jsonl.gz]

Writes src/dailypapers/papers/demo/hf_daily_demo.jsonl.gz: one Hugging Face
/api/daily_papers item per line with its list day in `_date`, the format
`dailypapers ingest hf-daily FILE` reads. Fields the site does not use (avatars,
per-author HF user records, media URLs) are dropped to keep the file small.
"""

import argparse
import gzip
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src/dailypapers/papers/demo/hf_daily_demo.jsonl.gz"
PAPER_KEYS = {
    "id", "authors", "publishedAt", "submittedOnDailyAt", "submittedOnDailyBy", "title", "summary", "upvotes",
    "ai_summary", "ai_keywords", "githubRepo", "githubStars", "projectPage", "organization",
}
ITEM_KEYS = {"paper", "publishedAt", "title", "numComments", "submittedBy", "organization", "_date"}


def slim(item: dict) -> dict:
    paper = {k: v for k, v in item["paper"].items() if k in PAPER_KEYS}
    paper["authors"] = [{"name": a["name"]} for a in paper.get("authors", []) if a.get("name")]
    for key in ("submittedOnDailyBy",):
        if isinstance(paper.get(key), dict):
            paper[key] = {"name": paper[key].get("name"), "fullname": paper[key].get("fullname")}
    out = {k: v for k, v in item.items() if k in ITEM_KEYS}
    out["paper"] = paper
    if isinstance(out.get("submittedBy"), dict):
        out["submittedBy"] = {"name": out["submittedBy"].get("name"), "fullname": out["submittedBy"].get("fullname")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--source", type=Path, default=ROOT.parent / "shared/datasets/hf_daily_papers/items.jsonl.gz")
    args = parser.parse_args()
    with gzip.open(args.source, "rt", encoding="utf-8") as f:
        items = [json.loads(line) for line in f]
    days = sorted({i["_date"] for i in items})[-args.days:]
    keep = [slim(i) for i in items if i["_date"] >= days[0]]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        for item in keep:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(keep)} items over {len(days)} days ({days[0]} .. {days[-1]}) -> {OUT.relative_to(ROOT)} "
          f"({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
