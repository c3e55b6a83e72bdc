import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from tqdm import tqdm

from dailypapers.papers.models import Paper
from dailypapers.papers.services import upsert_papers
from dailypapers.papers.sources import hf_daily

DEMO_FILE = Path(__file__).resolve().parents[2] / "demo" / "hf_daily_demo.jsonl.gz"


class Command(BaseCommand):
    help = "Load the bundled demo: 120 real Hugging Face daily lists (no network needed)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has papers")

    def handle(self, *args, if_empty: bool, verbosity: int, **options):
        if if_empty and Paper.objects.exists():
            if verbosity:
                self.stdout.write("demo: the database already has papers; nothing loaded")
            return
        with tqdm(desc="demo", unit=" papers", disable=verbosity == 0 or not sys.stderr.isatty()) as bar:
            stats = upsert_papers(records=hf_daily.read_files(paths=[DEMO_FILE]), on_progress=bar.update)
        self.stdout.write(f"demo: {stats}")
