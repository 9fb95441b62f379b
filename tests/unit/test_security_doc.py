"""docs/SECURITY.md maps each threat to its tests; every test it names must exist."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_every_test_the_threat_model_cites_exists() -> None:
    document = (REPO / "docs" / "SECURITY.md").read_text()
    cited = REFERENCE.findall(document)
    assert len(cited) > 50, "the threat model names the tests that cover each threat"
    missing = [
        f"{path}::{name}"
        for path, name in cited
        if not (REPO / path).is_file()
        or not re.search(rf"^(?:async )?def {name}\(", (REPO / path).read_text(), re.M)
    ]
    assert missing == [], f"docs/SECURITY.md cites tests that do not exist: {missing}"
