"""Shared test setup: every test gets its own cache directory so stores never leak between tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Set for the whole process before any fixture runs, so that session-wide fixtures (stores built once for
# many tests) and the subprocesses they start see them too: no background dense index from every ingest of
# the suite (the tests that want one start it), and hybrid results that do not depend on how loaded the
# machine is (every candidate gets embedded; the time budget is tested on its own in test_dense_index.py).
os.environ["SOURCEBOOK_SEARCH__BACKGROUND_INDEX"] = "false"
os.environ["SOURCEBOOK_SEARCH__DENSE_BUDGET_MS"] = "600000"

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
MODELS_DIR = Path.home() / ".cache" / "sourcebook" / "models"
needs_shared = pytest.mark.skipif(not SHARED.exists(), reason="../shared/fixtures not present")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("SOURCEBOOK_CACHE_DIR", str(cache))
    # assembled models are shared across tests (and runs): building them is slow and they never change
    monkeypatch.setenv("SOURCEBOOK_MODELS_HOME", str(MODELS_DIR))
    # no background dense index from every ingest of the suite: the tests that want one start it
    monkeypatch.setenv("SOURCEBOOK_SEARCH__BACKGROUND_INDEX", "false")
    # hybrid results must not depend on how loaded the machine is: every candidate gets embedded
    # (the time budget is tested on its own in test_dense_index.py)
    monkeypatch.setenv("SOURCEBOOK_SEARCH__DENSE_BUDGET_MS", "600000")
    return cache
