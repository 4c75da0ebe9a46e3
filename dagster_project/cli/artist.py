"""Commands for artists: pack a delivery, validate it, preview its turntable, upload it, and
follow what became of it.

`shazam validate` is the command run most often (by hand and in exporters' CI), so it starts
lean: this module imports click and the guard only; the guard forks before the validator
(numpy and the rules) is imported, and commands that need the store or a renderer import it
in their body. No command here imports Dagster.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, BinaryIO, cast

import click

from dagster_project.cli.shared import EXIT_REJECTED, CannotRun, checked_asin, open_configured_store
from shazam_assets.ingest.delivery.guard import Guard, guarded_delivery, guarded_path
from shazam_assets.ingest.delivery.profiles import DEFAULT_PROFILE, PROFILES, UnknownProfile
from shazam_assets.ingest.delivery.report import Report
from shazam_assets.platform.settings import DEFAULTS


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--profile", default=None, help="Budget profile (see `shazam profiles`).")
@click.option(
    "--asin", default=None, help="ASIN the delivery is meant for (checked against the manifest)."
)
def validate(path: Path, as_json: bool, profile: str | None, asin: str | None) -> None:
    """Validate a delivery ZIP, a .glb, or a .gltf with its resources beside it."""
    if not path.is_file():
        raise CannotRun(f"{path}: no such file")
    try:
        # one small single-threaded process: the guarded child is a fork, no interpreter start
        report = guarded_path(
            path, profile=profile, expected_asin=asin, guard=Guard.from_env(start="fork")
        )
    except UnknownProfile as exc:
        raise CannotRun(str(exc)) from None
    except OSError as exc:
        raise CannotRun(f"{path}: {exc}") from None
    if as_json:
        click.echo(report.to_json())
    else:
        print_report(report)
    sys.exit(0 if report.ok else EXIT_REJECTED)


def print_report(report: Report) -> None:
    verdict = (
        click.style("ACCEPTED", fg="green") if report.ok else click.style("REJECTED", fg="red")
    )
    click.echo(
        f"{verdict} {report.subject} (profile {report.profile}): "
        f"{len(report.errors)} errors, {len(report.warnings)} warnings"
    )
    for issue in report.issues:
        where = f" [{issue.path or issue.pointer}]" if (issue.path or issue.pointer) else ""
        click.echo(f"  {issue.severity.upper():7} {issue.code}{where}: {issue.message}")
        if issue.severity != "info":
            click.echo(f"          fix: {issue.hint}")


@click.command()
@click.option("--asin", required=True)
@click.option(
    "--model", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--photo",
    "photos",
    multiple=True,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Reference photo (repeatable).",
)
@click.option(
    "--scan", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Scan source .obj."
)
@click.option("--artist", required=True)
@click.option("--title", default=None, help="Product title (default: the model's file name).")
@click.option("--dimensions", required=True, help="Real-world W,H,D (X, Y up, Z front).")
@click.option("--unit", type=click.Choice(["m", "cm", "mm", "in"]), default="m", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def pack(
    asin: str,
    model: Path,
    photos: tuple[Path, ...],
    scan: Path | None,
    artist: str,
    title: str | None,
    dimensions: str,
    unit: str,
    out: Path,
    force: bool,
) -> None:
    """Build a delivery ZIP that follows the contract, then validate it."""
    from shazam_assets.ingest.delivery.pack import PackError, PackRequest, pack_delivery

    try:
        dims = tuple(float(v) for v in dimensions.split(","))
        if len(dims) != 3 or min(dims) <= 0:
            raise ValueError
    except ValueError:
        raise click.BadParameter(
            "expected three positive numbers W,H,D", param_hint="--dimensions"
        ) from None
    request = PackRequest(
        asin=asin,
        artist=artist,
        model=model,
        photos=tuple(photos),
        scan=scan,
        title=title or model.stem,
        dimensions=dims,
        unit=unit,
    )  # type: ignore[arg-type]
    try:
        written = pack_delivery(request, out=out, overwrite=force)
    except PackError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(f"wrote {written} ({written.stat().st_size:,} bytes)")
    report = guarded_delivery(
        written, expected_asin=asin, guard=Guard.from_env(start="fork")
    ).report
    print_report(report)
    sys.exit(0 if report.ok else EXIT_REJECTED)


@click.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for a turntable; a .png/.webp file with --camera.",
)
@click.option(
    "--frames",
    default=DEFAULTS.render_frames,
    show_default=True,
    help="Frames around the vertical axis (8-72).",
)
@click.option(
    "--size",
    default=str(DEFAULTS.render_size),
    show_default=True,
    help="Frame size in px; WxH for a --camera still.",
)
@click.option(
    "--camera",
    "camera_index",
    type=int,
    default=None,
    help="Render one still from the glTF file's camera INDEX instead of a turntable.",
)
@click.option(
    "--background", type=click.Choice(["white", "transparent"]), default="white", show_default=True
)
@click.option(
    "--format",
    "frame_format",
    type=click.Choice(["webp", "png"]),
    default="webp",
    show_default=True,
)
@click.option("--video", type=click.Choice(["mp4", "webm"]), default="mp4", show_default=True)
@click.option(
    "--deadline",
    "deadline_s",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds before the render is stopped (RENDER_TIMEOUT); default: scaled to the frames.",
)
def render(
    model: Path,
    out: Path,
    frames: int,
    size: str,
    camera_index: int | None,
    background: str,
    frame_format: str,
    video: str,
    deadline_s: float | None,
) -> None:
    """Render a .glb/.gltf: a 360° turntable into --out, or one still from a stored camera."""
    from shazam_assets.platform import renderer as studio
    from shazam_assets.render import turntable

    bg = cast("turntable.Background", background)
    try:
        if camera_index is not None:
            width, _, height = size.lower().partition("x")
            still = turntable.render_still(
                model,
                out,
                camera_index=camera_index,
                width=_px(width),
                height=_px(height or width),
                background=bg,
                deadline_s=deadline_s or turntable.STILL_DEADLINE_S,
            )
            click.echo(f"wrote {still}")
            return
        spec = turntable.TurntableSpec(
            frames=frames,
            size=_px(size),
            background=bg,
            frame_format=cast("turntable.FrameFormat", frame_format),
            video=cast("turntable.VideoFormat", video),
        )
        result = turntable.render_turntable(model, out, spec, deadline_s=deadline_s)
    except studio.RenderError as exc:
        raise CannotRun(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise CannotRun(f"{model}: {exc}") from None
    t = result.manifest
    click.echo(
        f"wrote {len(result.files)} files to {out} ({frames} frames at {spec.size}px): "
        f"{t.per_frame_s} s per frame, {t.total_s} s in all"
    )


def _px(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CannotRun(f"RENDER_BAD_SIZE: {text!r} is not a number of pixels") from None


@click.command()
@click.argument(
    "zip_path", metavar="ZIP", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--asin", required=True)
@click.option(
    "--name", default=None, help="Object name under uploads/<ASIN>/ (default: the file name)."
)
def upload(zip_path: Path, asin: str, name: str | None) -> None:
    """Upload a delivery ZIP to uploads/<ASIN>/ in the store; the upload sensor takes it from there."""
    from shazam_assets.ingest.uploads import UploadNameInvalid, checked_upload_key

    try:
        key = checked_upload_key(checked_asin(asin), name or zip_path.name)
    except UploadNameInvalid as exc:
        raise CannotRun(str(exc)) from None
    store = open_configured_store()
    if store.exists(key):
        raise CannotRun(
            f"UPLOAD_EXISTS: {store.uri(key)} already exists; pass --name to upload under another name"
        )
    size = zip_path.stat().st_size
    started = time.perf_counter()
    with (
        open(zip_path, "rb") as raw,
        click.progressbar(length=size, label=f"uploading {zip_path.name}", file=sys.stderr) as bar,
    ):
        info = store.put_stream(key, _Progress(raw, bar.update))  # type: ignore[arg-type]  # it only read()s
    click.echo(
        f"uploaded {store.uri(key)} ({size:,} bytes, ETag {info.etag}) "
        f"in {time.perf_counter() - started:.1f}s"
    )


class _Progress:
    def __init__(self, raw: BinaryIO, advance: Any) -> None:
        self.raw, self.advance = raw, advance

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.advance(len(chunk))
        return chunk


@click.command()
@click.argument("asin")
@click.option("--json", "as_json", is_flag=True)
def status(asin: str, as_json: bool) -> None:
    """Versions of an ASIN with their state, and its rejected uploads with their reasons."""
    from shazam_assets.operations.status import asin_status

    result = asin_status(open_configured_store(), checked_asin(asin))
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    _print_status(result)


def _print_status(result: dict) -> None:
    click.echo(f"{result['asin']}: published version {result['published_version'] or '-'}")
    for v in result["versions"]:
        size = f", {v['total_bytes']:,} bytes" if "total_bytes" in v else ""
        click.echo(f"  v{v['version']:<3} {v['state']:<11} {v['upload_key']}{size}")
    for r in result["rejections"]:
        click.echo(
            f"  rejected    {r['upload_key']} at {r['rejected_at']}: {', '.join(r['codes'])}"
        )
        for e in r["errors"][:5]:
            click.echo(f"              {e['code']}: {e['message']}")
    pending = [u for u in result["uploads"] if u["outcome"] == "pending"]
    for u in pending:
        click.echo(f"  pending     {u['key']} (not processed yet)")
    if not (result["versions"] or result["rejections"] or pending):
        click.echo("  no uploads yet")


@click.command()
def profiles() -> None:
    """List the commerce budget profiles."""
    for p in PROFILES.values():
        mark = " (default)" if p.name == DEFAULT_PROFILE else ""
        click.echo(
            f"{p.name}{mark}: {p.description} <= {p.max_triangles:,} triangles, "
            f"textures <= {p.max_texture_px} px, <= {p.max_model_bytes // 2**20} MB"
        )


COMMANDS = (validate, pack, render, upload, status, profiles)
