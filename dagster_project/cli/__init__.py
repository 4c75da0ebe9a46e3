"""`shazam`: the command line for artists, QA reviewers and pipeline engineers.

The commands live with the people who use them: `artist` (pack, validate, render, upload,
status, profiles), `reviewer` (qa approve / reject / rollback / pending, review), `operator`
(ui, demo, search, serve, backfill, failures, report, store gc, codes, env). Each is a thin
call into the domain; this module is the entry point (`shazam = "dagster_project.cli:main"`)
and the one error boundary.

Fast commands (validate, pack, codes) import no Dagster. Errors a user can cause print one
clear line (plus the report) and exit non-zero, never a traceback.
Exit codes of `shazam validate`: 0 accepted (warnings allowed), 1 rejected, 2 could not run.
"""

from __future__ import annotations

import errno
import os
from typing import Any

import click

from dagster_project.cli import artist, operator, render_pod, reviewer, studio
from dagster_project.cli.shared import (
    PROJECT_ROOT as PROJECT_ROOT,  # the checkout, for tests and tools
)
from dagster_project.cli.shared import CannotRun
from shazam_assets.platform.freetext import readable


def _one_line(code: str, message: str) -> str:
    """`CODE: message` on one line, printable whatever bytes the message carries."""
    return f"{code}: {' '.join(readable(message).split())}"


def _failure(exc: Exception) -> CannotRun:
    """The one line (and exit code 2) for a failure that escaped a command: the project's
    errors carry their code; an OSError (disk full, permission denied) is named by its errno;
    anything else is a defect, reported without a traceback (SHAZAM_DEBUG=1 shows it)."""
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

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            if os.environ.get("SHAZAM_DEBUG"):
                raise
            raise _failure(exc) from None


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """SHAZAM: validated, versioned 3D product models, orchestrated by Dagster."""
    from dagster_project.lib import preview  # imports no Dagster: `validate` stays lean

    preview.silence_known_notices()  # for commands that import a stage without the definitions


for _command in (
    *artist.COMMANDS,
    *reviewer.COMMANDS,
    *studio.COMMANDS,
    *operator.COMMANDS,
    *render_pod.COMMANDS,
):
    main.add_command(_command)


if __name__ == "__main__":
    main()
