"""Does visual QA tell the right product from a wrong one? The separation, measured.

A delivery whose reference photos show the same product must score clearly better than one
whose photos show another product. For every model and every product's photo set this runs
`score_model_against_photos` (12 orbit views at 192 px) and prints markdown tables:

- the matrix of visual match scores (rows: the delivered model, columns: whose photos);
- the margin per model: the same-product score minus the best other-product score, within
  its group (the real Khronos models against each other, the demo products against each
  other) and against all seven;
- what `QAThresholds` makes of every cell (OK / WARN / ERROR), same product and other;
- seconds per scoring (loading and rendering the model included), and the studio renderer's
  seconds per view for the Mixer (~47k triangles).

Models: Mixer and WickerChair from ../shared/data/khronos-3dc (.glb, with their rr-*.png
sample renders; one full product shot and two close-ups each) when that folder exists, and
the five procedural demo products (two product shots each).

    .venv/bin/python bench/bench_qa_separation.py [--sheets DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shazam_assets.platform.errors import Severity  # noqa: E402
from shazam_assets.platform.renderer import StudioRenderer, load_model_info  # noqa: E402
from shazam_assets.qa.scoring import (  # noqa: E402
    QAThresholds,
    VisualQA,
    contact_sheet,
    default_views,
    read_photo,
    render_views,
    score_model_against_photos,
)
from shazam_demo.products import CATALOG, make_product  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "khronos-3dc"
KHRONOS = ("Mixer", "WickerChair")

Case = tuple[str, str, Path, tuple[Path, ...]]  # (name, group, model, photos)


def _cases(work: Path) -> list[Case]:
    """Every model with its own photos, Khronos first (when present), then the demo catalog."""
    cases: list[Case] = []
    for name in KHRONOS:
        folder = DATA / name
        if (folder / f"{name}.glb").is_file():
            photos = tuple(sorted(folder.glob(f"rr-{name}-*.png")))
            cases.append((name, "khronos", folder / f"{name}.glb", photos))
    for slug in CATALOG:
        product = make_product(slug, out_dir=work, with_scan=False)
        cases.append((slug, "demo", product.model, product.photos))
    return cases


def _matrix(cases: list[Case]) -> dict[tuple[str, str], VisualQA]:
    """Score every model against every product's photos, each scoring as QA runs it."""
    results = {}
    for name, _, model, _ in cases:
        for other, _, _, photos in cases:
            results[(name, other)], _ = score_model_against_photos(model, photos)
        print(f"  scored {name}", file=sys.stderr, flush=True)
    return results


def _margin(results: dict[tuple[str, str], VisualQA], name: str, others: list[str]) -> str:
    rivals = [o for o in others if o != name]
    if not rivals:
        return "-"
    best = max(rivals, key=lambda o: results[(name, o)].score)
    return f"{results[(name, name)].score - results[(name, best)].score:+.3f} (vs {best})"


def _print_tables(cases: list[Case], results: dict[tuple[str, str], VisualQA]) -> None:
    names = [c[0] for c in cases]
    groups = {c[0]: c[1] for c in cases}
    print("### Visual match score (rows: delivered model, columns: whose reference photos)\n")
    print("| model \\ photos | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for row in names:
        cells = [
            f"**{results[(row, col)].score:.3f}**"
            if row == col
            else f"{results[(row, col)].score:.3f}"
            for col in names
        ]
        print(f"| {row} | " + " | ".join(cells) + " |")
    print("\n### Margin: same-product score minus the best other-product score\n")
    print("| model | same product | margin within its group | margin against all |")
    print("|---|---:|---|---|")
    for row in names:
        group = [n for n in names if groups[n] == groups[row]]
        print(
            f"| {row} | {results[(row, row)].score:.3f} | {_margin(results, row, group)} "
            f"| {_margin(results, row, names)} |"
        )


def _print_verdicts(names: list[str], results: dict[tuple[str, str], VisualQA]) -> None:
    thresholds = QAThresholds()
    verdicts = {None: "ok", Severity.WARNING: "warn", Severity.ERROR: "error"}
    counts = {(same, v): 0 for same in (True, False) for v in verdicts.values()}
    for (row, col), qa in results.items():
        counts[(row == col, verdicts[thresholds.severity(qa.score)])] += 1
    same = [results[(n, n)].score for n in names]
    other = [qa.score for (r, c), qa in results.items() if r != c]
    print(f"\n### What QAThresholds(warn={thresholds.warn}, error={thresholds.error}) says\n")
    print("| photos | cells | OK | WARN | ERROR | lowest | highest |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, flag, scores in (("same product", True, same), ("other product", False, other)):
        n_ok, n_warn, n_err = (counts[(flag, v)] for v in ("ok", "warn", "error"))
        print(
            f"| {label} | {len(scores)} | {n_ok} | {n_warn} | {n_err} "
            f"| {min(scores):.3f} | {max(scores):.3f} |"
        )


def _print_details(cases: list[Case], results: dict[tuple[str, str], VisualQA]) -> None:
    print("\n### Same-product photos: best view per photo\n")
    print("| model | photo | close-up | best view | IoU | mean dE2000 | score |")
    print("|---|---|---|---|---:|---:|---:|")
    for name, *_ in cases:
        for p in results[(name, name)].photos:
            iou = "-" if p.close_up else f"{p.silhouette_iou:.3f}"
            print(
                f"| {name} | {p.photo} | {'yes' if p.close_up else 'no'} | {p.best_view} "
                f"| {iou} | {p.delta_e:.1f} | {p.score:.3f} |"
            )


def _print_timings(cases: list[Case], results: dict[tuple[str, str], VisualQA]) -> None:
    views = len(default_views())
    print(f"\n### Seconds per scoring ({views} views at 192 px, loading the model included)\n")
    print("| model | triangles | load s | photos per scoring | median s | max s |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _, model, photos in cases:
        seconds = [results[(name, other)].seconds for other, *_ in cases]
        started = time.perf_counter()
        with StudioRenderer(width=192, height=192) as studio:
            triangles = studio.load(model).triangles
        load_s = time.perf_counter() - started
        print(
            f"| {name} | {triangles} | {load_s:.2f} | {len(photos)} "
            f"| {statistics.median(seconds):.2f} | {max(seconds):.2f} |"
        )


def _print_render_speed(cases: list[Case]) -> None:
    """The renderer alone: seconds per 192 px QA view of the largest model (loading, then
    the default views; each view is two studio shots, over black and over white)."""
    name, _, model, _ = max(cases, key=lambda c: load_model_info(c[2]).triangles)
    views = default_views()
    render_views(model, views[:1])  # warm-up: the renderer and its lighting
    started = time.perf_counter()
    render_views(model, views[:1])
    load_s = time.perf_counter() - started  # one view with the loading
    started = time.perf_counter()
    render_views(model, views)
    per_view = (time.perf_counter() - started - load_s) / (len(views) - 1)
    print(
        f"\nStudio renderer: {name} ({load_model_info(model).triangles} triangles) loads and "
        f"renders a first 192 px view in {load_s:.2f} s, then {per_view:.3f} s per view "
        f"(transparent background: two shots per view)."
    )


def _write_sheets(cases: list[Case], out: Path) -> None:
    """A render | reference contact sheet of every model with its own photos."""
    for name, _, model, photos in cases:
        qa, renderings = score_model_against_photos(model, photos)
        by_view = {r.view.name: r for r in renderings}
        pairs = [
            (by_view[p.best_view].rgb, read_photo(photo, longest=512), p.caption)
            for p, photo in zip(qa.photos, photos, strict=True)
        ]
        print(f"contact sheet: {contact_sheet(pairs, out / f'{name}.png')}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=Path, help="write same-product contact sheets here")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"note: {DATA} not found, scoring the demo products only", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="bench-qa-") as tmp:
        cases = _cases(Path(tmp))
        results = _matrix(cases)
        names = [c[0] for c in cases]
        _print_tables(cases, results)
        _print_verdicts(names, results)
        _print_details(cases, results)
        _print_timings(cases, results)
        if args.sheets:
            _write_sheets(cases, args.sheets)
        _print_render_speed(cases)
    return 0


if __name__ == "__main__":
    sys.exit(main())
