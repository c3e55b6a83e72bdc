import sys
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand
from django.db import transaction
from tqdm import tqdm

from dailypapers.papers.models import Paper
from dailypapers.papers.services import upsert_papers
from dailypapers.papers.sources import hf_daily
from dailypapers.search import services as search_services
from dailypapers.search.embedders import get_embedder
from dailypapers.search.models import PaperVector

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
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
            stats = upsert_papers(records=hf_daily.read_files(paths=[DEMO_FILE]), on_progress=bar.update)
        self.stdout.write(f"demo: {stats}")
        loaded = self._load_vectors()
        search_services.index_keywords(rebuild=True)
        search_services.rebuild_vector_index()
        self.stdout.write(f"demo: {loaded} precomputed vectors loaded; search indexes built")

    def _load_vectors(self) -> int:
        """Store the bundled vectors of papers whose text is still the text they were computed from."""
        bundle = np.load(DEMO_VECTORS)
        model_id = str(bundle["model_id"])
        if model_id != get_embedder().model_id:
            return 0  # another embedder is configured: `dailypapers index` computes its own
        papers = dict(Paper.objects.filter(arxiv_id__in=list(bundle["arxiv_ids"])).values_list("arxiv_id", "pk"))
        have = set(PaperVector.objects.filter(model_id=model_id).values_list("paper_id", flat=True))
        rows = []
        for arxiv_id, text_hash, vector in zip(bundle["arxiv_ids"], bundle["text_hashes"], bundle["vectors"]):
            pk = papers.get(str(arxiv_id))
            if pk is None or pk in have:
                continue
            vector = vector.astype(np.float32)
            vector /= max(float(np.linalg.norm(vector)), 1e-12)
            rows.append(PaperVector(paper_id=pk, model_id=model_id, text_hash=str(text_hash), vector=vector.tobytes()))
        with transaction.atomic():
            PaperVector.objects.bulk_create(rows, batch_size=500)
        return len(rows)
