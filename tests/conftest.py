"""Fixtures shared by all test packages."""
import os
from pathlib import Path

import pytest

# KDSEQ_SHARED_DATA points elsewhere, e.g. on CI machines with another layout.
SHARED_DATA = Path(
    os.environ.get("KDSEQ_SHARED_DATA")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real corpora in ../shared/data; tests using them skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_DATA} (see shared/data/README.md)")
    return SHARED_DATA
