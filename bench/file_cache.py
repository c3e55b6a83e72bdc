#!/usr/bin/env python3
"""The cost of one write to the shared file cache (the default without CACHE_URL) as it fills:
Django's FileBasedCache, which lists its directory before every write, against
dailypapers.cache.SparselyCulledFileCache, which lists it once every 1% of its capacity in writes.

    python bench/file_cache.py [--sizes 0,10000,40000] [--writes 1000] [--max-entries 50000]

For each size: a fresh cache directory filled with that many entries (a few hundred bytes each, like a
cached query vector), then --writes timed sets of new keys through each class, alternating, on the
same directory (every write adds an entry, so a write's cost is measured where it happens). Prints
the median, mean and slowest write in ms (the sparse class's slowest is a write that listed the
directory; the mean spreads those over the writes between) and writes bench/results/file_cache.json.
Never fails on time.
"""

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "file_cache.json"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="0,10000,40000")
    parser.add_argument("--writes", type=int, default=1000)
    parser.add_argument("--max-entries", type=int, default=50_000)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE.parent / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 44)
    data = Path(tempfile.mkdtemp(prefix="dp-file-cache-"))
    os.environ.setdefault("DAILYPAPERS_DATA_DIR", str(data / "site"))
    import django

    django.setup()
    from django.core.cache.backends.filebased import FileBasedCache

    from dailypapers.cache import SparselyCulledFileCache

    value = os.urandom(384 * 4)  # a query vector's bytes
    out = {"writes": args.writes, "max_entries": args.max_entries, "value_bytes": len(value), "sizes": {}}
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            directory = data / f"cache-{size}"
            params = {"OPTIONS": {"MAX_ENTRIES": args.max_entries}}
            caches = {"django": FileBasedCache(str(directory), params),
                      "sparse": SparselyCulledFileCache(str(directory), params)}
            # Filled through the sparse class: through Django's, each of the fill's writes would list the files.
            roomy = {"OPTIONS": {"MAX_ENTRIES": 2 * size + args.writes * 3 + 1}}
            filler = SparselyCulledFileCache(str(directory), roomy)
            filler.set_many({f"fill-{i}": value for i in range(size)})
            assert len(os.listdir(directory)) == size
            times: dict[str, list[float]] = {name: [] for name in caches}
            for i in range(args.writes):
                for name in (list(caches) if i % 2 else list(caches)[::-1]):
                    started = time.perf_counter()
                    caches[name].set(f"{name}-{i}", value)
                    times[name].append(time.perf_counter() - started)
            row = {name: {"p50_ms": round(statistics.median(t) * 1000, 3),
                          "mean_ms": round(statistics.mean(t) * 1000, 3), "max_ms": round(max(t) * 1000, 3)}
                   for name, t in times.items()}
            out["sizes"][size] = row
            print(f"{size:>7} entries: " + ", ".join(
                f"{label} set p50 {row[name]['p50_ms']} ms, mean {row[name]['mean_ms']}, slowest {row[name]['max_ms']}"
                for name, label in (("django", "Django's FileBasedCache"), ("sparse", "SparselyCulledFileCache"))),
                flush=True)
            shutil.rmtree(directory)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    out["cpus"], out["updated_at"] = os.cpu_count(), time.strftime("%Y-%m-%dT%H:%M:%S")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
