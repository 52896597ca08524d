"""Server-side SVG bar charts for the statistics page: no chart library, no script.

`bar_chart` is pure: (label, value) pairs in, an SVG string out. Every text in it goes through
`Markup.format`, which escapes, so a county or brand name cannot inject markup. The chart is an
image for assistive technology (`role="img"` with a `<title>` and a `<desc>` listing every bar);
the page shows the same figures in a table next to it.
"""

from collections.abc import Sequence

from markupsafe import Markup

WIDTH = 360  # viewBox units; the SVG scales to its box (site.css caps it for desktops)
LABEL_WIDTH = 104
VALUE_WIDTH = 56
BAR_HEIGHT = 20
ROW_HEIGHT = 30
PAD = 6
LABEL_CHARS = 7  # longer labels are cut (the table beside the chart has them in full)


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def value_text(value: float, *, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:g}"


def bar_chart(
    chart_id: str,
    title: str,
    pairs: Sequence[tuple[str, float]],
    *,
    percent: bool = False,
    maximum: float | None = None,
) -> Markup:
    """A horizontal bar chart: one row per (label, value). With `percent` the values are shares
    (0–1) drawn against a full track (the 100 % goal) and written as percentages; otherwise
    against the largest value (or `maximum`)."""
    largest = max((value for _, value in pairs), default=0.0)
    top = maximum if maximum is not None else (1.0 if percent else largest)
    top = top if top > 0 else 1.0
    track = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = max(len(pairs), 1) * ROW_HEIGHT + PAD * 2
    described = "；".join(f"{label} {value_text(v, percent=percent)}" for label, v in pairs)
    parts = [
        Markup(
            '<svg class="chart" id="{id}" role="img" viewBox="0 0 {w} {h}" '
            'aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(id=chart_id, w=WIDTH, h=height, title=title, desc=described or "暂无数据")
    ]
    if not pairs:
        parts.append(
            Markup('<text class="chart-label" x="0" y="{y}">暂无数据</text>').format(
                y=PAD + BAR_HEIGHT - 5
            )
        )
    for row, (label, value) in enumerate(pairs):
        y = PAD + row * ROW_HEIGHT
        share = min(max(value / top, 0.0), 1.0)
        parts.append(
            Markup(
                '<text class="chart-label" x="0" y="{ty}">{label}</text>'
                '<rect class="chart-track" x="{x}" y="{y}" width="{track}" height="{h}" rx="3"/>'
                '<rect class="chart-bar" x="{x}" y="{y}" width="{bar}" height="{h}" rx="3"/>'
                '<text class="chart-value" x="{vx}" y="{ty}">{text}</text>'
            ).format(
                label=_short(label),
                x=LABEL_WIDTH,
                y=y,
                ty=y + BAR_HEIGHT - 5,
                track=track,
                bar=f"{track * share:.1f}",
                h=BAR_HEIGHT,
                vx=LABEL_WIDTH + track + 6,
                text=value_text(value, percent=percent),
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)
