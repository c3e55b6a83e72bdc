from dataclasses import asdict

from django.core.management.base import BaseCommand

from dailypapers.ops import health, selectors


class Command(BaseCommand):
    help = (
        "What the site is doing: papers, vectors pending, index lag, queue depth, failed jobs, the last "
        "digest per period, the last scheduled ingests, the workers' heartbeats and the jobs running; exits 1 "
        "when a health check fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object instead of lines")

    def handle(self, *args, json: bool = False, **options):
        ok, checks = health.check_all()
        status = selectors.site_status()
        lag = status.index_lag_seconds
        rows = {
            "health": "ok" if ok else "FAILING: " + ", ".join(n for n, c in checks.items() if not c["ok"]),
            "papers": status.papers,
            "vectors pending": status.vectors_pending,
            "keywords pending": status.keywords_pending,
            "keyword index": (
                f"up to {status.keyword_indexed_until:%Y-%m-%d %H:%M:%S} UTC, "
                f"{status.papers_changed_since_index} papers changed since" + (f" (lag {lag:.0f} s)" if lag else "")
            )
            if status.keyword_indexed_until
            else "never built",
            "queue": (
                f"{status.queue_pending} pending, {status.queue_scheduled} scheduled"
                if not status.queue_error
                else f"unreachable: {status.queue_error}"
            ),
            "failed jobs": f"{status.failed_jobs} failed tries"
            + "".join(f"; {j.name} failed {j.last_error_at:%Y-%m-%d %H:%M} UTC: {j.last_error}"
                      for j in status.failing_jobs),
            "workers": "; ".join(
                f"{w.worker} {'live' if w.alive else 'DEAD'} (beat {_age(w.seconds_since_beat)} ago)"
                for w in status.workers) or "none running",
            "running jobs": "; ".join(
                f"{j.name} on {j.worker} for {_age(j.seconds_running)}"
                + ("" if j.worker_alive else " (its worker is gone: put back on the queue at the next beat)")
                for j in status.running) or "none",
        }
        for kind, last in status.last_digests.items():
            rows[f"last {kind} digest"] = f"{last[0]}, sent {last[1]:%Y-%m-%d %H:%M} UTC" if last else "none sent"
        for job in status.last_ingests:
            rows[job.name] = (
                f"{job.last_ok_at:%Y-%m-%d %H:%M} UTC: {job.last_result}" if job.last_ok_at else "never ran"
            )
        if not status.last_ingests:
            rows["scheduled ingests"] = "none ran yet"
        if json:
            import json as json_module

            self.stdout.write(json_module.dumps({
                **rows, "checks": checks,
                "worker_beats": [asdict(w) for w in status.workers],
                "running_jobs": [asdict(j) for j in status.running],
                "failing_jobs": [{"name": j.name, "failures": j.failures, "last_error_at": j.last_error_at,
                                  "last_error": j.last_error} for j in status.failing_jobs],
            }, default=str))
        else:
            width = max(len(k) for k in rows)
            for key, value in rows.items():
                self.stdout.write(f"{key:<{width}}  {value}")
        if not ok:
            raise SystemExit(1)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
