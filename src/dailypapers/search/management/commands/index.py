import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from dailypapers.papers.models import Paper
from dailypapers.search import services, vectors
from dailypapers.search.embedders import prepare_embedder


class Command(BaseCommand):
    help = (
        "Bring the search indexes up to date: keyword index for changed papers, vectors for papers "
        "that lack one. --rebuild rebuilds both indexes from the database; --watch keeps doing it; "
        "--models only builds the embedder's saved models."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="rebuild both indexes from the database")
        parser.add_argument("--watch", action="store_true", help="run as the background indexer, polling for work")
        parser.add_argument("--interval", type=float, default=10.0, help="seconds between polls with --watch")
        parser.add_argument("--batch-size", type=int, default=32, help="papers per embedding batch")
        parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads for embedding")
        parser.add_argument("--quiet", action="store_true", help="no progress bars")
        parser.add_argument("--models", action="store_true",
                            help="only build the embedder's models under DATA_DIR/models if missing (serve does)")

    def handle(self, *args, rebuild, watch, interval, batch_size, threads, quiet, models, **options):
        if batch_size < 1 or threads < 1 or interval <= 0:
            raise CommandError("--batch-size, --threads and --interval must be positive")
        if models:
            prepare_embedder()
            return
        show = not quiet and sys.stderr.isatty()
        while True:
            try:
                self._run(rebuild=rebuild, batch_size=batch_size, threads=threads, show=show)
            except vectors.ModelMismatch as exc:
                raise CommandError(str(exc)) from exc
            if not watch:
                return
            rebuild, show = False, False
            time.sleep(interval)

    def _run(self, *, rebuild: bool, batch_size: int, threads: int, show: bool) -> None:
        total = Paper.objects.count()
        started = time.perf_counter()
        with tqdm(total=total if rebuild else None, desc="keyword index", unit=" papers", disable=not show) as bar:
            keyword_count = services.bring_indexes_current(rebuild=rebuild, on_progress=bar.update)
        keyword_seconds = time.perf_counter() - started
        started = time.perf_counter()
        pending = services.papers_needing_vectors(model_id=services.get_embedder().model_id).count()
        with tqdm(total=pending, desc="embeddings", unit=" papers", disable=not show) as bar:
            embedded = services.embed_pending(batch_size=batch_size, threads=threads, on_progress=bar.update)
        embed_seconds = time.perf_counter() - started
        if keyword_count or embedded or rebuild:
            self.stdout.write(
                f"index: {keyword_count} papers keyword-indexed in {keyword_seconds:.1f} s, "
                f"{embedded} embedded in {embed_seconds:.1f} s"
            )
