"""The shared file cache (the default without CACHE_URL): culled as Django culls it, without listing its
directory on every write."""

from django.core.cache.backends.filebased import FileBasedCache

from dailypapers.cache import SparselyCulledFileCache


def _counting_listings(cache, monkeypatch) -> list[int]:
    listings: list[int] = []
    listed = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listings.append(1) or listed())
    return listings


def test_the_file_cache_lists_its_directory_once_per_hundredth_of_its_capacity_in_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(SparselyCulledFileCache, "_writes", {})
    cache = SparselyCulledFileCache(str(tmp_path / "sparse"), {"OPTIONS": {"MAX_ENTRIES": 200, "CULL_FREQUENCY": 3}})
    django_cache = FileBasedCache(str(tmp_path / "django"), {"OPTIONS": {"MAX_ENTRIES": 200, "CULL_FREQUENCY": 3}})
    listings, django_listings = _counting_listings(cache, monkeypatch), _counting_listings(django_cache, monkeypatch)
    held = []
    for i in range(1_000):
        cache.set(f"key-{i}", i)
        django_cache.set(f"key-{i}", i)
        held.append(len(list((tmp_path / "sparse").iterdir())))
        assert cache.get(f"key-{i}") == i  # a value just written is there
    assert len(django_listings) == 1_000  # Django's: every write lists every file
    assert len(listings) == len(range(0, 1_000, 2))  # here: the first write, then every 200 * 1% = 2nd
    assert max(held) <= 200 + 1  # at most the writes between two looks past MAX_ENTRIES
    assert min(held[400:]) >= 200 * 2 // 3 - 2  # culled by a third, as Django culls, not emptied
