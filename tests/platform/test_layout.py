"""The store layout: every key kind builds and parses back, and no key is spelled outside it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from shazam_assets.platform import layout
from shazam_assets.platform.layout import AsinVersion, UploadKey, VersionKey

ROOT = Path(__file__).resolve().parents[2]
ASIN = "B0LAYOUT01"
ISBN = "0306406152"  # an ISBN-10 is an ASIN too


# --- every kind builds the key its pattern says, and parses it back --------------------------


BUILT = {
    "upload": (layout.upload_key(ASIN, "delivery.zip"), f"uploads/{ASIN}/delivery.zip"),
    "validation": (layout.validation_key(ASIN, "u1"), f"validations/{ASIN}/u1.json"),
    "rejection": (layout.rejection_key(ASIN, "u1"), f"rejections/{ASIN}/u1.json"),
    "staging": (
        layout.staging_prefix(ASIN, "u1", "r1") + "model/a.glb",
        f"staging/{ASIN}/u1/r1/model/a.glb",
    ),
    "version_file": (
        layout.version_file_key(ASIN, 3, "model/a.glb"),
        f"assets/{ASIN}/v3/model/a.glb",
    ),
    "version_manifest": (layout.version_manifest_key(ASIN, 3), f"assets/{ASIN}/v3/version.json"),
    "claim": (layout.claim_key(ASIN, 3), f"index/{ASIN}/claims/v3.json"),
    "upload_index": (layout.upload_index_key(ASIN, "u1"), f"index/{ASIN}/uploads/u1.json"),
    "qa_scores": (layout.scores_key(ASIN, 3), f"qa/{ASIN}/v3/scores.json"),
    "qa_file": (layout.contact_sheet_key(ASIN, 3), f"qa/{ASIN}/v3/contact-sheet.png"),
    "decision": (layout.decision_key(ASIN, 3), f"decisions/{ASIN}/v3.json"),
    "review_queue": (layout.review_queue_key(ASIN, 3), f"review/pending/{ASIN}/v3.json"),
    "review_queue_built": (layout.review_queue_built_key(), "review/built.json"),
    "recent_decision": (
        layout.recent_decision_key(ASIN, 3, epoch_ms=1),
        f"review/decided/9999999999999/{ASIN}/v3.json",
    ),
    "published_pointer": (layout.published_pointer_key(ASIN), f"pointers/published/{ASIN}.json"),
    "tombstone": (layout.tombstone_key(ASIN, 3), f"index/{ASIN}/deleted/v3.json"),
    "notified": (layout.notified_key(ASIN, 3), f"notifications/{ASIN}/v3.json"),
    "outbox": (layout.outbox_key(ASIN, 3), f"outbox/{ASIN}/v3.json"),
    "run_failure_alert": (layout.run_failure_key("abc-123"), "outbox/_runs/abc-123.json"),
    "render_file": (
        layout.render_set_prefix(ASIN, 3, "f" * 16) + "frames/000.webp",
        f"renders/{ASIN}/v3/{'f' * 16}/frames/000.webp",
    ),
    "turntable_manifest": (
        layout.turntable_manifest_key(ASIN, 3),
        f"renders/{ASIN}/v3/manifest.json",
    ),
    "page": (layout.page_key(ASIN), f"published/{ASIN}/index.html"),
    "page_manifest": (layout.page_manifest_key(ASIN), f"published/{ASIN}/manifest.json"),
    "release_file": (
        layout.page_prefix(ASIN) + "r0123456789abcdef/poster.webp",
        f"published/{ASIN}/r0123456789abcdef/poster.webp",
    ),
    "static_file": (layout.static_key("shazam.js"), "published/_static/shazam.js"),
    "catalogue_page": (layout.catalogue_page_key(), "published/index.html"),
    "not_found_page": (layout.not_found_page_key(), "published/404.html"),
    "catalogue": (layout.catalogue_key(), "published/catalog.json"),
    "channel_file": (
        layout.channel_set_prefix(ASIN, 3, "c0123456789abcdef") + "web.glb",
        f"channels/{ASIN}/v3/c0123456789abcdef/web.glb",
    ),
    "channel_manifest": (layout.channel_manifest_key(ASIN, 3), f"channels/{ASIN}/v3/manifest.json"),
    "search_pointer": (layout.search_pointer_key(), "search/index/current.json"),
    "search_index_file": (
        layout.search_index_file_key(7, layout.SEARCH_META_NAME),
        "search/index/v7/meta.json",
    ),
    "search_table": (
        layout.search_table_key("entries.lance/_versions/1.manifest"),
        "search/lance/entries.lance/_versions/1.manifest",
    ),
    "search_catalogue": (layout.search_catalogue_keys()[0], "search/catalogue.parquet"),
    "metrics_table": (layout.metrics_table_key("versions"), "metrics/versions.parquet"),
    "metrics_latest": (layout.metrics_latest_key(), "metrics/latest.prom"),
    "metrics_report": (layout.metrics_report_key(), "metrics/report.html"),
    "scan_file": (layout.scan_file_key(ASIN, "photos/front.jpg"), f"scans/{ASIN}/photos/front.jpg"),
    "scan_record": (layout.scan_record_key(ASIN), f"production/{ASIN}/scan.json"),
    "production_event": (
        layout.production_event_key(ASIN, "20261207T071500123456Z", "e" * 32),
        f"production/{ASIN}/events/20261207T071500123456Z-{'e' * 32}.json",
    ),
    "production_feed": (
        layout.production_feed_key("20261207T071500123456Z", "e" * 32),
        f"production/feed/20261207T071500123456Z-{'e' * 32}.json",
    ),
    "audit_event": (
        layout.audit_event_key("2026-12-07", "20261207T071500123456Z", "e" * 32),
        f"audit/2026-12-07/20261207T071500123456Z-{'e' * 32}.json",
    ),
    "person": (layout.person_key("a" * 24), f"people/{'a' * 24}.json"),
    "assignment": (layout.assignment_key(ASIN), f"production/{ASIN}/assignment.json"),
    "artist_assignment": (
        layout.artist_assignment_key("a" * 24, ASIN),
        f"production/artists/{'a' * 24}/{ASIN}.json",
    ),
    "upload_session": (
        layout.upload_session_key(ASIN, "0f" * 16),
        f"upload-sessions/{ASIN}/{'0f' * 16}.json",
    ),
}


def test_every_kind_of_key_is_covered_here() -> None:
    assert set(BUILT) == set(layout.KINDS)


@pytest.mark.parametrize("name", sorted(BUILT))
def test_each_kind_builds_its_key_and_matches_it_back(name: str) -> None:
    built, expected = BUILT[name]
    assert built == expected
    kind = layout.KINDS[name]
    values = kind.match(built)
    assert values is not None and kind.key(**values) == built
    assert built.startswith(kind.prefix())


def test_typed_parsers_round_trip() -> None:
    assert layout.parse_upload_key(layout.upload_key(ASIN, "d.ZIP")) == UploadKey(ASIN, "d.ZIP")
    assert layout.parse_version_key(
        layout.version_file_key(ASIN, 12, "photos/a b.jpg")
    ) == VersionKey(ASIN, 12, "photos/a b.jpg")
    assert layout.parse_version_manifest_key(layout.version_manifest_key(ISBN, 2)) == AsinVersion(
        ISBN, 2
    )
    assert layout.parse_claim_key(layout.claim_key(ASIN, 4)) == (ASIN, 4)
    assert layout.parse_decision_key(layout.decision_key(ASIN, 5)) == AsinVersion(ASIN, 5)
    asin, version = layout.parse_decision_key(layout.decision_key(ASIN, 6)) or ("", 0)
    assert (asin, version) == (ASIN, 6)  # a tuple, as the QA sensor unpacks it
    assert layout.parse_published_pointer_key(layout.published_pointer_key(ASIN)) == ASIN
    assert layout.parse_page_manifest_key(layout.page_manifest_key(ASIN)) == ASIN
    assert (
        layout.parse_search_index_key(layout.search_index_file_key(9, layout.SEARCH_CLAIM_NAME))
        == 9
    )
    assert layout.page_store_key(
        layout.page_relative(layout.page_key(ASIN)) or ""
    ) == layout.page_key(ASIN)
    assert layout.parse_scan_file_key(layout.scan_file_key(ASIN, "a/b.obj")) == (ASIN, "a/b.obj")
    assert layout.parse_scan_record_key(layout.scan_record_key(ASIN)) == ASIN
    assert layout.parse_artist_assignment_key(layout.artist_assignment_key("a1", ASIN)) == ASIN


@pytest.mark.parametrize(
    ("parse", "key"),
    [
        (layout.parse_upload_key, f"uploads/{ASIN}/.zip"),  # no stem
        (layout.parse_upload_key, f"uploads/{ASIN}/d.tar"),
        (layout.parse_upload_key, f"uploads/{ASIN}/sub/d.zip"),  # deeper
        (layout.parse_upload_key, "uploads/B0lower0001/d.zip"),  # not an ASIN
        (layout.parse_upload_key, f"staging/{ASIN}/d.zip"),
        (layout.parse_version_key, f"assets/{ASIN}/3/model.glb"),  # no v
        (layout.parse_version_key, f"assets/{ASIN}/v3/"),
        (layout.parse_version_manifest_key, f"assets/{ASIN}/v3/model/version.json"),
        (layout.parse_claim_key, f"index/{ASIN}/deleted/v3.json"),
        (layout.parse_decision_key, f"decisions/{ASIN}/3.json"),
        (layout.parse_decision_key, f"decisions/{ASIN}/v3.json.bak"),
        (layout.parse_decision_key, f"decisions/{ASIN}/sub/v3.json"),
        (layout.parse_published_pointer_key, f"pointers/published/{ASIN}/manifest.json"),
        (layout.parse_published_pointer_key, "pointers/published/catalog.json"),
        (layout.parse_published_pointer_key, f"published/{ASIN}.json"),
        (layout.parse_page_manifest_key, "published/_static/manifest.json"),
        (layout.parse_page_manifest_key, f"published/{ASIN}/r0123456789abcdef/manifest.json"),
        (layout.parse_search_index_key, "search/index/current.json"),
        (layout.parse_scan_file_key, "scans/B0lower0001/a.obj"),
        (layout.parse_scan_record_key, f"production/{ASIN}/assignment.json"),
        (layout.parse_scan_record_key, "production/feed/scan.json"),
        (layout.parse_artist_assignment_key, f"production/{ASIN}/assignment.json"),
    ],
)
def test_parsers_refuse_other_keys(parse, key: str) -> None:
    assert parse(key) is None


def test_prefixes_are_folders_of_their_keys() -> None:
    assert (
        layout.uploads_prefix() == "uploads/" and layout.uploads_prefix(ASIN) == f"uploads/{ASIN}/"
    )
    assert layout.version_prefix(ASIN, 1) == f"assets/{ASIN}/v1/"
    assert not layout.version_manifest_key(ASIN, 10).startswith(layout.version_prefix(ASIN, 1))
    assert layout.claims_prefix(ASIN) == f"index/{ASIN}/claims/"
    assert layout.staging_prefix() == "staging/"
    assert layout.staging_prefix(ASIN) == f"staging/{ASIN}/"
    assert layout.page_prefix(ASIN) == f"published/{ASIN}/"
    assert layout.search_index_version_prefix(2) == "search/index/v2/"
    assert layout.run_failures_prefix() == "outbox/_runs/"


def test_a_version_owns_its_files_and_its_renders_and_nothing_else() -> None:
    owned = layout.version_data_prefixes(ASIN, 3)
    assert owned == (f"assets/{ASIN}/v3/", f"renders/{ASIN}/v3/", f"channels/{ASIN}/v3/")
    first, last = layout.version_commit_markers(ASIN, 3)
    assert first == (layout.turntable_manifest_key(ASIN, 3), layout.channel_manifest_key(ASIN, 3))
    assert last == layout.version_manifest_key(ASIN, 3)
    kept = [
        layout.decision_key(ASIN, 3),
        layout.scores_key(ASIN, 3),
        layout.claim_key(ASIN, 3),
        layout.tombstone_key(ASIN, 3),
        layout.page_key(ASIN),
    ]
    assert not any(k.startswith(owned) for k in kept)


def test_the_markdown_table_lists_every_kind() -> None:
    table = layout.layout_table_markdown()
    lines = table.splitlines()
    assert lines[0] == "| key pattern | written by | what it holds |"
    assert len(lines) == 2 + len(layout.KINDS)
    assert "| `assets/<ASIN>/v<N>/version.json` | ingest |" in table
    assert "| `decisions/<ASIN>/v<N>.json` |" in table


def test_the_table_prints_from_the_command_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shazam_assets.platform.layout", "--markdown"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert done.stdout == layout.layout_table_markdown()


# --- no store key is spelled outside the layout -------------------------------------------


def _markers() -> tuple[str, ...]:
    """What a store key starts with (the first folder of every kind), and the reserved names."""
    tops = {kind.pattern.split("/", 1)[0] + "/" for kind in layout.KINDS.values()}
    return (*sorted(tops), layout.VERSION_MANIFEST, layout.RESERVED_PREFIX)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string constants that are docstrings or bare string statements."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))
    return found


def _literal_starts(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, text) of each string literal in code: whole constants, and the literal head of
    each f-string (a key built as f"renders/{asin}/..." starts with one)."""
    skip = _docstrings(tree)
    out = []
    in_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            in_fstrings.update(id(v) for v in node.values)
            head = node.values[0] if node.values else None
            literal = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            start = head.value if isinstance(head, ast.Constant) else ""
            out.append((node.lineno, start + "\0" + literal))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in skip
            and id(node) not in in_fstrings
        ):
            out.append((node.lineno, node.value + "\0" + node.value))
    return out


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    prefixes = _markers()[:-2]
    names = _markers()[-2:]
    found = []
    for line, text in sorted(_literal_starts(tree)):
        start, whole = text.split("\0", 1)
        if start.startswith(prefixes) or any(n in whole for n in names):
            found.append(f"{path.relative_to(root)}:{line}: {whole!r}")
    return found


# Text for people that names a store file, not a key any code builds or reads (exact strings).
TOLD_TO_PEOPLE = {
    "shazam_assets/platform/errors.py": {
        "The approved version has no version.json (deleted or never stored)",
        "An archive member would overwrite one of the store's own files (version.json, temporary files)",
    },
}


def test_no_store_key_is_spelled_outside_the_layout() -> None:
    sources = sorted((ROOT / "shazam_assets").rglob("*.py")) + sorted(
        (ROOT / "dagster_project").rglob("*.py")
    )
    sources = [p for p in sources if p != ROOT / "shazam_assets/platform/layout.py"]
    offences = [
        o
        for path in sources
        for o in _offences(path)
        if o.split(": ", 1)[1].strip("'\"")
        not in TOLD_TO_PEOPLE.get(str(path.relative_to(ROOT)), ())
    ]
    assert offences == [], "build these keys with shazam_assets.platform.layout:\n" + "\n".join(
        offences
    )


def test_the_scan_catches_a_spelled_key(tmp_path: Path) -> None:
    spelled = tmp_path / "spelled.py"
    spelled.write_text(
        '"""Docstrings may say renders/<ASIN>/v<N>/ and version.json."""\n'
        "def f(asin):\n"
        '    """So may function docstrings: decisions/<ASIN>/v<N>.json."""\n'
        '    a = f"renders/{asin}/v1/"\n'
        '    b = "metrics/latest.prom"\n'
        '    c = prefix + "version.json"\n'
        '    d = f"{asin}/.shazam-tmp-x"\n'
        '    return "an ordinary string", a, b, c, d\n'
    )
    found = _offences(spelled, tmp_path)
    assert [o.split(":")[1] for o in found] == ["4", "5", "6", "7"]
