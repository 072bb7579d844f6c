from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
