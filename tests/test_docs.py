"""Documentation that users rely on stays in step with the code."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from shazam_assets.ingest.delivery.codes import all_rules, rules_markdown
from shazam_assets.platform import errors

ROOT = Path(__file__).resolve().parents[1]


def test_error_codes_doc_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "error-codes.md").read_text() == rules_markdown(), "run `make codes-doc`"


def test_codes_are_unique_and_have_hints() -> None:
    rules = all_rules()
    others = errors.all_codes()
    codes = [r.code for r in rules] + [c.code for c in others]
    assert len(set(codes)) == len(codes), sorted(c for c in codes if codes.count(c) > 1)
    assert all(r.hint.strip() and r.summary.strip() for r in [*rules, *others])


# String literals that look like codes but are not: environment variables and sentinels.
_NOT_CODES = re.compile(r"^(SHAZAM_(?!INTERNAL_ERROR)\w+|DAGSTER_\w+|NVIDIA_\w+|AWS_\w+|RENDERER_VERSION|WAITING_FOR_SENSOR)$")
_CODE_LITERAL = re.compile(r"""^[rbuf]*(['"]{1,3})([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?::\s|\1)""")


def _code_literals(path: Path) -> set[str]:
    """Codes written as a string of their own ("QA_NOT_APPROVED") or leading a message
    (f"UPLOAD_EXISTS: ...")."""
    found = set()
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type == tokenize.STRING and (m := _CODE_LITERAL.match(token.string)):
            found.add(m.group(2))
    return found


def test_every_raised_code_is_documented() -> None:
    """A code raised anywhere in the product is in `shazam codes` and docs/error-codes.md.
    (Validation codes can only be reported through their declared `Rule`, so the delivery
    package, which also spells glTF enum names, is not scanned.)"""
    documented = {r.code for r in all_rules()} | {c.code for c in errors.all_codes()}
    sources = [p for pkg in ("shazam_assets", "dagster_project") for p in (ROOT / pkg).rglob("*.py")
               if "node_modules" not in p.parts and "delivery" not in p.relative_to(ROOT).parts]
    raised = {code for p in sources for code in _code_literals(p) if not _NOT_CODES.match(code)}
    assert raised - documented == set(), "add them to shazam_assets/platform/errors.py"


def test_every_code_is_exercised_by_a_test_with_a_real_input() -> None:
    """Each rejection (ERROR) code appears in some test module (the per-code tables build a
    real broken input for it; warnings never reject and are tested where they matter). The
    glTF codes' table is gltf_cases.py, which test_gltf.py and test_khronos_parity.py run."""
    modules = [*(ROOT / "tests").rglob("test_*.py"), ROOT / "tests/ingest/delivery/gltf_cases.py"]
    text = "\n".join(p.read_text() for p in modules if p.name != "test_docs.py")
    missing = [r.code for r in all_rules() if r.severity == "error" and not re.search(rf"\b{r.code}\b", text)]
    assert not missing, f"codes without a test: {missing}"
