"""Where the benchmarks find the shared data sets.

The folder is, first found: `--datasets DIR` on the command line, the DAILYPAPERS_DATASETS environment
variable, or `<repo>/../shared/datasets` (beside the checkout: /work/shared/datasets for /work/main).
`use()` exports the choice, so the child processes a benchmark starts look in the same place."""

import os
import sys
from pathlib import Path

ENV = "DAILYPAPERS_DATASETS"
REPO_DIR = Path(__file__).resolve().parent.parent

# Paths inside the folder.
HF_PAPERS = Path("hf_daily_papers") / "papers.jsonl.gz"
SCIFACT = Path("scifact")
ARXIV_CS = Path("arxiv_cs_daily") / "arxiv_cs_2025-03_2026-07.jsonl.gz"


def datasets_dir() -> Path:
    return Path(os.environ[ENV]) if os.environ.get(ENV) else REPO_DIR.parent / "shared" / "datasets"


def add_argument(parser) -> None:
    parser.add_argument("--datasets", type=Path, default=datasets_dir(),
                        help=f"the shared data sets folder (${ENV}, else <repo>/../shared/datasets)")


def use(folder: Path) -> Path:
    """Make `folder` the data sets folder of this process and its children."""
    os.environ[ENV] = str(folder)
    return folder


def require(path: Path, what: str = "data set") -> Path:
    """`path`, or exit with one clear line saying what is missing and how to point at it."""
    if not path.exists():
        print(f"bench: error: {what} not found: {path} (pass --datasets DIR or set {ENV})", file=sys.stderr)
        sys.exit(2)
    return path
