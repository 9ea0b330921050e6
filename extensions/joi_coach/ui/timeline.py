"""A person's memories as one inline SVG timeline (standard library only).

    html = render_timeline_svg(store.all_memories(), now=time.time())
    gr.HTML(html)

One lane per stream, one circle per memory (bigger = more important, dashed = not yet
rated), thin lines from each reflection to the memories it cites, and a ``<title>``
tooltip on every circle. The result is a self-contained ``<svg>`` element: no scripts, no
``<style>`` element, no external resources, text in ``currentColor`` so that it reads in
light and dark themes alike. Every piece of user text is escaped and stripped of the
characters XML cannot carry, so the output is always well-formed XML.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from xml.sax.saxutils import escape as _escape_text

from ..memory.display import STREAM_TITLES, preview
from ..memory.models import ALL_STREAMS, IMPORTANCE_MAX, IMPORTANCE_MIN, NEUTRAL_IMPORTANCE, Memory, Stream

__all__ = ["EMPTY_MESSAGE", "LANE_LABELS", "STREAM_COLOURS", "render_timeline_svg"]

EMPTY_MESSAGE = "No memories yet — they appear here as you talk with Joi."

LANE_LABELS: dict[Stream, str] = STREAM_TITLES

# Okabe & Ito's colour-blind-safe palette; mid-tones that hold up on white and on near-black.
STREAM_COLOURS: dict[Stream, str] = {
    Stream.DIALOGUE: "#0072B2",  # blue
    Stream.EMPATHETIC: "#E69F00",  # orange
    Stream.THERAPEUTIC: "#009E73",  # bluish green
    Stream.REFLECTION: "#CC79A7",  # reddish purple
}

_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_MUTED = 'fill="currentColor" fill-opacity="0.65"'
_PREVIEW_CHARS = 120
_MIN_WIDTH = 360

# Layout (SVG user units; the viewBox scales it to the container).
_PAD = 12
_LEGEND_ROW = 22
_HEADER = 16  # room for the "now" label above the lanes
_LANE_H = 58
_AXIS_H = 44
_CAPTION_H = 20
_R_UNRATED = 3.5
_R_MIN, _R_MAX = 3.0, 11.0

# Characters XML 1.0 cannot carry (C0 controls but tab/newline/CR, lone surrogates,
# U+FFFE/U+FFFF), plus DEL and the C1 controls, which are legal but never meant.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# Keep a few centuries clear of datetime's limits (years 1..9999) for tick arithmetic.
_T_MIN = (datetime(200, 1, 1, tzinfo=timezone.utc) - _EPOCH).total_seconds()
_T_MAX = (datetime(9800, 1, 1, tzinfo=timezone.utc) - _EPOCH).total_seconds()
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
_MONDAY = 4 * _DAY  # 1970-01-05 was a Monday: weekly ticks fall on Mondays


# --------------------------------------------------------------------------- text safety


def _clean(text: object) -> str:
    """``text`` without the characters XML cannot carry."""
    return _INVALID_XML.sub("", str(text))


def _text(text: object) -> str:
    """Cleaned and escaped for element content."""
    return _escape_text(_clean(text))


def _attr(text: object) -> str:
    """Cleaned and escaped for a double- or single-quoted attribute value."""
    return _escape_text(_clean(text), {'"': "&quot;", "'": "&apos;", "\n": "&#10;", "\t": "&#9;"})


def _preview(text: str) -> str:
    return preview(_clean(text), _PREVIEW_CHARS)


def _num(value: float) -> str:
    """A compact coordinate."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text_width(text: str, size: float) -> float:
    """A generous estimate of a label's rendered width (no font metrics available)."""
    return len(text) * size * 0.6


# --------------------------------------------------------------------------- time


def _safe_time(value: object) -> float:
    try:
        t = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(t):
        return 0.0
    return min(max(t, _T_MIN), _T_MAX)


def _to_dt(t: float) -> datetime:
    return _EPOCH + timedelta(seconds=t)


def _to_t(dt: datetime) -> float:
    return (dt - _EPOCH).total_seconds()


def _stamp(t: float) -> str:
    return _to_dt(t).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class _Tick:
    t: float
    label: str
    context: str  # the date or year the label lives in; printed below when it changes


# (kind, amount): fixed steps in seconds, then calendar months and years.
_STEPS: tuple[tuple[str, int], ...] = (
    *(("s", n) for n in (1, 2, 5, 10, 15, 20, 30)),
    *(("s", n * _MINUTE) for n in (1, 2, 3, 5, 10, 15, 20, 30)),
    *(("s", n * _HOUR) for n in (1, 2, 3, 4, 6, 8, 12)),
    *(("s", n * _DAY) for n in (1, 2, 3, 4, 7, 14, 21)),
    *(("m", n) for n in (1, 2, 3, 4, 6)),
    *(("y", n) for n in (1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000)),
)
_APPROX_SECONDS = {"s": 1.0, "m": 30.44 * _DAY, "y": 365.25 * _DAY}


def _tick_times(kind: str, step: int, lo: float, hi: float) -> Iterator[float]:
    if kind == "s":
        offset = _MONDAY if step % (7 * _DAY) == 0 else 0
        k = math.ceil((lo - offset) / step)
        while (tick := k * step + offset) <= hi:
            yield float(tick)
            k += 1
        return
    start = _to_dt(lo)
    if kind == "m":
        index = start.year * 12 + start.month - 1  # months since year 0
        index += -index % step
        while True:
            year, month0 = divmod(index, 12)
            t = _to_t(datetime(year, month0 + 1, 1, tzinfo=timezone.utc))
            if t > hi:
                return
            if t >= lo:
                yield t
            index += step
    year = start.year + (-start.year % step)
    while year <= 9999:
        t = _to_t(datetime(year, 1, 1, tzinfo=timezone.utc))
        if t > hi:
            return
        if t >= lo:
            yield t
        year += step


def _label(kind: str, step: int, t: float) -> tuple[str, str]:
    dt = _to_dt(t)
    day = f"{dt.day} {_MONTHS[dt.month - 1]}"
    if kind == "y":
        return str(dt.year), ""
    if kind == "m":
        return _MONTHS[dt.month - 1], str(dt.year)
    if step >= _DAY:
        return day, str(dt.year)
    if step >= _MINUTE:
        return dt.strftime("%H:%M"), f"{day} {dt.year}"
    return dt.strftime("%H:%M:%S"), f"{day} {dt.year}"


def _ticks(lo: float, hi: float, max_ticks: int) -> list[_Tick]:
    """4–7 evenly spaced, calendar-aligned ticks in ``[lo, hi]`` (fewer on narrow plots)."""
    min_ticks = min(4, max_ticks)
    target = (min_ticks + max_ticks) / 2
    best: tuple[float, tuple[str, int], list[float]] | None = None
    for kind, step in _STEPS:
        if (hi - lo) / (step * _APPROX_SECONDS[kind]) > 3 * max_ticks:
            continue  # far too dense: skip without enumerating
        times = list(_tick_times(kind, step, lo, hi))
        n = len(times)
        miss = 0.0 if min_ticks <= n <= max_ticks else (min_ticks - n if n < min_ticks else n - max_ticks)
        score = miss * 100 + abs(n - target)
        if best is None or score < best[0]:
            best = (score, (kind, step), times)
        if n < min_ticks:
            break  # steps only grow from here
    if best is None:
        return []
    (kind, step), times = best[1], best[2]
    ticks: list[_Tick] = []
    for t in times:
        label, context = _label(kind, step, t)
        ticks.append(_Tick(t, label, context))
    return ticks


# --------------------------------------------------------------------------- points


def _importance(memory: Memory) -> int | None:
    value = memory.importance
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return min(max(number, IMPORTANCE_MIN), IMPORTANCE_MAX)


def _radius(importance: int | None) -> float:
    if importance is None:
        return _R_UNRATED
    frac = (importance - IMPORTANCE_MIN) / (IMPORTANCE_MAX - IMPORTANCE_MIN)
    return _R_MIN + (_R_MAX - _R_MIN) * frac


def _jitter(memory_id: int) -> float:
    """A stable pseudo-random number in [-1, 1) derived from the id (Knuth's multiplicative hash)."""
    h = (int(memory_id) * 2654435761) & 0xFFFFFFFF
    h ^= h >> 15
    h = (h * 2246822519) & 0xFFFFFFFF
    h ^= h >> 13
    return h / 2**31 - 1.0


def _stream(memory: Memory) -> Stream | None:
    try:
        return Stream(memory.stream)
    except ValueError:
        return None


def _keep(
    memories: list[tuple[Memory, Stream, float]], max_points: int
) -> list[tuple[Memory, Stream, float]]:
    """The ``max_points`` memories that matter most: importance and recency weigh alike."""
    if len(memories) <= max_points:
        return memories
    times = [t for _, _, t in memories]
    lo, span = min(times), (max(times) - min(times)) or 1.0

    def score(item: tuple[Memory, Stream, float]) -> tuple[float, float, int]:
        memory, _, t = item
        importance = _importance(memory)
        rated = NEUTRAL_IMPORTANCE if importance is None else importance
        weight = (rated - IMPORTANCE_MIN) / (IMPORTANCE_MAX - IMPORTANCE_MIN)
        return (weight + (t - lo) / span, t, memory.id)

    return sorted(memories, key=score, reverse=True)[:max_points]


# --------------------------------------------------------------------------- rendering


def _svg_open(width: int, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {_num(height)}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" aria-label="{_attr(label)}" '
        f'class="joi-timeline" font-family="{_attr(_FONT)}" font-size="12" fill="currentColor" '
        f'style="display:block;height:auto;max-width:100%;color:inherit">'
    )


def _empty_svg(width: int) -> str:
    height = 72
    return "".join(
        (
            _svg_open(width, height, "Memory timeline: no memories yet"),
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" fill="none" '
            'stroke="currentColor" stroke-opacity="0.2" stroke-dasharray="4 4"/>',
            f'<text class="joi-empty" x="{width / 2:g}" y="{height / 2 + 5:g}" text-anchor="middle" '
            f'font-size="14" {_MUTED}>{_text(EMPTY_MESSAGE)}</text>',
            "</svg>",
        )
    )


def _legend(width: int) -> tuple[list[str], float]:
    """The legend's elements and its height; items wrap onto more rows on narrow widths."""
    items: list[tuple[float, str]] = []  # (width, markup with x placeholders resolved later)
    for stream in ALL_STREAMS:
        label = LANE_LABELS[stream]
        colour = STREAM_COLOURS[stream]
        items.append(
            (
                16 + _text_width(label, 12),
                f'<circle cx="{{x}}" cy="{{y}}" r="5" fill="{colour}" fill-opacity="0.8" stroke="{colour}"/>'
                f'<text x="{{tx}}" y="{{ty}}">{_text(label)}</text>',
            )
        )
    colour = "currentColor"
    size_label = "size = importance"
    items.append(
        (
            30 + _text_width(size_label, 12),
            f'<circle cx="{{x}}" cy="{{y}}" r="3" fill="{colour}" fill-opacity="0.45"/>'
            f'<circle cx="{{x2}}" cy="{{y}}" r="6.5" fill="{colour}" fill-opacity="0.45"/>'
            f'<text x="{{tx2}}" y="{{ty}}" {_MUTED}>{_text(size_label)}</text>',
        )
    )
    unrated_label = "not yet rated"
    items.append(
        (
            16 + _text_width(unrated_label, 12),
            f'<circle cx="{{x}}" cy="{{y}}" r="{_R_UNRATED}" fill="none" stroke="{colour}" '
            'stroke-opacity="0.7" stroke-dasharray="2 1.5"/>'
            f'<text x="{{tx}}" y="{{ty}}" {_MUTED}>{_text(unrated_label)}</text>',
        )
    )
    gap = 22
    parts: list[str] = ['<g class="joi-legend">']
    x, row = float(_PAD), 0
    for item_width, markup in items:
        if x > _PAD and x + item_width > width - _PAD:
            x, row = float(_PAD), row + 1
        y = _PAD + row * _LEGEND_ROW + 7
        parts.append(
            markup.format(
                x=_num(x + 5),
                x2=_num(x + 16),
                y=_num(y),
                tx=_num(x + 14),
                tx2=_num(x + 28),
                ty=_num(y + 4),
            )
        )
        x += item_width + gap
    parts.append("</g>")
    return parts, (row + 1) * _LEGEND_ROW


def render_timeline_svg(
    memories: Sequence[Memory],
    *,
    now: float | None = None,
    width: int = 900,
    max_points: int = 2000,
) -> str:
    """Draw ``memories`` as an inline, self-contained ``<svg>`` timeline.

    Time runs left to right (UTC), one lane per stream. ``now``, when given, extends the
    axis to that instant and marks it. With more than ``max_points`` memories only the
    ``max_points`` most important and most recent are drawn, and a caption says so.
    """
    if max_points < 1:
        raise ValueError("max_points must be at least 1")
    width = max(int(width), _MIN_WIDTH)

    usable = [(m, s, _safe_time(m.created_at)) for m in memories if (s := _stream(m)) is not None]
    if not usable:
        return _empty_svg(width)
    total = len(usable)
    counts = {stream: 0 for stream in ALL_STREAMS}
    for _, stream, _ in usable:
        counts[stream] += 1
    # a fixed order, whatever the input's, so that equal inputs draw equal pictures
    shown = sorted(_keep(usable, max_points), key=lambda item: (item[2], item[0].id))
    capped = len(shown) < total
    shown_counts = {stream: 0 for stream in ALL_STREAMS}
    for _, stream, _ in shown:
        shown_counts[stream] += 1

    # --- the time domain
    times = [t for _, _, t in shown]
    lo, hi = min(times), max(times)
    now_t = _safe_time(now) if now is not None and math.isfinite(float(now)) else None
    if now_t is not None:
        lo, hi = min(lo, now_t), max(hi, now_t)
    if hi - lo < 60:  # one instant (or nearly): centre it in an hour (or a minute) of axis
        half = 30 * 60 if hi == lo else 30
        mid = (lo + hi) / 2
        lo, hi = mid - half, mid + half

    # --- geometry
    legend, legend_h = _legend(width)
    lane_font = 13.0 if width >= 560 else 11.5
    longest = max(len(label) for label in LANE_LABELS.values())
    label_w = round(_PAD + 13 + longest * lane_font * 0.62 + 12)
    plot_left, plot_right = float(label_w), float(width - _PAD)
    plot_top = _PAD + legend_h + _HEADER
    lanes_h = _LANE_H * len(ALL_STREAMS)
    plot_bottom = plot_top + lanes_h
    height = plot_bottom + _AXIS_H + (_CAPTION_H if capped else 0) + 4
    x_pad = _R_MAX + 3
    span_px = plot_right - plot_left - 2 * x_pad

    def x_of(t: float) -> float:
        return plot_left + x_pad + (t - lo) / (hi - lo) * span_px

    lane_y = {stream: plot_top + _LANE_H * (i + 0.5) for i, stream in enumerate(ALL_STREAMS)}
    jitter_amp = _LANE_H / 2 - _R_MAX - 3

    summary = ", ".join(f"{counts[s]} {LANE_LABELS[s].lower()}" for s in ALL_STREAMS if counts[s])
    aria = f"Memory timeline: {total} {'memory' if total == 1 else 'memories'} ({summary})"
    if capped:
        aria += f", showing the {len(shown)} most important and recent"
    parts: list[str] = [_svg_open(width, height, aria), *legend]

    # --- lanes
    parts.append('<g class="joi-lanes">')
    for i, stream in enumerate(ALL_STREAMS):
        top = plot_top + _LANE_H * i
        if i % 2 == 0:
            parts.append(
                f'<rect x="{_num(plot_left)}" y="{_num(top)}" width="{_num(plot_right - plot_left)}" '
                f'height="{_LANE_H}" fill="currentColor" fill-opacity="0.045"/>'
            )
        cy = lane_y[stream]
        n = counts[stream]
        parts.append(
            f'<circle cx="{_PAD + 4}" cy="{_num(cy - 4)}" r="4" fill="{STREAM_COLOURS[stream]}"/>'
            f'<text class="joi-lane-label" data-stream="{stream.value}" x="{_PAD + 13}" y="{_num(cy)}" '
            f'font-size="{lane_font:g}" font-weight="600" fill="currentColor">{_text(LANE_LABELS[stream])}</text>'
            f'<text class="joi-lane-count" x="{_PAD + 13}" y="{_num(cy + 15)}" font-size="11" {_MUTED}>'
            f"{n} {'memory' if n == 1 else 'memories'}</text>"
        )
    parts.append(
        f'<line x1="{_num(plot_left)}" y1="{_num(plot_bottom)}" x2="{_num(plot_right)}" '
        f'y2="{_num(plot_bottom)}" stroke="currentColor" stroke-opacity="0.45"/>'
    )
    parts.append("</g>")

    # --- time axis
    max_ticks = max(2, min(7, int(span_px // 90) + 1))
    parts.append('<g class="joi-axis">')
    previous_context = None
    for tick in _ticks(lo, hi, max_ticks):
        tick_x = x_of(tick.t)
        x = _num(tick_x)
        label_x = _num(min(tick_x, width - 2 - _text_width(tick.label, 11.5) / 2))
        parts.append(
            f'<line x1="{x}" y1="{_num(plot_top)}" x2="{x}" y2="{_num(plot_bottom)}" '
            'stroke="currentColor" stroke-opacity="0.12"/>'
            f'<line x1="{x}" y1="{_num(plot_bottom)}" x2="{x}" y2="{_num(plot_bottom + 5)}" '
            'stroke="currentColor" stroke-opacity="0.45"/>'
            f'<text class="joi-tick" x="{label_x}" y="{_num(plot_bottom + 19)}" text-anchor="middle" '
            f'font-size="11.5" fill="currentColor">{_text(tick.label)}</text>'
        )
        if tick.context and tick.context != previous_context:
            context_x = _num(min(tick_x, width - 2 - _text_width(tick.context, 10.5) / 2))
            parts.append(
                f'<text class="joi-tick-context" x="{context_x}" y="{_num(plot_bottom + 34)}" '
                f'text-anchor="middle" font-size="10.5" {_MUTED}>{_text(tick.context)}</text>'
            )
        previous_context = tick.context
    parts.append(
        f'<text x="{_num(plot_left - 10)}" y="{_num(plot_bottom + 19)}" text-anchor="end" '
        f'font-size="11" {_MUTED}>time (UTC)</text>'
    )
    if now_t is not None:
        x = _num(x_of(now_t))
        parts.append(
            f'<line class="joi-now" x1="{x}" y1="{_num(plot_top - 4)}" x2="{x}" y2="{_num(plot_bottom)}" '
            'stroke="currentColor" stroke-opacity="0.5" stroke-dasharray="3 3"/>'
            f'<text x="{x}" y="{_num(plot_top - 6)}" text-anchor="end" font-size="11" {_MUTED}>now</text>'
        )
    parts.append("</g>")

    # --- where each memory sits
    position: dict[int, tuple[float, float]] = {}
    for memory, stream, t in shown:
        position[memory.id] = (x_of(t), lane_y[stream] + _jitter(memory.id) * jitter_amp)

    # --- reflections to the memories they cite (under the circles)
    parts.append(
        f'<g class="joi-evidence" stroke="{STREAM_COLOURS[Stream.REFLECTION]}" stroke-opacity="0.4">'
    )
    for memory, stream, _ in shown:
        if stream is not Stream.REFLECTION:
            continue
        x1, y1 = position[memory.id]
        for cited in dict.fromkeys(memory.evidence or ()):
            if cited == memory.id or cited not in position:
                continue
            x2, y2 = position[cited]
            parts.append(
                f'<line class="joi-evidence-link" data-from="{memory.id}" data-to="{_attr(cited)}" '
                f'x1="{_num(x1)}" y1="{_num(y1)}" x2="{_num(x2)}" y2="{_num(y2)}"/>'
            )
    parts.append("</g>")

    # --- the memories: big ones first so that small ones stay on top and hoverable
    parts.append('<g class="joi-points">')
    for memory, stream, t in sorted(shown, key=lambda item: (-_radius(_importance(item[0])), item[2])):
        importance = _importance(memory)
        radius = _radius(importance)
        colour = STREAM_COLOURS[stream]
        cx, cy = position[memory.id]
        rating = "unrated" if importance is None else f"importance {importance}"
        tooltip = f"#{memory.id} · {stream.value} · {rating} · {_stamp(t)}\n{_preview(memory.text)}"
        if importance is None:
            style = f'fill="{colour}" fill-opacity="0.06" stroke="{colour}" stroke-dasharray="2 1.5"'
        else:
            style = f'fill="{colour}" fill-opacity="0.72" stroke="{colour}"'
        parts.append(
            f'<circle class="joi-memory" data-memory-id="{_attr(memory.id)}" data-stream="{stream.value}" '
            f'data-importance="{"" if importance is None else importance}" cx="{_num(cx)}" cy="{_num(cy)}" '
            f'r="{_num(radius)}" {style} stroke-width="1.2"><title>{_text(tooltip)}</title></circle>'
        )
    parts.append("</g>")

    if capped:
        caption = f"Showing {len(shown)} of {total} memories"
        if _text_width(caption, 11.5) + 260 < width - 2 * _PAD:
            caption += " (the most important and most recent)"
        parts.append(
            f'<text class="joi-caption" x="{_PAD}" y="{_num(plot_bottom + _AXIS_H + 12)}" '
            f'font-size="11.5" {_MUTED}>{_text(caption)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
