"""The validation report: every rule runs, every finding is an `Issue` with a stable code.

Validators never raise for a bad input. They return issues; the report decides the verdict
(`ok` means no ERROR). Each code is declared once, as a `Rule`, in the module that checks it,
with the hint an artist needs to fix the problem. `shazam_assets.ingest.delivery.codes` gathers every
rule so the documentation and the tests can enumerate them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Severity is shared with QA and the errors (and still importable from here)
from shazam_assets.platform.errors import Severity


@dataclass(frozen=True)
class Issue:
    """One finding, as an artist and a pipeline engineer read it."""

    code: str
    severity: Severity
    message: str
    hint: str
    path: str | None = None  # file inside the delivery, when the finding is about one
    pointer: str | None = None  # JSON pointer into a glTF document, as the Khronos validator gives
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "severity": str(self.severity),
            "message": self.message,
            "hint": self.hint,
        }
        if self.path is not None:
            out["path"] = self.path
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.details:
            out["details"] = dict(self.details)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Issue:
        return cls(
            code=data["code"],
            severity=Severity(data["severity"]),
            message=data["message"],
            hint=data.get("hint", ""),
            path=data.get("path"),
            pointer=data.get("pointer"),
            details=dict(data.get("details", {})),
        )


def printable(value: Any) -> Any:
    """`value` with any text that is not valid Unicode (a lone surrogate, which a JSON escape
    such as "\\ud800" decodes to) backslash-escaped, in strings, lists and mappings.

    Issue messages, paths and pointers quote what the delivery contains; each reader of a
    report (the CLI's terminal, UTF-8 files, the Dagster UI) must be able to encode them.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if type(value) in (list, tuple):  # exact types: a named tuple keeps its fields
        return type(value)(printable(v) for v in value)
    if isinstance(value, Mapping):
        return {printable(k): printable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Rule:
    """A documented check: its stable code, default severity, one-line summary and fix hint.

    Calling a rule makes an `Issue` for one occurrence::

        ZIP_PATH_TRAVERSAL = rules.error("ZIP_PATH_TRAVERSAL", "Entry escapes the archive root",
                                         hint="Zip the delivery folder's contents, not its parents.")
        issues.append(ZIP_PATH_TRAVERSAL(f"entry {name!r} points outside the archive", path=name))
    """

    code: str
    severity: Severity
    summary: str
    hint: str
    stage: str

    def __call__(
        self,
        message: str | None = None,
        *,
        path: str | None = None,
        pointer: str | None = None,
        severity: Severity | None = None,
        hint: str | None = None,
        **details: Any,
    ) -> Issue:
        return Issue(
            code=self.code,
            severity=severity or self.severity,
            message=printable(message or self.summary),
            hint=hint or self.hint,
            path=printable(path),
            pointer=printable(pointer),
            details=printable(details),
        )


class RuleBook:
    """The rules of one validation stage, in declaration order."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self._rules: dict[str, Rule] = {}

    def _add(self, code: str, severity: Severity, summary: str, hint: str) -> Rule:
        if code in self._rules:
            raise ValueError(f"rule {code} declared twice in stage {self.stage}")
        rule = Rule(code=code, severity=severity, summary=summary, hint=hint, stage=self.stage)
        self._rules[code] = rule
        return rule

    def error(self, code: str, summary: str, *, hint: str) -> Rule:
        return self._add(code, Severity.ERROR, summary, hint)

    def warning(self, code: str, summary: str, *, hint: str) -> Rule:
        return self._add(code, Severity.WARNING, summary, hint)

    def info(self, code: str, summary: str, *, hint: str) -> Rule:
        return self._add(code, Severity.INFO, summary, hint)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __contains__(self, code: object) -> bool:
        return code in self._rules

    def __getitem__(self, code: str) -> Rule:
        return self._rules[code]


@dataclass(frozen=True)
class Report:
    """The verdict on one subject (a delivery ZIP, a .glb, or a .gltf with its resources)."""

    subject: str
    profile: str
    issues: tuple[Issue, ...]
    stats: Mapping[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def errors(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.WARNING)

    @property
    def infos(self) -> tuple[Issue, ...]:
        return tuple(i for i in self.issues if i.severity is Severity.INFO)

    @property
    def codes(self) -> tuple[str, ...]:
        """Distinct codes of the errors, in order of first occurrence."""
        return tuple(dict.fromkeys(i.code for i in self.errors))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "subject": self.subject,
            "profile": self.profile,
            "errors": [i.to_dict() for i in self.errors],
            "warnings": [i.to_dict() for i in self.warnings],
            "infos": [i.to_dict() for i in self.infos],
            "stats": dict(self.stats),
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False, default=str)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Report:
        issues = [
            Issue.from_dict(i)
            for group in ("errors", "warnings", "infos")
            for i in data.get(group, [])
        ]
        return cls(
            subject=data["subject"],
            profile=data["profile"],
            issues=tuple(issues),
            stats=dict(data.get("stats", {})),
        )

    def to_markdown(self, *, limit: int = 50) -> str:
        """An issues table for the Dagster UI."""
        if not self.issues:
            return "No issues."
        rows = ["| severity | code | where | message |", "|---|---|---|---|"]
        for issue in list(self.issues)[:limit]:
            where = issue.path or issue.pointer or ""
            message = issue.message.replace("|", "\\|").replace("\n", " ")
            rows.append(f"| {issue.severity} | `{issue.code}` | {where} | {message} |")
        if len(self.issues) > limit:
            rows.append(f"| | | | … {len(self.issues) - limit} more |")
        return "\n".join(rows)


def build_report(
    *, subject: str, profile: str, issues: Iterable[Issue], stats: Mapping[str, Any] | None = None
) -> Report:
    """Order issues by severity (errors first), keeping each stage's own order."""
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    ordered = sorted(issues, key=lambda i: rank[i.severity])
    return Report(subject=subject, profile=profile, issues=tuple(ordered), stats=dict(stats or {}))
