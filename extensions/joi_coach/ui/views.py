"""HTML and table views of memories, recall scores and thoughts; every user text escaped.

Pure functions (no gradio), shared by the chat tab and the memory tab.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from ..coach import Recalled
from ..cognition.reply_format import EMPATHETIC_LABEL, THERAPIST_LABEL
from ..memory.display import STREAM_TITLES, preview, utc_minute
from ..memory.models import Memory, Stream
from ..memory.retrieval import Recollection

MEMORY_COLUMNS = ["id", "stream", "when (UTC)", "importance", "text"]
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def esc(text: object) -> str:
    """HTML-escape anything (quotes included)."""
    return html.escape(str(text), quote=True)


def as_plain_markdown(text: str) -> str:
    """Text that a markdown renderer shows exactly as typed: no HTML, no formatting."""
    escaped = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return escaped.replace("\n", "  \n")


def as_safe_markdown(text: str) -> str:
    """Model-written markdown, with any HTML in it shown as text."""
    return html.escape(text, quote=False)


def importance_label(memory: Memory) -> str:
    if memory.importance is None:
        return "…"
    return f"{memory.importance}" + (" (you)" if memory.importance_source == "user" else "")


def memory_rows(memories: Iterable[Memory]) -> list[list[str | int]]:
    """Rows for a table of memories (text shortened; the editor shows it whole)."""
    return [
        [m.id, m.stream.value, utc_minute(m.created_at), importance_label(m), preview(m.text, 240)]
        for m in memories
    ]


def thoughts_html(empathetic: str, therapeutic: str, status: str = "") -> str:
    """Joi's two inner voices for one turn, as a side panel."""

    def voice(title: str, css: str, text: str) -> str:
        body = esc(text) if text else '<span class="joi-muted">…</span>'
        return f'<div class="joi-voice {css}"><div class="joi-voice-title">{title}</div><p>{body}</p></div>'

    state = f'<div class="joi-muted joi-status">{esc(status)}</div>' if status else ""
    return (
        '<div class="joi-thoughts">'
        + voice(EMPATHETIC_LABEL, "joi-empathetic", empathetic)
        + voice(THERAPIST_LABEL, "joi-therapeutic", therapeutic)
        + state
        + "</div>"
    )


def _score_cells(r: Recollection) -> str:
    s = r.score
    return "".join(
        f"<td>{value:.2f}</td>" for value in (s.total, s.relevance, s.lexical, s.recency, s.importance)
    ) + ("<td>yes</td>" if s.named_day else "<td></td>")


def recalled_html(recalled: Recalled | None) -> str:
    """What was recalled for the last turn, per stream, with why (score breakdown)."""
    if recalled is None:
        return '<p class="joi-muted">Nothing recalled yet: send Joi a message.</p>'
    parts = []
    for stream in Stream:
        items = recalled.memories.get(stream, [])
        rows = "".join(
            f'<tr><td>#{r.memory.id}</td><td class="joi-text">{esc(preview(r.memory.text, 140))}</td>'
            f"{_score_cells(r)}</tr>"
            for r in items
        )
        body = rows or '<tr><td colspan="8" class="joi-muted">none</td></tr>'
        parts.append(
            f'<div class="joi-recalled-stream"><b>{STREAM_TITLES[stream]}</b>'
            '<table class="joi-table"><thead><tr><th>id</th><th>memory</th><th>total</th>'
            "<th>relevance</th><th>lexical</th><th>recency</th><th>importance</th>"
            '<th title="made on a day the message names">named day</th></tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )
    return '<div class="joi-recalled">' + "".join(parts) + "</div>"


def memory_detail_html(memory: Memory, evidence: Sequence[Memory], derived: Sequence[Memory]) -> str:
    """One memory in full, with what it rests on and what was concluded from it."""

    def listing(title: str, items: Sequence[Memory]) -> str:
        if not items:
            return ""
        lines = "".join(
            f"<li>#{m.id} <span class='joi-muted'>{m.stream.value}</span> {esc(preview(m.text, 200))}</li>"
            for m in items
        )
        return f"<div><b>{title}</b><ul>{lines}</ul></div>"

    meta = (
        f"#{memory.id} · {STREAM_TITLES[memory.stream]} · {utc_minute(memory.created_at)} UTC · "
        f"importance {importance_label(memory)} · depth {memory.depth}"
    )
    if memory.speaker:
        meta += f" · said by {esc(memory.speaker)}"
    return (
        f'<div class="joi-detail"><div class="joi-muted">{meta}</div>'
        f'<p class="joi-text">{esc(memory.text)}</p>'
        + listing("Rests on (evidence)", evidence)
        + listing("Reflections drawn from it", derived)
        + "</div>"
    )


def reflection_tree_html(reflections: Sequence[Memory], lookup: dict[int, Memory], max_depth: int = 6) -> str:
    """Reflections as a tree of collapsible nodes: each opens onto the memories it cites."""
    if not reflections:
        return '<p class="joi-muted">No reflections yet. Joi reflects after enough important moments, or when you press "Reflect now".</p>'
    cited = {e for r in reflections for e in r.evidence}
    roots = [r for r in reflections if r.id not in cited] or list(reflections)

    def node(memory: Memory, depth: int, path: frozenset[int]) -> str:
        label = (
            f"<span class='joi-id'>#{memory.id}</span> "
            f"<span class='joi-muted'>{memory.stream.value} · importance {importance_label(memory)}</span> "
            f"{esc(preview(memory.text, 220))}"
        )
        children = [lookup[e] for e in memory.evidence if e in lookup and e not in path]
        if not children or depth >= max_depth:
            return f"<li>{label}</li>"
        inner = "".join(node(c, depth + 1, path | {c.id}) for c in children)
        return f"<li><details><summary>{label}</summary><ul>{inner}</ul></details></li>"

    ordered = sorted(roots, key=lambda m: (-m.depth, -m.created_at))
    return '<ul class="joi-tree">' + "".join(node(r, 0, frozenset({r.id})) for r in ordered) + "</ul>"


def counts_markdown(counts: dict[Stream, int], profile_label: str) -> str:
    parts = " · ".join(f"{STREAM_TITLES[s]}: **{counts.get(s, 0)}**" for s in Stream)
    return f"Memories of **{esc(profile_label)}** — {parts}"


UI_CSS = """
.joi-muted { opacity: 0.7; font-size: 0.9em; }
.joi-voice { border-left: 4px solid #7aa6d8; padding: 4px 10px; margin: 6px 0; }
.joi-voice.joi-therapeutic { border-left-color: #d8a47a; }
.joi-voice-title { font-weight: 600; font-size: 0.9em; }
.joi-voice p, .joi-text { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
.joi-table { width: 100%; border-collapse: collapse; font-size: 0.85em; margin: 4px 0 10px; }
.joi-table th, .joi-table td { border-bottom: 1px solid rgba(128,128,128,0.3); padding: 2px 4px; text-align: left; white-space: nowrap; }
.joi-table td.joi-text { white-space: normal; min-width: 16em; width: 100%; }
.joi-tree, .joi-tree ul { list-style: none; padding-left: 1.1em; }
.joi-tree summary { cursor: pointer; }
.joi-id { font-family: monospace; }
.joi-notice { font-size: 0.9em; opacity: 0.85; }
"""
