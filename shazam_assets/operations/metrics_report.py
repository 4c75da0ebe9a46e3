"""A self-contained HTML report of the pipeline metrics, for teams without Prometheus.

Plots are drawn with matplotlib (Agg, no display) and embedded as base64 PNGs, so the file
opens anywhere, offline, with nothing fetched from a CDN.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")  # headless: no display, no GUI toolkit

import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from shazam_assets.operations.metrics import STAGES, PipelineMetrics

Plot = Callable[[Axes, PipelineMetrics], bool]  # draws on the axes; False when there is no data


def _png(draw: Plot, metrics: PipelineMetrics) -> str | None:
    """One figure as a base64 PNG, or None when there is nothing to draw."""
    fig, ax = plt.subplots(figsize=(7, 3.2), dpi=90)
    try:
        if not draw(ax, metrics):
            return None
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        return base64.b64encode(buffer.getvalue()).decode()
    finally:
        plt.close(fig)


def _daily_by_artist(column: str, ylabel: str) -> Plot:
    def draw(ax: Axes, m: PipelineMetrics) -> bool:
        if column not in m.daily.columns or not m.daily[column].any():
            return False
        table = m.daily.pivot_table(
            index="day", columns="artist", values=column, aggfunc="sum", fill_value=0
        )
        table.plot.bar(ax=ax, stacked=True, rot=0)
        ax.set_ylabel(ylabel)
        return True

    return draw


def _rejection_codes(ax: Axes, m: PipelineMetrics) -> bool:
    if m.rejections.empty:
        return False
    m.rejections.groupby("code").size().sort_values().plot.barh(ax=ax)
    ax.set_xlabel("rejected deliveries")
    return True


def _latency(ax: Axes, m: PipelineMetrics) -> bool:
    table = m.latency.dropna(subset=["seconds"]).pivot(
        index="stage", columns="quantile", values="seconds"
    )
    if table.empty:
        return False
    order = [stage for stage in reversed(STAGES) if stage in table.index]  # upload at the top
    table.loc[order].plot.barh(ax=ax)
    ax.set_xlabel("seconds")
    return True


def _backlog(ax: Axes, m: PipelineMetrics) -> bool:
    if m.backlog.empty:
        return False
    hours = m.backlog.set_index("asin").age_seconds / 3600
    hours.plot.barh(ax=ax, color=["tab:red" if o else "tab:blue" for o in m.backlog.overdue])
    ax.axvline(m.sla_seconds / 3600, color="grey", linestyle="--", label="SLA")
    ax.set_xlabel("hours waiting for review")
    ax.legend()
    return True


SECTIONS: tuple[tuple[str, Plot], ...] = (
    ("Deliveries received per day", _daily_by_artist("deliveries", "deliveries")),
    ("Validation rejections by code", _rejection_codes),
    ("QA rejections per day", _daily_by_artist("qa_rejections", "rejections")),
    ("Stage latency (quantiles 0.5, 0.9, 0.99)", _latency),
    ("QA backlog", _backlog),
    ("Render GPU-seconds per day", _daily_by_artist("render_gpu_seconds", "seconds")),
    ("Bytes reclaimed by version cleanup per day", _daily_by_artist("bytes_reclaimed", "bytes")),
)


def _headline(metrics: PipelineMetrics) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(name.replace('_', ' '))}</th>"
        f"<td>{'—' if math.isnan(value) else f'{value:,.3g}' if value % 1 else f'{value:,.0f}'}</td></tr>"
        for name, value in metrics.summary().items()
    )
    return f"<table>{rows}</table>"


def render_html(metrics: PipelineMetrics) -> str:
    """The whole report as one HTML document."""
    sections = []
    for title, draw in SECTIONS:
        png = _png(draw, metrics)
        body = (
            f'<img alt="{html.escape(title)}" src="data:image/png;base64,{png}">'
            if png
            else "<p>No data yet.</p>"
        )
        sections.append(f"<section><h2>{html.escape(title)}</h2>{body}</section>")
    generated = metrics.generated_at.isoformat(timespec="seconds")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>SHAZAM pipeline report</title>"
        "<style>body{font-family:sans-serif;max-width:60rem;margin:auto}th{text-align:left;"
        "padding-right:2em}</style></head><body>"
        f"<h1>SHAZAM pipeline report</h1><p>Generated {html.escape(generated)}</p>"
        f"{_headline(metrics)}{''.join(sections)}</body></html>"
    )
