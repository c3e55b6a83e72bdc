import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import autodiscover_modules
from huey.consumer_options import ConsumerConfig


class Command(BaseCommand):
    help = (
        "Run a task-queue worker (huey consumer): embedding, search index upkeep, digests, fetches of "
        "submitted papers, scheduled ingests. Any number may run, on any machine sharing the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workers", type=int, default=2, help="jobs run at once (2)")
        parser.add_argument("--processes", action="store_true",
                            help="run the jobs in processes instead of threads (CPU-bound embedding on several cores)")
        parser.add_argument("--no-periodic", action="store_true",
                            help="don't enqueue the periodic jobs (when another worker does)")

    def handle(self, *args, workers: int, processes: bool, no_periodic: bool, **options):
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        from huey.contrib.djhuey import HUEY

        autodiscover_modules("tasks")
        config = ConsumerConfig(
            workers=workers, worker_type="process" if processes else "thread", periodic=not no_periodic,
            # Polling a local SQLite queue is cheap: look every second at most, so a submitted
            # paper's fetch starts at once. Redis blocks on the queue instead of polling.
            max_delay=1.0, initial_delay=0.1, backoff=1.15,
            check_worker_health=True, health_check_interval=10,
        )
        config.validate()
        logger = logging.getLogger("huey")
        if not logger.handlers:
            config.setup_logger(logger)
        queue = settings.QUEUE_URL.split("@")[-1] if settings.QUEUE_URL else settings.HUEY["filename"]
        self.stderr.write(f"dailypapers worker: {workers} {'processes' if processes else 'threads'}, queue {queue}")
        from dailypapers.ops.services import start_heartbeat

        # Beats, and puts back on the queue the jobs of workers that died (this machine's at once).
        heartbeat = start_heartbeat()
        try:
            HUEY.create_consumer(**config.values).run()
        finally:
            heartbeat.set()
