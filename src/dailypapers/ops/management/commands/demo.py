import sys
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand
from tqdm import tqdm

from dailypapers.papers.models import Paper
from dailypapers.papers.services import ingest
from dailypapers.papers.sources import hf_daily
from dailypapers.search import services as search_services

DEMO_DIR = Path(__file__).resolve().parents[3] / "papers" / "demo"
DEMO_FILE = DEMO_DIR / "hf_daily_demo.jsonl.gz"
DEMO_VECTORS = DEMO_DIR / "hf_daily_demo.vectors.npz"  # made by `dailypapers index` (scripts/build_demo_vectors.py)


class Command(BaseCommand):
    help = "Load the bundled demo: 120 real Hugging Face daily lists with their vectors (no network needed)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the database already has papers")

    def handle(self, *args, if_empty: bool, verbosity: int, **options):
        if if_empty and Paper.objects.exists():
            if verbosity:
                self.stdout.write("demo: the database already has papers; nothing loaded")
            return
        with tqdm(desc="demo", unit=" papers", disable=verbosity == 0 or not sys.stderr.isatty()) as bar:
            stats = ingest(source=hf_daily.read_files(paths=[DEMO_FILE]), on_progress=bar.update)
        self.stdout.write(f"demo: {stats}")
        # The bundled vectors of papers whose text is still the text they were computed from.
        bundle = np.load(DEMO_VECTORS)
        loaded = search_services.store_vectors(
            model_id=str(bundle["model_id"]),
            rows=(
                (str(a), str(h), v) for a, h, v in zip(bundle["arxiv_ids"], bundle["text_hashes"], bundle["vectors"])
            ),
        )
        search_services.bring_indexes_current(rebuild=True)
        self.stdout.write(f"demo: {loaded} precomputed vectors loaded; search indexes built")
