import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from dailypapers.digests.selection import closed_periods, digest_period
from dailypapers.digests.sending import send_digests
from dailypapers.errors import Refused


class Command(BaseCommand):
    help = (
        "Email digests. `send [--period day:YYYY-MM-DD|week:YYYY-Www]` sends one period (default: the "
        "newest closed day and week); `schedule` keeps sending each period once it closes."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        send = actions.add_parser("send", help="send the digests of a period (safe to re-run: nobody gets one twice)")
        send.add_argument("--period", action="append", default=[], help="day:YYYY-MM-DD or week:YYYY-Www (repeatable)")
        send.add_argument("--quiet", action="store_true", help="no progress bar")
        schedule = actions.add_parser("schedule", help="run as the background sender")
        schedule.add_argument("--interval", type=float, default=300.0, help="seconds between checks (300)")

    def handle(self, *args, action: str, **options):
        if action == "schedule":
            while True:
                self._send(closed_periods(now=timezone.now()), show=False)
                time.sleep(options["interval"])
        try:
            periods = [digest_period(p) for p in options["period"]]
        except Refused as exc:
            raise CommandError(str(exc)) from None
        self._send(periods or closed_periods(now=timezone.now()),
                   show=not options["quiet"] and sys.stderr.isatty())

    def _send(self, periods, *, show: bool) -> None:
        for period in periods:
            with tqdm(desc=f"digest {period.key}", unit=" subscriptions", disable=not show) as bar:
                stats = send_digests(period=period, on_progress=bar.update)
            self.stdout.write(f"digest {period.key}: {stats}")
