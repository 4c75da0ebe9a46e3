"""Documentation that users rely on stays in step with the code."""

from __future__ import annotations

import re
from pathlib import Path

from shazam_assets.delivery.codes import all_rules, rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_error_codes_doc_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "error-codes.md").read_text() == rules_markdown(), "run `make codes-doc`"


def test_codes_are_unique_and_have_hints() -> None:
    rules = all_rules()
    assert len({r.code for r in rules}) == len(rules)
    assert all(r.hint.strip() and r.summary.strip() for r in rules)


def test_every_code_is_exercised_by_a_test_with_a_real_input() -> None:
    """Each rejection (ERROR) code appears in some test module (the per-code tables build a
    real broken input for it; warnings never reject and are tested where they matter)."""
    text = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("test_*.py") if p.name != "test_docs.py")
    missing = [r.code for r in all_rules() if r.severity == "error" and not re.search(rf"\b{r.code}\b", text)]
    assert not missing, f"codes without a test: {missing}"
