"""How memories are named and shown as text, in one place: stream titles, UTC times, previews."""

from __future__ import annotations

import time

from .models import Stream

STREAM_TITLES: dict[Stream, str] = {
    Stream.DIALOGUE: "Dialogue",
    Stream.EMPATHETIC: "Empathetic thoughts",
    Stream.THERAPEUTIC: "Therapist thoughts",
    Stream.REFLECTION: "Reflections",
}


def utc_minute(t: float) -> str:
    """'2026-11-29 09:45' (UTC); the raw number for a time outside the calendar."""
    try:
        return time.strftime("%Y-%m-%d %H:%M", time.gmtime(t))
    except (OverflowError, OSError, ValueError):
        return str(t)


def preview(text: str, limit: int = 160) -> str:
    """The text on one line, cut to ``limit`` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
