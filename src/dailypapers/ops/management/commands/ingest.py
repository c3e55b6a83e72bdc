"""dailypapers ingest SOURCE ...: bring papers in from arXiv, Hugging Face or files.

    ingest hf-daily --date 2025-03-17 | --from 2025-03-01 [--to 2025-03-31] | FILE...
    ingest arxiv-api --query 'cat:cs.CL AND ti:agents' | --id-list 2401.12345,2402.00001
    ingest arxiv-oai [--from D] [--until D] [--set cs] [--metadata-prefix arXivRaw|arXiv]
    ingest jsonl FILE...

Re-running is safe: unchanged papers stay untouched, an interrupted OAI-PMH
harvest resumes where it stopped. Ends with "N new / N updated / N unchanged / N skipped"
(records that were not papers), and "/ N skipped fields" when records had fields dropped.
"""

import argparse
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from dailypapers.papers.avatars import mirror_avatars
from dailypapers.papers.records import PagedSource, PaperRecord, Skipped
from dailypapers.papers.services import ingest
from dailypapers.papers.sources import arxiv_api, arxiv_oai, hf_daily, jsonl
from dailypapers.papers.sources.http import SourceError
from dailypapers.search.services import bring_indexes_current


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {text!r}")
    return int(text)


class Command(BaseCommand):
    help = "Ingest papers from a source: hf-daily, arxiv-api, arxiv-oai or jsonl."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        sources = parser.add_subparsers(dest="source", required=True, metavar="SOURCE")

        hf = sources.add_parser("hf-daily", help="Hugging Face daily lists: live API days or saved files")
        hf.add_argument("--date", type=_day, help="one day's list from the API")
        hf.add_argument("--from", dest="from_date", type=_day, help="first day of a range from the API")
        hf.add_argument("--to", dest="to_date", type=_day, help="last day of the range (default: today)")
        hf.add_argument("files", nargs="*", type=_file, metavar="FILE", help="YYYY-MM-DD.json or .jsonl[.gz] files")

        api = sources.add_parser("arxiv-api", help="arXiv search API: a query or a list of ids")
        api.add_argument("--query", default="", help="arXiv search_query, e.g. 'cat:cs.CL AND ti:agents'")
        api.add_argument("--id-list", default="", help="comma-separated arXiv ids")
        api.add_argument("--max-results", type=_positive, default=1000, help="stop after this many papers (1000)")
        api.add_argument("--page-size", type=_positive, default=100, help="papers per request (100, at most 2000)")
        api.add_argument("--sort-by", choices=arxiv_api.SORT_BY, default="relevance")

        oai = sources.add_parser("arxiv-oai", help="arXiv OAI-PMH bulk harvest (resumes if interrupted)")
        oai.add_argument("--from", dest="from_date", type=_day, help="records changed on or after this day")
        oai.add_argument("--until", type=_day, help="records changed on or before this day")
        oai.add_argument("--set", default="", help="OAI set, e.g. cs or physics:hep-th")
        oai.add_argument("--metadata-prefix", choices=tuple(arxiv_oai.METADATA_NS), default="arXivRaw")

        files = sources.add_parser("jsonl", help="arXiv metadata JSON-lines files (.gz accepted)")
        files.add_argument("files", nargs="+", type=_file, metavar="FILE")

        for sub in (hf, api, oai, files):
            sub.add_argument("--quiet", action="store_true", help="no progress bar")

    def handle(self, *args, source: str, quiet: bool, verbosity: int, **options) -> None:
        bar = tqdm(unit=" papers", file=sys.stderr, disable=quiet or verbosity == 0 or not sys.stderr.isatty())
        try:
            stats = ingest(source=self._source(source, options), on_progress=bar.update)
        except (SourceError, OSError) as exc:
            raise CommandError(str(exc)) from None
        finally:
            bar.close()
        if stats.new or stats.updated:
            # Keyword search sees the new papers now; their vectors come from `dailypapers index`.
            bring_indexes_current()
        self.stdout.write(str(stats))
        # Imported organization avatars, copied into the media store (pages never hot-link them).
        stored, failed = mirror_avatars(log=lambda line: self.stderr.write(line))
        if stored or failed:
            self.stdout.write(f"avatars: {stored} mirrored / {failed} not mirrored")

    def _source(self, source: str, options: dict) -> Iterator[PaperRecord | Skipped] | PagedSource:
        if source == "arxiv-oai":
            return arxiv_oai.Harvest(
                from_date=options["from_date"], until=options["until"], set_spec=options["set"],
                metadata_prefix=options["metadata_prefix"],
            )
        if source == "jsonl":
            return jsonl.read_files(paths=options["files"])
        if source == "arxiv-api":
            ids = [i.strip() for i in options["id_list"].split(",") if i.strip()]
            if not options["query"] and not ids:
                raise CommandError("arxiv-api needs --query or --id-list")
            return arxiv_api.fetch_records(
                query=options["query"],
                id_list=ids,
                max_results=options["max_results"],
                page_size=options["page_size"],
                sort_by=options["sort_by"],
            )
        day, first, last, files = options["date"], options["from_date"], options["to_date"], options["files"]
        if sum(bool(x) for x in (day, first, files)) != 1:
            raise CommandError("hf-daily needs exactly one of --date D, --from D [--to D], or files")
        if last and not first:
            raise CommandError("hf-daily: --to needs --from")
        if files:
            return hf_daily.read_files(paths=files)
        if day:
            return hf_daily.fetch_days(first=day, last=day)
        last = last or timezone.localdate()
        if last < first:
            raise CommandError(f"hf-daily: --to {last} is before --from {first}")
        return hf_daily.fetch_days(first=first, last=last)
