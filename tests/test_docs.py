"""Documentation that users rely on stays in step with the code."""

from __future__ import annotations

import ast
import importlib
import inspect
import io
import pkgutil
import re
import tokenize
from pathlib import Path

import shazam_assets
from shazam_assets.ingest.delivery.codes import all_rules, rules_markdown
from shazam_assets.platform import errors
from shazam_assets.platform.errors import ShazamError, TransientError

ROOT = Path(__file__).resolve().parents[1]


def test_error_codes_doc_is_generated_from_the_code() -> None:
    assert (ROOT / "docs" / "error-codes.md").read_text() == rules_markdown(), (
        "run `make codes-doc`"
    )


def test_architecture_store_table_is_generated_from_the_layout() -> None:
    from shazam_assets.platform.layout import layout_table_markdown

    text = (ROOT / "docs" / "architecture.md").read_text()
    block = re.search(r"<!-- layout-table:start -->\n(.*?)<!-- layout-table:end -->", text, re.S)
    assert block is not None and block[1] == layout_table_markdown(), "run `make docs`"


def test_codes_are_unique_and_have_hints() -> None:
    rules = all_rules()
    others = errors.all_codes()
    codes = [r.code for r in rules] + [c.code for c in others]
    assert len(set(codes)) == len(codes), sorted(c for c in codes if codes.count(c) > 1)
    assert all(r.hint.strip() and r.summary.strip() for r in [*rules, *others])


# String literals that look like codes but are not: environment variables, sentinels and glTF
# vertex attribute names (TEXCOORD_1, COLOR_0).
_NOT_CODES = re.compile(
    r"^(SHAZAM_(?!INTERNAL_ERROR)\w+|DAGSTER_\w+|NVIDIA_\w+|AWS_\w+|IVF_\w+|RENDERER_VERSION|WAITING_FOR_SENSOR"
    r"|(TEXCOORD|COLOR|JOINTS|WEIGHTS)_\d+)$"
)
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
    sources = [
        p
        for pkg in ("shazam_assets", "dagster_project")
        for p in (ROOT / pkg).rglob("*.py")
        if "node_modules" not in p.parts and "delivery" not in p.relative_to(ROOT).parts
    ]
    raised = {code for p in sources for code in _code_literals(p) if not _NOT_CODES.match(code)}
    assert raised - documented == set(), "add them to shazam_assets/platform/errors.py"


def test_every_code_is_exercised_by_a_test_with_a_real_input() -> None:
    """Each rejection (ERROR) code appears in some test module (the per-code tables build a
    real broken input for it; warnings never reject and are tested where they matter). The
    glTF codes' table is gltf_cases.py, which test_gltf.py and test_khronos_parity.py run."""
    modules = [*(ROOT / "tests").rglob("test_*.py"), ROOT / "tests/ingest/delivery/gltf_cases.py"]
    text = "\n".join(p.read_text() for p in modules if p.name != "test_docs.py")
    missing = [
        r.code
        for r in all_rules()
        if r.severity == "error" and not re.search(rf"\b{r.code}\b", text)
    ]
    assert not missing, f"codes without a test: {missing}"


def _error_classes() -> list[type[ShazamError]]:
    """Every ShazamError subclass of the domain (every module imported, so none is missed)."""
    for module in pkgutil.walk_packages(shazam_assets.__path__, "shazam_assets."):
        importlib.import_module(module.name)
    found, todo = [], [ShazamError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return found


def test_every_error_class_is_a_registered_code_with_a_hint() -> None:
    """An error class that fixes its code (StoreFailed, RenderCrashed, UploadNotFound...) carries a
    listed code, so its `hint` is the catalogue's; transient is a type, and the catalogue's
    transient codes are exactly those of the TransientError classes."""
    classes = _error_classes()
    fixed = {cls: cls.__dict__["code"] for cls in classes if "code" in cls.__dict__}
    assert {"STORE_FAILED", "RENDER_CRASHED", "UPLOAD_NOT_FOUND", "NOTIFY_FAILED"} <= set(
        fixed.values()
    )
    for cls, code in fixed.items():
        entry = errors.find(code)
        assert entry is not None and entry.hint.strip(), (
            f"{cls.__qualname__}.code {code} is not listed"
        )
    transient_classes = {code for cls, code in fixed.items() if issubclass(cls, TransientError)}
    assert transient_classes == errors.TRANSIENT_CODES
    assert not any(
        issubclass(cls, TransientError)
        for cls, code in fixed.items()
        if code not in errors.TRANSIENT_CODES
    )
    assert ShazamError("RENDER_CRASHED", "died").hint == errors.find("RENDER_CRASHED").hint  # type: ignore[union-attr]


def _raised_codes(path: Path, names: set[str]) -> set[tuple[str, str]]:
    """(error class, code) of every `SomeError("CODE", ...)` call in a source file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else func.attr
            if isinstance(func, ast.Attribute)
            else ""
        )
        first = node.args[0]
        if name in names and isinstance(first, ast.Constant) and isinstance(first.value, str):
            found.add((name, first.value))
    return found


def _takes_a_code(cls: type[ShazamError]) -> bool:
    """Whether the class is called with the code first (`SomeError("CODE", message)`); a
    class that fixes its code takes only the message, which is no code."""
    params = list(inspect.signature(cls.__init__).parameters)
    return len(params) > 1 and params[1] == "code"


def test_every_code_an_error_is_raised_with_is_registered_and_transient_only_by_type() -> None:
    """Every `XError("CODE", ...)` anywhere (the delivery package included) names a listed
    code with a hint, and a transient code is never raised by a permanent type (raise the
    TransientError subclass, e.g. RenderCrashed, instead of RenderError("RENDER_CRASHED"))."""
    by_name = {cls.__name__: cls for cls in _error_classes() if _takes_a_code(cls)}
    sources = [
        p
        for pkg in ("shazam_assets", "dagster_project")
        for p in (ROOT / pkg).rglob("*.py")
        if "node_modules" not in p.parts
    ]
    raised = {pair for p in sources for pair in _raised_codes(p, set(by_name))}
    assert {code for _, code in raised} >= {
        "PUBLISH_NOT_APPROVED",
        "SEARCH_BAD_ASIN",
        "PACK_OUTPUT_EXISTS",
    }
    unlisted = sorted(f"{name}({code!r})" for name, code in raised if errors.find(code) is None)
    assert unlisted == [], "add them to shazam_assets/platform/errors.py"
    mistyped = sorted(
        f"{name}({code!r})"
        for name, code in raised
        if errors.is_transient(code) and not issubclass(by_name[name], TransientError)
    )
    assert mistyped == [], "a transient code is raised by its TransientError class"
