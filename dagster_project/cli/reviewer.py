"""Commands for QA reviewers: approve / reject / roll back and the backlog offline (the operator's
path, with a typed reviewer name), and `review`, which starts the studio where reviewers sign in."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import click

from dagster_project.cli.shared import (
    ALLOWED_HOST_OPTION,
    HOURS,
    CannotRun,
    checked_asin,
    open_configured_store,
)
from shazam_assets.platform.settings import DEFAULTS


@click.group()
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
    "--comment",
    "comments",
    multiple=True,
    help="Per-issue comment ISSUE=text, e.g. qa_placement='sits 2 cm high' (repeatable).",
)


def _decide(
    asin: str, version: int, verdict: str, reviewer: str, note: str, comments: tuple[str, ...]
) -> None:
    from shazam_assets.qa.decisions import DecisionError, record_decision

    try:
        decision = record_decision(
            open_configured_store(),
            asin=checked_asin(asin),
            version=version,
            verdict=verdict,
            reviewer=reviewer,
            notes=note,
            comments=_comments(comments),
            source="cli",
        )
    except DecisionError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(
        f"{asin} v{version} {decision.verdict.past} by {decision.reviewer} at {decision.decided_at}; "
        "the QA sensor records it as the qa_approved check"
        + (" and publishes it" if verdict == "approve" else " and notifies the artist")
    )


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
        done = roll_back(open_configured_store(), checked_asin(asin))
    except DecisionError as exc:
        raise CannotRun(str(exc)) from None
    click.echo(f"{asin}: published version is now v{done.version} (was v{done.previous})")


@qa.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--sla-hours",
    type=HOURS,
    default=DEFAULTS.review_sla_hours,
    show_default=True,
    help="Reviews older than this are overdue.",
)
def pending(as_json: bool, sla_hours: float) -> None:
    """The review backlog, oldest first, with age; overdue reviews are marked."""
    from shazam_assets.qa.backlog import pending_reviews

    backlog = pending_reviews(
        open_configured_store(), now=datetime.now(UTC), sla=timedelta(hours=sla_hours)
    )
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in backlog], indent=2))
        return
    if not backlog:
        click.echo("nothing to review")
    for p in backlog:
        hours = p.age.total_seconds() / 3600
        mark = click.style(" OVERDUE", fg="red") if p.overdue else ""
        click.echo(f"{p.asin} v{p.version:<3} {hours:6.1f} h  {p.title}{mark}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@ALLOWED_HOST_OPTION
@click.option("--port", default=8421, show_default=True, type=int)
@click.option(
    "--dev-identity-provider",
    is_flag=True,
    help="Sign in locally (a real OpenID provider on loopback; rita@example.com reviews).",
)
@click.pass_context
def review(
    ctx: click.Context,
    host: str,
    allowed_hosts: tuple[str, ...],
    port: int,
    dev_identity_provider: bool,
) -> None:
    """Review in the browser: starts `shazam studio` (the review page moved there).

    Reviewers sign in, and each decision carries the signed-in identity; nobody types a name.
    Open /review for the pending list. Offline, `shazam qa approve/reject --reviewer` remain."""
    from dagster_project.cli.studio import studio

    click.echo(
        "The review page is part of the studio now: sign in as a reviewer and open "
        f"http://{host}:{port}/review. Starting `shazam studio`."
    )
    ctx.invoke(
        studio,
        host=host,
        allowed_hosts=allowed_hosts,
        port=port,
        dev_identity_provider=dev_identity_provider,
    )


COMMANDS = (qa, review)
