"""Settings for the benchmarks: the real site plus one bare template view (bench/bare)."""
