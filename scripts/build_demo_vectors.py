"""Export the demo papers' vectors, as computed by `dailypapers index`, for the bundle.

    DAILYPAPERS_DATA_DIR=/tmp/demo dailypapers migrate && dailypapers demo && dailypapers index
    DAILYPAPERS_DATA_DIR=/tmp/demo python scripts/build_demo_vectors.py

Writes src/dailypapers/papers/demo/hf_daily_demo.vectors.npz (float16 vectors with
the arXiv id, text hash and model id of each), which `dailypapers demo` loads so a
new site has semantic search at once instead of after an hour of embedding.
"""

import os
from pathlib import Path

import django
import numpy as np

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
django.setup()

from dailypapers.search.embedders import get_embedder  # noqa: E402
from dailypapers.search.models import PaperVector  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "src/dailypapers/papers/demo/hf_daily_demo.vectors.npz"


def main() -> None:
    model_id = get_embedder().model_id
    rows = list(
        PaperVector.objects.filter(model_id=model_id).order_by("paper__arxiv_id")
        .values_list("paper__arxiv_id", "text_hash", "vector")
    )
    np.savez_compressed(
        OUT,
        model_id=np.array(model_id),
        arxiv_ids=np.array([r[0] for r in rows]),
        text_hashes=np.array([r[1] for r in rows]),
        vectors=np.vstack([np.frombuffer(r[2], dtype=np.float32) for r in rows]).astype(np.float16),
    )
    print(f"{len(rows)} vectors of {model_id} -> {OUT} ({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
