"""An embedder for the claim tests (DAILYPAPERS_EMBEDDER=tests.embedders.Recording): deterministic
vectors from the text, a fixed pause per text standing in for the model's time, and one line per
text embedded appended to $DAILYPAPERS_TEST_EMBED_LOG (process id and text), so a test can tell
which process embedded what, and whether anything was embedded twice."""

import hashlib
import os
import time

import numpy as np

from dailypapers.search.embedders import normalise


class Recording:
    model_id = "test-recording"
    dim = 16

    def __init__(self, *, threads: int = 1):
        self.log = os.environ.get("DAILYPAPERS_TEST_EMBED_LOG", "")

    def embed(self, texts: list[str]) -> np.ndarray:
        time.sleep(0.02 * len(texts))
        if self.log:
            with open(self.log, "a") as out:  # O_APPEND: whole lines, whatever the other process does
                out.write("".join(f"{os.getpid()}\t{t.splitlines()[0]}\n" for t in texts))
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[:16], dtype=np.uint8).astype(np.float32) - 127
                for t in texts]
        return normalise(np.vstack(rows))

    embed_documents = embed
