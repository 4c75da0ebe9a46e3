"""`shazam`: the command line for artists, QA reviewers and pipeline engineers.

Fast commands (validate, pack, codes) import no Dagster. Errors a user can cause print one
clear line (plus the report) and exit non-zero, never a traceback.
Exit codes of `shazam validate`: 0 accepted (warnings allowed), 1 rejected, 2 could not run.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import cast

import click

from shazam_assets.platform import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
EXIT_REJECTED = 1
EXIT_CANNOT_RUN = 2


class CannotRun(click.ClickException):
    exit_code = EXIT_CANNOT_RUN


class _Hours(click.ParamType):
    """A finite, non-negative number of hours ('nan' and 'inf' parse as floats, then break
    timedelta arithmetic far from the command line)."""

    name = "hours"

    def convert(self, value, param, ctx) -> float:
        import math

        try:
            hours = float(value)
        except (TypeError, ValueError):
            hours = math.nan
        if not (math.isfinite(hours) and 0 <= hours <= 24 * 365 * 100):
            self.fail(f"{value!r} is not a number of hours (0 or more)", param, ctx)
        return hours


HOURS = _Hours()


def apply_default_env() -> dict[str, str]:
    """Fill unset SHAZAM_* / DAGSTER_HOME variables with the checkout's embedded defaults, and
    create the embedded default store: the one store made on purpose (any other local root
    must exist, so a mistyped one is refused instead of becoming a new empty store)."""
    from shazam_assets.platform.storage import open_store

    for name, value in settings.defaults(PROJECT_ROOT).items():
        os.environ.setdefault(name, value)
    settings.ensure_dagster_home(Path(os.environ["DAGSTER_HOME"]))
    if os.environ["SHAZAM_STORE_URL"] == settings.defaults(PROJECT_ROOT)["SHAZAM_STORE_URL"]:
        open_store(os.environ["SHAZAM_STORE_URL"], create=True)
    return {name: os.environ[name] for name in settings.defaults(PROJECT_ROOT)}


def _store():
    """The store SHAZAM_STORE_URL names (the embedded default by default)."""
    from shazam_assets.platform.storage import open_store

    apply_default_env()
    return open_store(os.environ["SHAZAM_STORE_URL"])


def _asin(value: str) -> str:
    from shazam_assets.platform.asin import asin_problem

    if problem := asin_problem(value):
        raise CannotRun(f"ASIN_INVALID: {problem}")
    return value


def _one_line(code: str, message: str) -> str:
    """`CODE: message` on one line, printable whatever bytes the message carries."""
    from shazam_assets.platform.freetext import readable

    return f"{code}: {' '.join(readable(message).split())}"


def _failure(exc: Exception) -> CannotRun:
    """The one line (and exit code 2) for a failure that escaped a command: the project's
    errors carry their code; an OSError (disk full, permission denied) is named by its errno;
    anything else is a defect, reported without a traceback (SHAZAM_DEBUG=1 shows it)."""
    import errno

    code = getattr(exc, "code", None)
    if isinstance(exc, OSError) and not isinstance(code, str):
        name = errno.errorcode.get(exc.errno or 0, "ERROR")
        where = f": {exc.filename}" if exc.filename else ""
        return CannotRun(_one_line(f"OS_{name}", f"{exc.strerror or exc}{where}"))
    if not isinstance(code, str):
        code = "STORE_FAILED" if _is_boto_error(exc) else "SHAZAM_INTERNAL_ERROR"
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    if code == "SHAZAM_INTERNAL_ERROR":
        message = f"{type(exc).__name__}: {message} (a defect; SHAZAM_DEBUG=1 shows the traceback)"
    return CannotRun(_one_line(code, message))


def _is_boto_error(exc: Exception) -> bool:
    module = type(exc).__module__
    return module.startswith(("botocore.", "boto3."))


class _Cli(click.Group):
    """The one error boundary: whatever escapes a command (a store that cannot be reached, a
    full disk, a refused decision, a defect) becomes one line with a code and exit code 2,
    never a traceback, and never exit code 1, which `shazam validate` reserves for "rejected"."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("SHAZAM_DEBUG"):
                raise
            raise _failure(exc) from None


# Dagster's notices about APIs the project uses on purpose (partitioned asset checks, backfill
# policies) are for its developers (docs/operations.md), not for whoever runs a command. Matched
# by message, so commands that never load Dagster do not import it for the filter.
_DAGSTER_NOTICES = (
    r".* is currently in (beta|preview)",
    r"Asset job \w+ materializes assets with varying BackfillPolicies",
)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """SHAZAM: validated, versioned 3D product models, orchestrated by Dagster."""
    import warnings

    for notice in _DAGSTER_NOTICES:
        warnings.filterwarnings("ignore", message=notice)


@main.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON.")
@click.option("--profile", default=None, help="Budget profile (see `shazam profiles`).")
@click.option("--asin", default=None, help="ASIN the delivery is meant for (checked against the manifest).")
def validate(path: Path, as_json: bool, profile: str | None, asin: str | None) -> None:
    """Validate a delivery ZIP, a .glb, or a .gltf with its resources beside it."""
    from shazam_assets.ingest.delivery.guard import Guard, guarded_path
    from shazam_assets.ingest.delivery.profiles import UnknownProfile

    if not path.is_file():
        raise CannotRun(f"{path}: no such file")
    try:
        # one small single-threaded process: the guarded child is a fork, no interpreter start
        report = guarded_path(path, profile=profile, expected_asin=asin, guard=Guard.from_env(start="fork"))
    except UnknownProfile as exc:
        raise CannotRun(str(exc)) from None
    except OSError as exc:
        raise CannotRun(f"{path}: {exc}") from None
    if as_json:
        click.echo(report.to_json())
    else:
        _print_report(report)
    sys.exit(0 if report.ok else EXIT_REJECTED)


def _print_report(report) -> None:
    verdict = click.style("ACCEPTED", fg="green") if report.ok else click.style("REJECTED", fg="red")
    click.echo(f"{verdict} {report.subject} (profile {report.profile}): "
               f"{len(report.errors)} errors, {len(report.warnings)} warnings")
    for issue in report.issues:
        where = f" [{issue.path or issue.pointer}]" if (issue.path or issue.pointer) else ""
        click.echo(f"  {issue.severity.upper():7} {issue.code}{where}: {issue.message}")
        if issue.severity != "info":
            click.echo(f"          fix: {issue.hint}")


@main.command()
@click.option("--asin", required=True)
@click.option("--model", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--photo", "photos", multiple=True, required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Reference photo (repeatable).")
@click.option("--scan", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Scan source .obj.")
@click.option("--artist", required=True)
@click.option("--title", default=None, help="Product title (default: the model's file name).")
@click.option("--dimensions", required=True, help="Real-world W,H,D (X, Y up, Z front).")
@click.option("--unit", type=click.Choice(["m", "cm", "mm", "in"]), default="m", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
def pack(asin, model, photos, scan, artist, title, dimensions, unit, out, force) -> None:
    """Build a delivery ZIP that follows the contract, then validate it."""
    from shazam_assets.ingest.delivery.guard import Guard, guarded_delivery
    from shazam_assets.ingest.delivery.pack import PackError, PackRequest, pack_delivery

    try:
        dims = tuple(float(v) for v in dimensions.split(","))
        if len(dims) != 3 or min(dims) <= 0:
            raise ValueError
    except ValueError:
        raise click.BadParameter("expected three positive numbers W,H,D", param_hint="--dimensions") from None
    request = PackRequest(asin=asin, artist=artist, model=model, photos=tuple(photos), scan=scan,
                          title=title or model.stem, dimensions=dims, unit=unit)  # type: ignore[arg-type]
    try:
        written = pack_delivery(request, out=out, overwrite=force)
    except PackError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(f"wrote {written} ({written.stat().st_size:,} bytes)")
    report = guarded_delivery(written, expected_asin=asin, guard=Guard.from_env(start="fork")).report
    _print_report(report)
    sys.exit(0 if report.ok else EXIT_REJECTED)


@main.command()
@click.argument("zip_path", metavar="ZIP", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--asin", required=True)
@click.option("--name", default=None, help="Object name under uploads/<ASIN>/ (default: the file name).")
def upload(zip_path: Path, asin: str, name: str | None) -> None:
    """Upload a delivery ZIP to uploads/<ASIN>/ in the store; the upload sensor takes it from there."""
    key = _upload_key(_asin(asin), name or zip_path.name)
    store = _store()
    if store.exists(key):
        raise CannotRun(f"UPLOAD_EXISTS: {store.uri(key)} already exists; pass --name to upload under another name")
    size = zip_path.stat().st_size
    started = time.perf_counter()
    with open(zip_path, "rb") as raw, click.progressbar(length=size, label=f"uploading {zip_path.name}",
                                                         file=sys.stderr) as bar:
        info = store.put_stream(key, _Progress(raw, bar.update))
    click.echo(f"uploaded {store.uri(key)} ({size:,} bytes, ETag {info.etag}) "
               f"in {time.perf_counter() - started:.1f}s")


def _upload_key(asin: str, name: str) -> str:
    """`uploads/<ASIN>/<name>` when the upload sensor will pick that key up (one name ending in
    .zip, valid UTF-8, no control characters), else UPLOAD_NAME_INVALID: an upload nobody
    processes is worse than a refusal."""
    from shazam_assets.platform import freetext, layout

    try:
        name = freetext.normalize(name, freetext.TextField("upload name", 200))
    except freetext.TextError as exc:
        raise CannotRun(f"UPLOAD_NAME_INVALID: {exc}") from None
    key = layout.upload_key(asin, name)
    reserved = name.startswith(layout.RESERVED_PREFIX)  # the store's own temporary files
    if layout.parse_upload_key(key) is None or reserved or name in (".", ".."):
        raise CannotRun(
            f"UPLOAD_NAME_INVALID: {name!r} would never be processed; an upload name is one file name "
            "(no '/') ending in .zip, such as delivery-2.zip"
        )
    return key


class _Progress:
    def __init__(self, raw, advance) -> None:
        self.raw, self.advance = raw, advance

    def read(self, n: int = -1) -> bytes:
        chunk = self.raw.read(n)
        self.advance(len(chunk))
        return chunk


@main.command()
@click.argument("asin")
@click.option("--json", "as_json", is_flag=True)
def status(asin: str, as_json: bool) -> None:
    """Versions of an ASIN with their state, and its rejected uploads with their reasons."""
    from shazam_assets.operations.status import asin_status

    result = asin_status(_store(), _asin(asin))
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
        click.echo(f"  rejected    {r['upload_key']} at {r['rejected_at']}: {', '.join(r['codes'])}")
        for e in r["errors"][:5]:
            click.echo(f"              {e['code']}: {e['message']}")
    pending = [u for u in result["uploads"] if u["outcome"] == "pending"]
    for u in pending:
        click.echo(f"  pending     {u['key']} (not processed yet)")
    if not (result["versions"] or result["rejections"] or pending):
        click.echo("  no uploads yet")


@main.group()
def qa() -> None:
    """QA review: approve or reject versions, see the backlog, roll back."""


def _comments(values: tuple[str, ...]) -> tuple[dict[str, str], ...]:
    out = []
    for value in values:
        issue, sep, text = value.partition("=")
        if not sep or not issue.strip() or not text.strip():
            raise click.BadParameter(f"{value!r}: expected ISSUE=comment", param_hint="--comment")
        out.append({"issue": issue.strip(), "comment": text.strip()})
    return tuple(out)


_comment_option = click.option(
    "--comment", "comments", multiple=True,
    help="Per-issue comment ISSUE=text, e.g. qa_placement='sits 2 cm high' (repeatable).",
)


def _decide(asin: str, version: int, verdict: str, reviewer: str, note: str, comments: tuple[str, ...]) -> None:
    from shazam_assets.qa.decisions import DecisionError, record_decision

    try:
        decision = record_decision(_store(), asin=_asin(asin), version=version, verdict=verdict,
                                   reviewer=reviewer, notes=note, comments=_comments(comments), source="cli")
    except DecisionError as exc:
        raise CannotRun(f"{exc.code}: {exc}") from None
    click.echo(f"{asin} v{version} {decision.verdict.past} by {decision.reviewer} at {decision.decided_at}; "
               "the QA sensor records it as the qa_approved check"
               + (" and publishes it" if verdict == "approve" else " and notifies the artist"))


@qa.command()
@click.argument("asin")
@click.option("--version", "version", type=int, required=True)
@click.option("--reviewer", required=True)
@click.option("--note", default="", help="Optional for approval.")
@_comment_option
def approve(asin: str, version: int, reviewer: str, note: str, comments: tuple[str, ...]) -> None:
    """Approve a version: it will be published and older versions cleaned up."""
    _decide(asin, version, "approve", reviewer, note, comments)


@qa.command()
@click.argument("asin")
@click.option("--version", "version", type=int, required=True)
@click.option("--reviewer", required=True)
@click.option("--note", required=True, help="What the artist must fix (required).")
@_comment_option
def reject(asin: str, version: int, reviewer: str, note: str, comments: tuple[str, ...]) -> None:
    """Reject a version; the artist is notified with the note."""
    _decide(asin, version, "reject", reviewer, note, comments)


@qa.command()
@click.argument("asin")
def rollback(asin: str) -> None:
    """Publish the previous approved version again."""
    from shazam_assets.qa.decisions import DecisionError
    from shazam_assets.qa.decisions import rollback as roll_back

    try:
        done = roll_back(_store(), _asin(asin))
    except DecisionError as exc:
        raise CannotRun(f"{exc.code}: {exc}") from None
    click.echo(f"{asin}: published version is now v{done.version} (was v{done.previous})")


@qa.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--sla-hours", type=HOURS, default=24.0, show_default=True, help="Reviews older than this are overdue.")
def pending(as_json: bool, sla_hours: float) -> None:
    """The review backlog, oldest first, with age; overdue reviews are marked."""
    from datetime import UTC, datetime, timedelta

    from shazam_assets.qa.backlog import pending_reviews

    backlog = pending_reviews(_store(), now=datetime.now(UTC), sla=timedelta(hours=sla_hours))
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in backlog], indent=2))
        return
    if not backlog:
        click.echo("nothing to review")
    for p in backlog:
        hours = p.age.total_seconds() / 3600
        mark = click.style(" OVERDUE", fg="red") if p.overdue else ""
        click.echo(f"{p.asin} v{p.version:<3} {hours:6.1f} h  {p.title}{mark}")


@main.group()
def store() -> None:
    """The object store itself: housekeeping for operators."""


@store.command()
@click.option("--grace-hours", type=HOURS, default=1.0, show_default=True,
              help="Only temporary files untouched this long (younger ones may be writes in progress).")
@click.option("--staging-grace-hours", type=HOURS, default=24.0, show_default=True,
              help="Only staging files this old (younger ones may belong to a run in progress).")
def gc(grace_hours: float, staging_grace_hours: float) -> None:
    """Delete what killed writes and runs left behind: temporary files (never listed as
    objects) and staging files of runs that never committed (their uploads are kept).
    The daily store_housekeeping_schedule does the same."""
    from datetime import timedelta

    from shazam_assets.ingest.versions import reclaim_leftovers

    target = _store()
    done = reclaim_leftovers(target, temp_older_than=timedelta(hours=grace_hours),
                             staging_older_than=timedelta(hours=staging_grace_hours))
    click.echo(f"{target.url}: reclaimed {done.temp.files} temporary files ({done.temp.bytes:,} bytes) "
               f"older than {grace_hours:g} h")
    click.echo(f"{target.url}: reclaimed {done.staging.files} staging files ({done.staging.bytes:,} bytes) "
               f"older than {staging_grace_hours:g} h")


_ALLOWED_HOST_OPTION = click.option(
    "--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
    help="A Host name the app is reached by (repeatable); others are refused. Loopback names "
    "and --host are always allowed; with --host 0.0.0.0 and no --allowed-host, every name is.",
)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@_ALLOWED_HOST_OPTION
@click.option("--port", default=8421, show_default=True, type=int)
@click.option("--sla-hours", type=HOURS, default=24.0, show_default=True)
def review(host: str, allowed_hosts: tuple[str, ...], port: int, sla_hours: float) -> None:
    """Serve the QA review page (pending list, 3D view, photos, scores, approve/reject)."""
    from datetime import timedelta

    from shazam_assets.qa.review.app import serve

    store = _store()
    click.echo(f"QA review page on http://{host}:{port}/ (store {os.environ['SHAZAM_STORE_URL']})")
    serve(store, host=host, port=port, sla=timedelta(hours=sla_hours), allowed_hosts=allowed_hosts)


@main.command()
@click.argument("model", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="Folder for a turntable; a .png/.webp file with --camera.")
@click.option("--frames", default=36, show_default=True, help="Frames around the vertical axis (8-72).")
@click.option("--size", default="1024", show_default=True,
              help="Frame size in px; WxH for a --camera still.")
@click.option("--camera", "camera_index", type=int, default=None,
              help="Render one still from the glTF file's camera INDEX instead of a turntable.")
@click.option("--background", type=click.Choice(["white", "transparent"]), default="white", show_default=True)
@click.option("--format", "frame_format", type=click.Choice(["webp", "png"]), default="webp", show_default=True)
@click.option("--video", type=click.Choice(["mp4", "webm"]), default="mp4", show_default=True)
@click.option("--deadline", "deadline_s", type=click.FloatRange(min=0.1), default=None,
              help="Seconds before the render is stopped (RENDER_TIMEOUT); default: scaled to the frames.")
def render(model: Path, out: Path, frames: int, size: str, camera_index: int | None,
           background: str, frame_format: str, video: str, deadline_s: float | None) -> None:
    """Render a .glb/.gltf: a 360° turntable into --out, or one still from a stored camera."""
    from shazam_assets import render as studio
    from shazam_assets.render import turntable

    bg = cast("turntable.Background", background)
    try:
        if camera_index is not None:
            width, _, height = size.lower().partition("x")
            still = turntable.render_still(
                model, out, camera_index=camera_index, width=_px(width), height=_px(height or width),
                background=bg, deadline_s=deadline_s or turntable.STILL_DEADLINE_S)
            click.echo(f"wrote {still}")
            return
        spec = turntable.TurntableSpec(
            frames=frames, size=_px(size), background=bg,
            frame_format=cast("turntable.FrameFormat", frame_format),
            video=cast("turntable.VideoFormat", video),
        )
        result = turntable.render_turntable(model, out, spec, deadline_s=deadline_s)
    except studio.RenderError as exc:
        raise CannotRun(str(exc)) from None
    except (OSError, ValueError) as exc:
        raise CannotRun(f"{model}: {exc}") from None
    t = result.manifest
    click.echo(f"wrote {len(result.files)} files to {out} ({frames} frames at {spec.size}px): "
               f"{t.per_frame_s} s per frame, {t.total_s} s in all")


def _px(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CannotRun(f"RENDER_BAD_SIZE: {text!r} is not a number of pixels") from None


@main.command()
@click.option("--markdown", is_flag=True, help="Print docs/error-codes.md.")
def codes(markdown: bool) -> None:
    """List every code: validation findings (with their severity), then every other refusal."""
    from shazam_assets.ingest.delivery.codes import all_rules, rules_markdown
    from shazam_assets.platform import errors

    if markdown:
        click.echo(rules_markdown(), nl=False)
        return
    for rule in all_rules():
        click.echo(f"{rule.code:40} {rule.severity:8} {rule.summary}")
    for code in errors.all_codes():
        click.echo(f"{code.code:40} {'refusal':8} {code.summary}")


@main.command()
def profiles() -> None:
    """List the commerce budget profiles."""
    from shazam_assets.ingest.delivery.profiles import DEFAULT_PROFILE, PROFILES

    for p in PROFILES.values():
        mark = " (default)" if p.name == DEFAULT_PROFILE else ""
        click.echo(f"{p.name}{mark}: {p.description} <= {p.max_triangles:,} triangles, "
                   f"textures <= {p.max_texture_px} px, <= {p.max_model_bytes // 2**20} MB")


@main.command()
def env() -> None:
    """Print `export` lines for the environment in use (defaults for unset variables), for
    `eval "$(shazam env)"` before running `dagster` commands on the same store."""
    import shlex

    for name, value in settings.defaults(PROJECT_ROOT).items():
        click.echo(f"export {name}={shlex.quote(os.environ.get(name, value))}")


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("dagster_args", nargs=-1, type=click.UNPROCESSED)
def ui(dagster_args) -> None:
    """Start the Dagster UI and daemon (`dagster dev -w workspace.yaml`) on the embedded store."""
    apply_default_env()
    os.chdir(PROJECT_ROOT)
    from dagster_project import dagster_executable

    os.execv(dagster_executable("dagster"), ["dagster", "dev", "-w", "workspace.yaml", *dagster_args])


@main.command()
@click.option("--timeout", default=600, show_default=True, help="Seconds to wait for the runs.")
def demo(timeout: int) -> None:
    """Make demo products, upload them, and let the real sensor and daemon process them."""
    from shazam_demo.run import DEMO_RENDER, DaemonDied, run_demo

    for name, value in DEMO_RENDER.items():  # CPU-friendly turntables unless asked otherwise
        os.environ.setdefault(name, value)
    apply_default_env()
    try:
        ok = run_demo(project_root=PROJECT_ROOT, timeout_s=timeout, echo=click.echo)
    except (DaemonDied, TimeoutError) as exc:
        raise click.ClickException(str(exc)) from None
    sys.exit(0 if ok else 1)


_EMBEDDER_OPTION = click.option(
    "--embedder", default="descriptor", show_default=True,
    help="Image embedder: 'descriptor', or 'open_clip:/local/checkpoint' (needs open_clip).",
)


@main.command()
@click.option("--asin", default=None, help="Exact ASIN.")
@click.option("--text", default=None, help="Words from the title, artist, brand or category.")
@click.option("--image", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A photo of the product (JPEG, PNG, WebP).")
@click.option("--k", default=10, show_default=True, type=click.IntRange(1, 1000), help="How many results.")
@click.option("--json", "as_json", is_flag=True, help='Print {"results": [{"asin", "score", "title"}, …]}.')
@_EMBEDDER_OPTION
def search(asin: str | None, text: str | None, image: Path | None, k: int, as_json: bool, embedder: str) -> None:
    """Find published 3D assets by ASIN, by words, or by a photo (exactly one of them)."""
    from shazam_assets.search.embed import decode_image, open_embedder
    from shazam_assets.search.errors import SearchError
    from shazam_assets.search.index import SearchIndex

    given = [name for name, value in (("--asin", asin), ("--text", text), ("--image", image)) if value is not None]
    if len(given) != 1:
        got = f" (got {' and '.join(given)})" if given else ""
        raise CannotRun(f"give exactly one of --asin, --text or --image{got}")
    if image is not None and not image.is_file():
        raise CannotRun(f"{image}: no such file")
    try:
        index = SearchIndex.load(_store(), open_embedder(embedder))
        if asin is not None:
            hits = [hit] if (hit := index.lookup(asin)) else []
        elif text is not None:
            hits = index.search_text(text, k)
        else:
            hits = index.search_image(decode_image(image), k)  # type: ignore[arg-type]
    except SearchError as exc:
        raise CannotRun(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"results": [hit.to_dict() for hit in hits]}, indent=2))
        return
    if not hits:
        click.echo(f"no results (index v{index.version or '-'}, {len(index)} ASINs)")
    for rank, hit in enumerate(hits, 1):
        click.echo(f"{rank:>3}. {hit.asin}  {hit.score:8.4f}  {hit.title}")


@main.command("search-index")
@click.option("--catalogue", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="CSV or Parquet with asin,title,brand,category (default: the store's search/catalogue.*).")
@_EMBEDDER_OPTION
def search_index(catalogue: Path | None, embedder: str) -> None:
    """Rebuild the search index from every published ASIN and save it beside the assets."""
    from shazam_assets.search.build import rebuild
    from shazam_assets.search.embed import open_embedder
    from shazam_assets.search.errors import SearchError

    store = _store()
    started = time.perf_counter()
    try:
        index = rebuild(store, open_embedder(embedder), catalogue, log=click.echo)
        saved = index.save(store)
    except SearchError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(f"search index v{saved.version}: {saved.asins} ASINs, {saved.vectors} vectors, "
               f"{saved.bytes_written:,} bytes under {store.uri(saved.prefix)} "
               f"in {time.perf_counter() - started:.1f}s")



@main.command()
@click.argument("asin")
@click.option("--reason", default="unpublished from the CLI", show_default=True, help="Recorded in the pointer's history.")
@_EMBEDDER_OPTION
def unpublish(asin: str, reason: str, embedder: str) -> None:
    """Take an ASIN off the shop: its product page, its catalogue entry and its search entry.
    Its versions stay stored and approved; the pointer's history records the unpublishing."""
    from shazam_assets import publish
    from shazam_assets.qa.decisions import DecisionError
    from shazam_assets.qa.decisions import unpublish as clear_pointer
    from shazam_assets.search.build import update_asins
    from shazam_assets.search.embed import open_embedder
    from shazam_assets.search.errors import SearchError

    store, asin = _store(), _asin(asin)
    try:
        version = clear_pointer(store, asin, reason=reason)
        index = open_embedder(embedder)
        gone = publish.unpublish_product(
            store, asin, on_removed=lambda a: update_asins(store, [a], index), log=click.echo
        )
    except DecisionError as exc:
        raise CannotRun(f"{exc.code}: {exc}") from None
    except (publish.PublishError, SearchError) as exc:
        raise CannotRun(str(exc)) from None
    click.echo(f"unpublished {asin} v{version}: page {'removed' if gone.was_live else 'was not live'}, "
               f"{gone.files_deleted} files ({gone.bytes_reclaimed:,} bytes) deleted, search entry removed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@_ALLOWED_HOST_OPTION
@click.option("--port", default=8422, show_default=True, type=int)
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Where GET /metrics answers (it names artists: keep it internal).")
@click.option("--metrics-port", default=9422, show_default=True, type=int)
@_EMBEDDER_OPTION
def serve(
    host: str, allowed_hosts: tuple[str, ...], port: int, metrics_host: str, metrics_port: int, embedder: str
) -> None:
    """Serve the product pages and the catalogue (/) and the search API (/search, /docs);
    the Prometheus metrics on a separate, internal port."""
    from shazam_assets.operations.metrics import create_metrics_app
    from shazam_assets.platform import web
    from shazam_assets.publish import create_pages_app
    from shazam_assets.search.api import create_search_app
    from shazam_assets.search.embed import open_embedder

    store = _store()
    hosts = web.allowed_hosts_for(host, allowed_hosts)
    app = create_search_app(store, open_embedder(embedder), allowed_hosts=hosts)
    app.mount("/", create_pages_app(store, allowed_hosts=hosts))
    metrics = create_metrics_app(store, allowed_hosts=web.allowed_hosts_for(metrics_host))
    click.echo(f"catalogue on http://{host}:{port}/  search API on http://{host}:{port}/docs  "
               f"metrics on http://{metrics_host}:{metrics_port}/metrics "
               f"(store {os.environ['SHAZAM_STORE_URL']})")
    web.serve([web.Listener(app, host, port), web.Listener(metrics, metrics_host, metrics_port)])

@main.command()
@click.option("--out", default="report.html", show_default=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sla-hours", type=HOURS, default=24.0, show_default=True, help="The review SLA.")
def report(out: Path, sla_hours: float) -> None:
    """Write an HTML report of the pipeline metrics (plots embedded; opens offline)."""
    from datetime import timedelta

    from dagster_project.defs.metrics.assets import orchestrator_facts
    from shazam_assets.operations.metrics import compute_metrics
    from shazam_assets.operations.metrics_report import render_html

    store = _store()
    facts = orchestrator_facts(_dagster_instance())  # failed renders, search probes, sensor ticks
    computed = compute_metrics(store, facts=facts, sla=timedelta(hours=sla_hours))
    out.write_text(render_html(computed), encoding="utf-8")
    summary = computed.summary()
    click.echo(f"wrote {out}: {summary['deliveries_received']:.0f} deliveries, "
               f"QA backlog {summary['qa_backlog']:.0f}")


def _dagster_instance():
    """The instance of DAGSTER_HOME (embedded default: .dagster_home/ with SQLite)."""
    import dagster as dg

    apply_default_env()
    return dg.DagsterInstance.get()


def _read_asins(path: Path) -> list[str]:
    """One ASIN a line; blank lines and # comments are ignored."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CannotRun(f"ASINS_FILE_INVALID: {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return list(dict.fromkeys(line for line in lines if line))


@main.command()
@click.option("--stage", type=click.Choice(["validate", "qa", "render"]), required=True)
@click.option("--asins", "asins_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Only these ASINs (one a line); still only the stale ones unless --all.")
@click.option("--all", "everything", is_flag=True, help="Every published ASIN (or --asins), stale or not.")
@click.option("--dry-run", is_flag=True, help="Print what would be recomputed; launch nothing.")
def backfill(stage: str, asins_file: Path | None, everything: bool, dry_run: bool) -> None:
    """Recompute a stage (validation rules, QA scoring, renderer) for published ASINs whose
    stored result came from an older version of it, as one batched Dagster backfill."""
    from shazam_assets.operations.backfill import Stage, published_asins, stale_asins

    store, chosen = _store(), cast(Stage, stage)
    candidates = _read_asins(asins_file) if asins_file else None
    skipped: list[tuple[str, str]] = []
    if everything:
        targets = candidates if candidates is not None else published_asins(store)
    else:
        targets = stale_asins(store, chosen, asins=candidates, on_skip=lambda a, why: skipped.append((a, why)))
    click.echo(f"{stage}: {len(targets)} to recompute ({'all' if everything else 'stale'}), "
               f"{len(skipped)} skipped")
    if dry_run or not targets:
        for asin in targets:
            click.echo(f"  would recompute {asin}")
        return
    from dagster_project.definitions import defs
    from dagster_project.defs.operations.backfills import launch_backfill

    launched = launch_backfill(_dagster_instance(), defs.resolve_asset_graph(), chosen, targets,
                               reason="all" if everything else "stale")
    click.echo(f"backfill {launched.backfill_id}: {len(launched.asins)} ASINs "
               "(the daemon launches its runs; watch it in the UI under Backfills)")


@main.command()
@click.option("--json", "as_json", is_flag=True)
@click.option("--rerun", is_flag=True, help="Re-execute every listed run from its failed step.")
def failures(as_json: bool, rerun: bool) -> None:
    """Failed runs, one row per job and ASIN whose newest run failed: step, error, time."""
    from dagster_project.definitions import defs
    from dagster_project.defs.operations.failures import (
        code_location_workspace,
        failed_runs,
        rerun_failures,
    )

    instance = _dagster_instance()
    found = failed_runs(instance, defs)
    if as_json:
        click.echo(json.dumps([f.to_dict() for f in found], indent=2))
    else:
        for f in found:
            click.echo(f"{f.failed_at}  {f.job:<18} {f.partition or '-':<12} {f.step:<16} {f.error[:120]}")
        click.echo(f"{len(found)} failed (job, ASIN) pairs")
    if rerun and found:
        with code_location_workspace(instance, str(PROJECT_ROOT / "workspace.yaml")) as workspace:
            for failure, run_id in rerun_failures(instance, found, workspace=workspace):
                what = f"run {run_id}" if run_id else "not re-run (job no longer exists)"
                click.echo(f"re-run {failure.job} {failure.partition or '-'}: {what}", err=as_json)


if __name__ == "__main__":
    main()
