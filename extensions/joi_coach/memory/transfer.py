"""Export and import of one profile's memories, so the person owns their data.

JSON (format ``joi-coach-memories``, version 1) is the lossless, re-importable form: every
field but the vectors, which are recomputed on import. Markdown is the readable form.
Import validates the whole file first (never pickle, never eval), then adds everything
in one transaction, or nothing.
"""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timezone
from typing import Any, TypeGuard

import numpy as np

from .bank import MemoryBank, embedding_text
from .display import STREAM_TITLES, utc_minute
from .embeddings import Embedder
from .models import ALL_STREAMS, IMPORTANCE_MAX, IMPORTANCE_MIN, Memory, NewMemory, Stream
from .plan_transfer import export_plans

FORMAT = "joi-coach-memories"
VERSION = 1
SUPPORTED_VERSIONS = frozenset({1})
MAX_TEXT_CHARS = 20_000  # text and context
MAX_LABEL_CHARS = 200  # speaker, conversation, importance_source
EMBED_BATCH = 256  # passages embedded per call on import
IMPORT_SOURCE = "import"  # importance source of a rating that came without one
_MAX_TIME = 253_402_300_799.0  # 9999-12-31T23:59:59Z
# A memory in an export file: every stored field but the embedding model (vectors are
# recomputed on import with the importing bank's model).
_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Memory) if f.name != "embedding_model")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")  # C0 but \t \n, DEL, lone surrogates
_MD_INLINE = re.compile(r"([\\`*_\[\]~|])")
_MD_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])")


MAX_PLAN_SECTIONS = 16
MAX_PLAN_CHARS = 8000


class TransferError(ValueError):
    """An import file that cannot be used; the text says what is wrong and where."""


@dataclass(frozen=True)
class ImportedMemory(Memory):
    """One validated memory of an import file: its id and evidence are the file's own, not
    the bank's (the import maps them), and it has no embedding model yet."""


@dataclass
class ImportReport:
    """What an import did; ``id_map`` maps each file id to the bank's id (new or existing)."""

    added: int
    skipped_duplicates: int
    id_map: dict[int, int] = field(default_factory=dict)


# -- JSON export ---------------------------------------------------------------------------
def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def export_json(bank: MemoryBank, *, settings: dict | None = None) -> dict:
    """The profile's memories as a JSON-ready dict (format ``joi-coach-memories``, version 1)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": _now_iso(),
        "embedding_model": bank.embedder.model_id,
    }
    if settings is not None:
        data["settings"] = settings
    memories: list[dict[str, Any]] = []
    seen: set[int] = set()
    for m in bank.all_memories():
        record = {name: getattr(m, name) for name in _FIELDS}
        record["stream"] = Stream(m.stream).value
        record["created_at"], record["last_accessed"] = float(m.created_at), float(m.last_accessed)
        # evidence is always older; a link to a memory not exported would break import
        record["evidence"] = [e for e in m.evidence if e in seen]
        memories.append(record)
        seen.add(m.id)
    data["memories"] = memories
    plan = bank.safety_plan()
    if plan:
        data["safety_plan"] = plan
    plans = export_plans(bank)
    if plans:
        data["plans"] = plans
    return data


def dumps_export(data: dict) -> str:
    """Pretty UTF-8 JSON text of an export (non-ASCII kept as is)."""
    return json.dumps(data, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


# -- Markdown export -----------------------------------------------------------------------


def _md_inline(text: str) -> str:
    """Text safe inside a Markdown line: no HTML, no emphasis, links, code or tables."""
    return html.escape(_MD_INLINE.sub(r"\\\1", text), quote=False)


def _md_line(line: str) -> str:
    """One line of memory text that cannot start a heading, list, rule or code block."""
    line = _md_inline(line.replace("\t", " ").strip())
    if line[:1] in ("#", "+", "-", "=", ":"):
        return "\\" + line
    return _MD_LIST_NUMBER.sub(r"\1\\\2", line)


def _md_quote(text: str, indent: str) -> list[str]:
    return [f"{indent}> {_md_line(line)}".rstrip() for line in text.split("\n")]


def _brief(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return _md_inline(text if len(text) <= limit else text[: limit - 1].rstrip() + "…")


def _importance(m: Memory) -> str:
    return "not rated" if m.importance is None else str(m.importance)


def _entry(m: Memory, indent: str = "") -> list[str]:
    speaker = _md_inline(m.speaker) if m.speaker else "(no speaker)"
    head = f"{indent}- **{utc_minute(m.created_at)} · {speaker}** · #{m.id} · importance {_importance(m)}"
    return [head, *_md_quote(m.text, indent + "  ")]


def _reflection_tree(reflections: list[Memory], by_id: dict[int, Memory]) -> list[str]:
    """Reflections nested under those citing them; a reflection is written out once."""
    cited = {
        e for r in reflections for e in r.evidence if e in by_id and by_id[e].stream is Stream.REFLECTION
    }
    roots = [r for r in reflections if r.id not in cited] + [r for r in reflections if r.id in cited]
    lines: list[str] = []
    shown: set[int] = set()
    for root in roots:
        if root.id in shown:
            continue
        stack = [(root.id, 0)]
        while stack:  # iterative: an imported tree may be deeper than Python's recursion
            memory_id, level = stack.pop()
            indent = "  " * level
            m = by_id.get(memory_id)
            if m is None:
                lines.append(f"{indent}- #{memory_id} (no longer stored)")
            elif m.stream is not Stream.REFLECTION:
                speaker = f" · {_md_inline(m.speaker)}" if m.speaker else ""
                lines.append(
                    f"{indent}- #{m.id} · {m.stream.value}{speaker} · {utc_minute(m.created_at)}: “{_brief(m.text)}”"
                )
            elif m.id in shown:
                lines.append(f"{indent}- Reflection #{m.id} (written out above)")
            else:
                shown.add(m.id)
                cites = ", ".join(f"#{e}" for e in m.evidence) or "nothing"
                lines.append(
                    f"{indent}- **Reflection #{m.id}** · importance {_importance(m)} · depth {m.depth}"
                    f" · {utc_minute(m.created_at)} · cites {cites}"
                )
                lines.extend(_md_quote(m.text, indent + "  "))
                stack.extend((e, level + 1) for e in reversed(m.evidence))
    return lines


def export_markdown(bank: MemoryBank) -> str:
    """A readable document of the profile's memories: counts, reflections, dialogue, thoughts.

    Memory text is quoted and neutralised (HTML escaped, Markdown markers escaped), so
    nothing a memory says can change the document's structure.
    """
    by_stream: dict[Stream, list[Memory]] = {s: [] for s in ALL_STREAMS}
    by_id: dict[int, Memory] = {}
    for m in bank.all_memories():
        by_stream[m.stream].append(m)
        by_id[m.id] = m
    for memories in by_stream.values():
        memories.sort(key=lambda m: (m.created_at, m.id))
    lines = [
        "# Joi Coach memories",
        "",
        f"Exported {utc_minute(datetime.now(timezone.utc).timestamp())} UTC.",
        "",
    ]
    lines += [f"- {STREAM_TITLES[s]}: {len(by_stream[s])}" for s in ALL_STREAMS]
    lines += ["", "## Reflections", ""]
    lines += _reflection_tree(by_stream[Stream.REFLECTION], by_id) or ["No reflections yet."]
    lines += ["", "## Conversations", ""]
    conversations: dict[str, list[Memory]] = {}
    for m in by_stream[Stream.DIALOGUE]:
        conversations.setdefault(m.conversation, []).append(m)
    if not conversations:
        lines.append("No dialogue yet.")
    for name, turns in conversations.items():
        lines += [f"### Conversation “{_md_inline(name)}”", ""]
        for m in turns:
            lines += _entry(m)
        lines.append("")
    plan = bank.safety_plan()
    if plan:
        lines += ["", "## Safety plan", ""]
        for section, text in plan.items():
            lines += [f"- **{_md_inline(section.replace('_', ' ').capitalize())}**", *_md_quote(text, "  ")]
    for stream in (Stream.EMPATHETIC, Stream.THERAPEUTIC):
        lines += ["", f"## {STREAM_TITLES[stream]}", ""]
        for m in by_stream[stream]:
            lines += _entry(m)
        if not by_stream[stream]:
            lines.append("None yet.")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip() + "\n"


# -- parsing an import ---------------------------------------------------------------------
def _shown(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        duplicate = next(k for n, k in enumerate(keys) if k in keys[:n])
        raise TransferError(f"the file has the key {duplicate!r} twice in one object")
    return obj


def _reject_constant(name: str) -> None:
    raise TransferError(f"the file is not valid JSON: {name} is not a number JSON allows")


def _load_json(raw: bytes | str, max_bytes: int) -> object:
    if isinstance(raw, str):
        if len(raw) > max_bytes:
            raise TransferError(f"the file is over {max_bytes:,} bytes, the import limit")
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise TransferError(f"the text is not valid Unicode (position {exc.start})") from None
    elif isinstance(raw, (bytes, bytearray, memoryview)):
        raw = bytes(raw)
    else:
        raise TransferError("an import needs the file's bytes or text")
    if len(raw) > max_bytes:
        raise TransferError(f"the file is {len(raw):,} bytes; the import limit is {max_bytes:,}")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TransferError(f"the file is not UTF-8 text (invalid byte at offset {exc.start})") from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except TransferError:
        raise
    except json.JSONDecodeError as exc:
        raise TransferError(
            f"the file is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise TransferError("the file is not a memory export: its JSON is nested too deeply") from None
    except ValueError as exc:
        raise TransferError(f"the file is not valid JSON: {exc}") from None


def _string(where: str, name: str, value: object, limit: int, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise TransferError(f"{where}: {name} must be a string, not {_shown(value)}")
    value = unicodedata.normalize("NFC", value)
    bad = _FORBIDDEN.search(value)
    if bad:
        raise TransferError(
            f"{where}: {name} contains a control character (U+{ord(bad.group()):04X}) "
            f"at position {bad.start()}"
        )
    if required and not value.strip():
        raise TransferError(f"{where}: {name} must not be empty")
    if len(value) > limit:
        raise TransferError(f"{where}: {name} is {len(value):,} characters long; the limit is {limit:,}")
    return value


def _time(where: str, name: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        raise TransferError(f"{where}: {name} must be a number of seconds (POSIX time), not {_shown(value)}")
    if not 0 <= value <= _MAX_TIME:
        raise TransferError(f"{where}: {name} must be between 0 (1970) and {_MAX_TIME:.0f} (year 9999)")
    return float(value)


def _parse_item(n: int, obj: object) -> ImportedMemory:
    where = f"memory {n}"
    if not isinstance(obj, dict):
        raise TransferError(f"{where}: must be an object, not {_shown(obj)}")
    memory_id = obj.get("id")
    if not _is_int(memory_id) or memory_id < 1:
        raise TransferError(f"{where}: id must be a positive whole number, not {_shown(memory_id)}")
    where = f"memory {n} (id {memory_id})"
    unknown = [k for k in obj if k not in _FIELDS]
    if unknown:
        raise TransferError(f"{where}: unknown field {unknown[0]!r} (known: {', '.join(_FIELDS)})")
    stream = obj.get("stream")
    if not isinstance(stream, str) or stream not in {s.value for s in Stream}:
        raise TransferError(
            f"{where}: stream must be one of {', '.join(s.value for s in Stream)}, not {_shown(stream)}"
        )
    text = _string(where, "text", obj.get("text"), MAX_TEXT_CHARS, required=True)
    if "created_at" not in obj:
        raise TransferError(f"{where}: created_at is missing (POSIX seconds)")
    created_at = _time(where, "created_at", obj["created_at"])
    last_accessed = obj.get("last_accessed")
    last_accessed = created_at if last_accessed is None else _time(where, "last_accessed", last_accessed)
    importance = obj.get("importance")
    if importance is not None and (
        not _is_int(importance) or not IMPORTANCE_MIN <= importance <= IMPORTANCE_MAX
    ):
        raise TransferError(
            f"{where}: importance must be a whole number from {IMPORTANCE_MIN} to {IMPORTANCE_MAX} "
            f"or null, not {_shown(importance)}"
        )
    source = obj.get("importance_source")
    if source is not None:
        source = _string(where, "importance_source", source, MAX_LABEL_CHARS)
    depth = obj.get("depth", 0)
    if not _is_int(depth) or depth < 0:
        raise TransferError(f"{where}: depth must be a whole number from 0, not {_shown(depth)}")
    evidence = obj.get("evidence", [])
    if not isinstance(evidence, list) or not all(_is_int(e) and e > 0 for e in evidence):
        raise TransferError(f"{where}: evidence must be a list of memory ids, not {_shown(evidence)}")
    if evidence and stream != Stream.REFLECTION.value:
        raise TransferError(f"{where}: only reflections cite evidence; a {stream} memory cannot")
    return ImportedMemory(
        id=memory_id,
        stream=Stream(stream),
        text=text,
        created_at=created_at,
        last_accessed=last_accessed,
        context=_string(where, "context", obj.get("context", ""), MAX_TEXT_CHARS),
        speaker=_string(where, "speaker", obj.get("speaker", ""), MAX_LABEL_CHARS),
        conversation=_string(where, "conversation", obj.get("conversation", "default"), MAX_LABEL_CHARS),
        importance=importance,
        importance_source=source,
        depth=depth,
        evidence=tuple(dict.fromkeys(evidence)),
    )


def _dependency_order(items: Sequence[ImportedMemory]) -> list[ImportedMemory]:
    """The items with evidence before the reflections citing it, and depths recomputed.

    Raises TransferError for a duplicate id, evidence outside the items, evidence on a
    non-reflection, or a cycle (a reflection citing something derived from itself).
    """
    position: dict[int, int] = {}
    for n, item in enumerate(items, 1):
        if item.id in position:
            raise TransferError(
                f"memory {n} (id {item.id}): id {item.id} is used twice (also by memory {position[item.id]})"
            )
        position[item.id] = n
    for n, item in enumerate(items, 1):
        if item.evidence and item.stream is not Stream.REFLECTION:
            raise TransferError(
                f"memory {n} (id {item.id}): only reflections cite evidence; a {item.stream.value} memory cannot"
            )
        for e in item.evidence:
            if e not in position:
                raise TransferError(
                    f"memory {n} (id {item.id}): evidence cites id {e}, which is not in the file"
                )
    by_id = {item.id: item for item in items}
    done: dict[int, int] = {}  # id -> depth
    order: list[ImportedMemory] = []
    for root in items:
        if root.id in done:
            continue
        stack = [(root.id, iter(root.evidence))]
        on_path = {root.id}
        while stack:  # depth-first, without recursion: chains may be long
            node, children = stack[-1]
            for child in children:
                if child in on_path:
                    path = [n for n, _ in stack]
                    cycle = " → ".join(str(i) for i in [*path[path.index(child) :], child])
                    raise TransferError(
                        f"memory {position[node]} (id {node}): evidence forms a cycle ({cycle}); "
                        "a reflection can only cite memories that are not derived from it"
                    )
                if child not in done:
                    stack.append((child, iter(by_id[child].evidence)))
                    on_path.add(child)
                    break
            else:
                stack.pop()
                on_path.discard(node)
                item = by_id[node]
                depth = 0
                if item.stream is Stream.REFLECTION:
                    depth = 1 + max((done[e] for e in item.evidence), default=0)
                done[node] = depth
                order.append(item if item.depth == depth else replace(item, depth=depth))
    return order


def parse_import(
    raw: bytes | str, *, max_bytes: int = 64 * 2**20, max_memories: int = 200_000
) -> list[ImportedMemory]:
    """Validate an export file; its memories in file order, depths recomputed from evidence.

    Raises TransferError naming the memory (its position from 1, and its id) and the field.
    """
    data = _load_json(raw, max_bytes)
    if not isinstance(data, dict):
        raise TransferError("the file is not a Joi Coach memory export (it is not a JSON object)")
    if data.get("format") != FORMAT:
        raise TransferError(
            f"the file is not a Joi Coach memory export (format is {_shown(data.get('format'))}, "
            f"expected {FORMAT!r})"
        )
    version = data.get("version")
    if not _is_int(version):
        raise TransferError(f"the export's version must be a whole number, not {_shown(version)}")
    if version not in SUPPORTED_VERSIONS:
        raise TransferError(
            f"the export is version {version}; this Joi reads version "
            f"{', '.join(map(str, sorted(SUPPORTED_VERSIONS)))} (a newer Joi made it: update Joi first)"
        )
    memories = data.get("memories")
    if not isinstance(memories, list):
        raise TransferError(f"the export's 'memories' must be a list, not {_shown(memories)}")
    if len(memories) > max_memories:
        raise TransferError(f"the export holds {len(memories):,} memories; the limit is {max_memories:,}")
    items = [_parse_item(n, obj) for n, obj in enumerate(memories, 1)]
    depths = {item.id: item.depth for item in _dependency_order(items)}
    return [item if item.depth == depths[item.id] else replace(item, depth=depths[item.id]) for item in items]


def parse_safety_plan(raw: bytes | str, *, max_bytes: int = 64 * 2**20) -> dict[str, str]:
    """The safety plan in an export ({} when it has none); raises TransferError when malformed."""
    data = _load_json(raw, max_bytes)
    plan = data.get("safety_plan", {}) if isinstance(data, dict) else {}
    if not isinstance(plan, dict) or len(plan) > MAX_PLAN_SECTIONS:
        raise TransferError("the export's 'safety_plan' must be an object of at most a few sections")
    return {
        _string("safety_plan", "section", key, 64, required=True): _string(
            "safety_plan", str(key)[:64], text, MAX_PLAN_CHARS
        )
        for key, text in plan.items()
    }


def import_safety_plan(bank: MemoryBank, plan: dict[str, str], now: float) -> bool:
    """Keep an imported plan when the profile has none yet (a plan is never overwritten)."""
    if not plan or bank.safety_plan():
        return False
    bank.save_safety_plan(plan, now)
    return True


# -- importing -----------------------------------------------------------------------------
def _stored_matches(bank: MemoryBank, items: Sequence[ImportedMemory]) -> dict[int, int]:
    """File id -> id of an already stored memory with the same stream, text and creation time."""
    if not items or bank.count() == 0:
        return {}
    wanted: dict[tuple[str, float, str], list[int]] = {}
    for item in items:
        wanted.setdefault((item.stream.value, item.created_at, item.text), []).append(item.id)
    found: dict[int, int] = {}
    for m in bank.all_memories():
        key = (Stream(m.stream).value, m.created_at, unicodedata.normalize("NFC", m.text))
        for file_id in wanted.pop(key, ()):
            found[file_id] = m.id
    return found


def _new_memory(item: ImportedMemory) -> NewMemory:
    shared = {f.name: getattr(item, f.name) for f in fields(NewMemory)}
    rated = item.importance is not None
    shared["importance_source"] = (item.importance_source or IMPORT_SOURCE) if rated else None
    return NewMemory(**shared)


def _embed(embedder: Embedder, texts: list[str]) -> np.ndarray:
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    batches = [embedder.embed_passages(texts[i : i + EMBED_BATCH]) for i in range(0, len(texts), EMBED_BATCH)]
    return np.ascontiguousarray(np.vstack(batches), dtype=np.float32)


def import_memories(bank: MemoryBank, items: Sequence[ImportedMemory]) -> ImportReport:
    """Add imported memories to the bank, all or nothing; duplicates are skipped.

    A memory whose stream, text and creation time are already stored is not added again,
    and evidence citing it points at the stored one. New ids come from the store; evidence
    is remapped to them. Vectors are recomputed with the bank's embedder.
    """
    ordered = _dependency_order(items)
    known = _stored_matches(bank, ordered)
    todo = [item for item in ordered if item.id not in known]
    if not todo:
        return ImportReport(added=0, skipped_duplicates=len(ordered), id_map=known)
    memories = [_new_memory(item) for item in todo]
    vectors = _embed(bank.embedder, [embedding_text(m) for m in memories])
    rows = bank.add_linked(
        memories,
        vectors,
        keys=[item.id for item in todo],
        last_accessed=[item.last_accessed for item in todo],
        known=known,
    )
    added = sum(is_new for _, is_new in rows)
    id_map = {**known, **{item.id: row[0] for item, row in zip(todo, rows, strict=True)}}
    return ImportReport(added=added, skipped_duplicates=len(ordered) - added, id_map=id_map)
