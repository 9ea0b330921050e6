"""The memory tab: browse, search, edit, forget, reflect, export, import, back up, and tune recall.

Every forget (a memory, a conversation, everything) also shreds the exports this tab wrote for
the person to download, so no file Joi wrote still holds the forgotten words.

Shared by the standalone app and the text-generation-webui extension, so it sticks to the
gradio API that 4.37 (the host's) and 6 (the standalone app's) have in common. Which
profile it shows is decided by ``profile_of(request)``: the signed-in user standalone,
the user and character inside the webui. (No ``from __future__ import annotations`` here:
gradio finds ``gr.Request`` parameters by their real annotation.)
"""

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from ..coach import Coach
from ..conversations import list_conversations
from ..memory.backup import BackupError, default_name
from ..memory.files import erase_exports
from ..memory.models import IMPORTANCE_MAX, IMPORTANCE_MIN, Memory, Stream
from ..memory.plan_transfer import PlanTransferError, import_plans, parse_plans
from ..memory.transfer import (
    TransferError,
    dumps_export,
    export_json,
    export_markdown,
    import_memories,
    import_safety_plan,
    parse_import,
    parse_safety_plan,
)
from ..profiles import profile_folder_name
from .compat import listen, make
from .plans_panel import PlansPanel, PlansParts
from .timeline import render_timeline_svg
from .views import (
    MEMORY_COLUMNS,
    counts_markdown,
    memory_detail_html,
    memory_rows,
    reflection_tree_html,
)

log = logging.getLogger(__name__)
BROWSE_LIMIT = 200
SEARCH_PER_STREAM = 25
TIMELINE_LIMIT = 2000
REFLECTION_LIMIT = 300
EXPORT_LIFETIME_S = 600  # exports older than this are removed at the next export
ALL = "all streams"
CONFIRM_WORD = "FORGET"  # typed to confirm forgetting everything
EXPORTS_GONE = " Exports Joi had written for you to download were deleted too."
STREAM_CHOICES = [ALL] + [s.value for s in Stream]
ProfileOf = Callable[[gr.Request], str]


@dataclass
class MemoryTabParts:
    """The components other code wires to (e.g. to refresh the tab when it is opened)."""

    refresh: Callable[..., Any]
    refresh_inputs: list[Any]
    refresh_outputs: list[Any]


class MemoryTab:
    """Builds the memory tab's components and handlers inside the current gradio Blocks."""

    def __init__(self, coach: Coach, profile_of: ProfileOf, user_name_of: ProfileOf | None = None) -> None:
        self.coach = coach
        self.profile_of = profile_of
        self.user_name_of = user_name_of or (lambda request: "the person")
        self._export_dir = Path(tempfile.mkdtemp(prefix="joi-exports-"))

    # -- reading ------------------------------------------------------------------------
    def _listing(self, profile: str, stream_filter: str, query: str) -> tuple[list[Memory], str]:
        bank = self.coach.bank(profile)
        streams = list(Stream) if stream_filter in ("", ALL, None) else [Stream(stream_filter)]
        query = (query or "").strip()
        if query:
            recalled = bank.recall(query, dict.fromkeys(streams, SEARCH_PER_STREAM), touch=False)
            ranked = sorted((r for rs in recalled.values() for r in rs), key=lambda r: -r.score.total)
            return [r.memory for r in ranked], f"{len(ranked)} memories match, best first."
        stream = streams[0] if len(streams) == 1 else None
        memories = bank.memories(stream, limit=BROWSE_LIMIT)
        total = bank.count(stream)
        note = f"Newest {len(memories)} of {total}." + (
            " Search to find older ones." if total > len(memories) else ""
        )
        return memories, note

    def _reflection_tree(self, profile: str) -> str:
        bank = self.coach.bank(profile)
        reflections = bank.memories(Stream.REFLECTION, limit=REFLECTION_LIMIT)
        lookup = {m.id: m for m in reflections}
        wanted = {e for r in reflections for e in r.evidence if e not in lookup}
        lookup.update((m.id, m) for m in bank.get(sorted(wanted)))
        return reflection_tree_html(reflections, lookup)

    def refresh(self, stream_filter: str, query: str, request: gr.Request):
        profile = self.profile_of(request)
        bank = self.coach.bank(profile)
        memories, note = self._listing(profile, stream_filter, query)
        counts = {s: bank.count(s) for s in Stream}
        settings = self.coach.settings_for(profile)
        w = settings.retrieval.weights
        problem = self.coach.profile_settings.problem(profile)
        return (
            counts_markdown(counts, profile) + f"\n\n{note}",
            memory_rows(memories),
            [m.id for m in memories],
            render_timeline_svg(bank.memories(limit=TIMELINE_LIMIT), now=time.time()),
            self._reflection_tree(profile),
            *(settings.k.get(s, 0) for s in Stream),
            w.relevance,
            w.lexical,
            w.recency,
            w.importance,
            settings.retrieval.decay_per_hour,
            settings.reflection.threshold,
            f"⚠️ {problem}" if problem else "",
            self._conversation_choices(profile),
        )

    def _conversation_choices(self, profile: str) -> Any:
        infos = list_conversations(self.coach.bank(profile))
        choices = [(info.label(), info.id) for info in infos]
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    def select(self, ids: list[int], request: gr.Request, evt: gr.SelectData):
        row = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        if not ids or row is None or not 0 <= int(row) < len(ids):
            return None, "", "", 5
        return self.open(ids[int(row)], request)

    def open(self, memory_id: float | None, request: gr.Request):
        if not memory_id:
            return None, '<p class="joi-muted">Pick a memory in the table.</p>', "", 5
        bank = self.coach.bank(self.profile_of(request))
        found = bank.get([int(memory_id)])
        if not found:
            return None, '<p class="joi-muted">That memory no longer exists.</p>', "", 5
        memory = found[0]
        evidence = bank.get(list(memory.evidence))
        derived = bank.get(bank.derived_from(memory.id))
        detail = memory_detail_html(memory, evidence, derived)
        return memory.id, detail, memory.text, memory.importance or 5

    # -- changing -----------------------------------------------------------------------
    def save(self, memory_id: float | None, text: str, importance: float, request: gr.Request) -> str:
        if not memory_id:
            raise gr.Error("Pick a memory in the table first.")
        bank = self.coach.bank(self.profile_of(request))
        found = bank.get([int(memory_id)])
        if not found:
            raise gr.Error("That memory no longer exists.")
        memory, changed = found[0], []
        if (text or "").strip() != memory.text:
            try:
                bank.edit_text(memory.id, text or "")
            except ValueError as exc:
                raise gr.Error(str(exc)) from exc
            changed.append("text")
        if importance is not None and int(importance) != memory.importance:
            bank.set_importance({memory.id: int(importance)}, "user")
            changed.append("importance")
        return f"Memory #{memory.id}: saved {' and '.join(changed)}." if changed else "Nothing changed."

    def forget(self, memory_id: float | None, with_derived: bool, request: gr.Request) -> tuple[str, None]:
        if not memory_id:
            raise gr.Error("Pick a memory in the table first.")
        bank = self.coach.bank(self.profile_of(request))
        try:
            gone = bank.forget(int(memory_id), with_derived=bool(with_derived))
        except KeyError as exc:
            raise gr.Error("That memory no longer exists.") from exc
        bank.flush()
        extra = f" and {len(gone) - 1} reflection(s) drawn from it" if len(gone) > 1 else ""
        return f"Forgot memory #{int(memory_id)}{extra}.{self._after_forget(request)}", None

    def _after_forget(self, request: gr.Request) -> str:
        """Shred this person's exports and let the chat read its transcript again."""
        profile = self.profile_of(request)
        removed = erase_exports(self._exports(profile))
        self.coach.notify_forgotten(profile)
        return EXPORTS_GONE if removed else ""

    def forget_conversation(self, conversation: str | None, request: gr.Request) -> str:
        if not conversation:
            raise gr.Error("Pick a conversation first.")
        bank = self.coach.bank(self.profile_of(request))
        gone = bank.forget_conversation(str(conversation))
        if not gone:
            raise gr.Error("That conversation has no memories left.")
        bank.flush()
        return f"Forgot the conversation: {len(gone)} memories, with the reflections drawn from them.{self._after_forget(request)}"

    def forget_everything(self, confirmation: str, request: gr.Request) -> tuple[str, str]:
        if (confirmation or "").strip() != CONFIRM_WORD:
            raise gr.Error(f"Type {CONFIRM_WORD} in the box to confirm; nothing was forgotten.")
        profile = self.profile_of(request)
        exports = self._exports(profile)
        had_exports = any(p.is_file() for p in exports.rglob("*")) if exports.is_dir() else False
        count = self.coach.forget_everything(profile, exports=[exports])
        self.coach.bank(profile).flush()
        return (
            f"Forgot everything: {count} memories, your safety plan, your settings and the name Joi knew "
            f"you by.{EXPORTS_GONE if had_exports else ''}"
        ), ""

    def reflect(self, request: gr.Request) -> str:
        profile = self.profile_of(request)
        try:
            new = self.coach.reflect_now(profile, self.user_name_of(request))
        except Exception as exc:
            log.exception("reflect now failed")
            raise gr.Error(
                f"Reflection failed ({type(exc).__name__}); try again when Joi is not replying."
            ) from exc
        self.coach.bank(profile).flush()
        if not new:
            return "Joi reflected but found nothing new worth keeping (or there is too little to go on yet)."
        return f"{len(new)} new reflection(s): " + ", ".join(f"#{m.id}" for m in new)

    def save_settings(
        self,
        k_dialogue: float,
        k_empathetic: float,
        k_therapeutic: float,
        k_reflection: float,
        rel: float,
        lex: float,
        rec: float,
        imp: float,
        decay: float,
        threshold: float,
        request: gr.Request,
    ) -> str:
        k_values = (k_dialogue, k_empathetic, k_therapeutic, k_reflection)
        changes = {
            "k": {s.value: int(v) for s, v in zip(Stream, k_values, strict=True)},
            "retrieval": {
                "weights": {"relevance": rel, "lexical": lex, "recency": rec, "importance": imp},
                "decay_per_hour": decay,
            },
            "reflection": {"threshold": int(threshold)},
        }
        try:
            self.coach.update_settings(self.profile_of(request), _finite(changes))
        except (TypeError, ValueError) as exc:
            raise gr.Error(f"Settings not saved: {exc}") from exc
        return "Settings saved; they apply from the next message."

    def reset_settings(self, request: gr.Request) -> str:
        self.coach.profile_settings.reset(self.profile_of(request))
        self.coach.bank(self.profile_of(request))
        return "Settings reset to the defaults."

    # -- export and import --------------------------------------------------------------
    def _exports(self, profile: str) -> Path:
        """The private folder of one person's exports (forgetting shreds only their own)."""
        return self._export_dir / profile_folder_name(profile)

    def _export_folder(self, profile: str) -> Path:
        """A new private folder for one download, removing earlier ones that are old enough
        to have been downloaded (a person's memories should not linger on disk)."""
        now = time.time()
        for old in self._export_dir.glob("*/*/*"):
            if now - old.stat().st_mtime > EXPORT_LIFETIME_S:
                erase_exports(old.parent)
                old.parent.rmdir()
        exports = self._exports(profile)
        exports.mkdir(mode=0o700, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix="export-", dir=exports))  # 0700

    def _export_file(self, profile: str, name: str, content: str) -> str:
        path = self._export_folder(profile) / name
        path.write_text(content, encoding="utf-8")
        os.chmod(path, 0o600)
        return str(path)

    def export_json_file(self, request: gr.Request) -> str:
        profile = self.profile_of(request)
        settings = self.coach.profile_settings.overrides(profile)
        data = export_json(self.coach.bank(profile), settings=settings)
        return self._export_file(profile, f"joi-memories-{_stamp()}.json", dumps_export(data))

    def export_markdown_file(self, request: gr.Request) -> str:
        profile = self.profile_of(request)
        return self._export_file(
            profile, f"joi-memories-{_stamp()}.md", export_markdown(self.coach.bank(profile))
        )

    def backup_file(self, request: gr.Request) -> tuple[str, str]:
        """A backup of this person's store and settings (see memory.backup), for download."""
        profile = self.profile_of(request)
        path = self._export_folder(profile) / default_name()
        try:
            manifest = self.coach.backup(profile, path)
        except BackupError as exc:
            raise gr.Error(f"No backup: {exc}") from exc
        note = (
            "It is encrypted: it opens only with this data folder's passphrase."
            if manifest.encrypted
            else "It is not encrypted: anyone who has the file can read it, so keep it somewhere safe."
        )
        return str(path), (
            f"Backup of {manifest.memories} memories ready below. {note} "
            "Restore it with `joi-coach restore FILE` while Joi is stopped."
        )

    def import_file(self, file: Any, request: gr.Request) -> tuple[str, None]:
        if file is None:
            raise gr.Error("Choose a Joi export (.json) to import.")
        path = file if isinstance(file, str) else getattr(file, "name", None)
        if not path:
            raise gr.Error("The upload did not arrive; please choose the file again.")
        try:
            raw = Path(path).read_bytes()
            items = parse_import(raw)
            plan = parse_safety_plan(raw)
            plans = parse_plans(json.loads(raw))
        except (OSError, TransferError, PlanTransferError) as exc:
            raise gr.Error(f"Nothing imported: {exc}") from exc
        bank = self.coach.bank(self.profile_of(request))
        report = import_memories(bank, items)
        bank.flush()
        message = f"Imported {report.added} memories ({report.skipped_duplicates} already there, skipped)."
        if plans:
            message += f" {import_plans(bank, plans, report.id_map)} plan entries imported."
        if plan:
            kept = import_safety_plan(bank, plan, time.time())
            message += (
                " The safety plan in the file was imported."
                if kept
                else " The safety plan in the file was not imported: you already have one."
            )
        return message, None  # an emptied box: ready for the next file

    # -- layout -------------------------------------------------------------------------
    def build(self) -> MemoryTabParts:
        """Lay out the tab's components in the current Blocks context and wire them."""
        counts = gr.Markdown("")
        with gr.Row():
            stream_filter = make(
                gr.Dropdown,
                choices=STREAM_CHOICES,
                value=ALL,
                label="Stream",
                scale=1,
                elem_id="joi-stream-filter",
            )
            query = make(
                gr.Textbox,
                label="Search",
                placeholder="words or meaning…",
                scale=3,
                elem_id="joi-memory-search",
            )
            refresh_button = make(gr.Button, value="Search / refresh", scale=1, elem_id="joi-memory-refresh")
        ids = gr.State([])
        table = make(
            gr.Dataframe,
            headers=MEMORY_COLUMNS,
            datatype=["number", "str", "str", "str", "str"],
            value=[],
            interactive=False,
            wrap=True,
            column_widths=["7%", "11%", "15%", "9%", "58%"],
            label="Memories (click one to open it)",
            elem_id="joi-memory-table",
        )
        with gr.Row():
            with gr.Column(scale=3):
                detail = make(gr.HTML, value="", elem_id="joi-memory-detail")
                selected = make(
                    gr.Number, label="Memory id", precision=0, value=None, elem_id="joi-selected-id"
                )
                text = make(gr.Textbox, label="Text", lines=4, elem_id="joi-memory-text")
                importance = make(
                    gr.Slider,
                    minimum=IMPORTANCE_MIN,
                    maximum=IMPORTANCE_MAX,
                    step=1,
                    value=5,
                    label="Importance (1 = mundane, 10 = life-changing)",
                    elem_id="joi-importance",
                )
            with gr.Column(scale=1):
                open_button = make(gr.Button, value="Open id")
                save_button = make(
                    gr.Button, value="Save changes", variant="primary", elem_id="joi-save-memory"
                )
                with_derived = make(gr.Checkbox, value=True, label="Also forget reflections drawn from it")
                forget_button = make(
                    gr.Button, value="Forget this memory", variant="stop", elem_id="joi-forget"
                )
                status = make(gr.Markdown, value="", elem_id="joi-memory-status")
        with make(
            gr.Accordion, label="Plans: goals, commitments, limits, people", open=True, elem_id="joi-plans"
        ):
            plans = PlansPanel(self.coach, self.profile_of).build()
        with make(gr.Accordion, label="Reflections", open=True):
            reflect_button = make(gr.Button, value="Reflect now", elem_id="joi-reflect-now")
            tree = make(gr.HTML, value="", elem_id="joi-reflection-tree")
        with make(gr.Accordion, label="Timeline", open=True):
            timeline = make(gr.HTML, value="", elem_id="joi-timeline")
        with make(gr.Accordion, label="Export and import", open=False):
            with gr.Row():
                export_json_button = make(
                    gr.Button, value="Export JSON (for import)", elem_id="joi-export-json"
                )
                export_md_button = make(
                    gr.Button, value="Export Markdown (for reading)", elem_id="joi-export-md"
                )
            exported = make(gr.File, label="Your export", interactive=False, elem_id="joi-exported")
            upload = make(
                gr.File,
                label="Import a Joi JSON export",
                file_types=[".json"],
                type="filepath",
                elem_id="joi-import-file",
            )
            import_button = make(gr.Button, value="Import", elem_id="joi-import")
            backup_button = make(gr.Button, value="Back up", elem_id="joi-backup")
        with make(gr.Accordion, label="Forget a conversation or everything", open=False):
            with gr.Row():
                conversation = make(
                    gr.Dropdown,
                    choices=[],
                    label="Conversation",
                    scale=3,
                    elem_id="joi-forget-conversation-choice",
                )
                forget_conversation_button = make(
                    gr.Button,
                    value="Forget this conversation",
                    variant="stop",
                    scale=1,
                    elem_id="joi-forget-conversation",
                )
            make(
                gr.Markdown,
                value=(
                    "**Forget everything** deletes every memory, reflection, your safety plan, your "
                    "settings and the exports Joi wrote for you, for good: it cannot be undone "
                    "(a backup you downloaded is yours to keep or delete). "
                    f"Type **{CONFIRM_WORD}** to confirm."
                ),
            )
            with gr.Row():
                confirm = make(
                    gr.Textbox,
                    label=f"Type {CONFIRM_WORD}",
                    placeholder=CONFIRM_WORD,
                    scale=3,
                    elem_id="joi-forget-everything-confirm",
                )
                forget_everything_button = make(
                    gr.Button,
                    value="Forget everything",
                    variant="stop",
                    scale=1,
                    elem_id="joi-forget-everything",
                )
        with make(gr.Accordion, label="Recall settings", open=False):
            with gr.Row():
                k_sliders = [
                    make(
                        gr.Slider,
                        minimum=0,
                        maximum=10,
                        step=1,
                        value=0,
                        label=f"k · {s.value}",
                        elem_id=f"joi-k-{s.value}",
                    )
                    for s in Stream
                ]
            with gr.Row():
                weights = [
                    make(gr.Number, value=0, label=f"weight · {name}", elem_id=f"joi-weight-{name}")
                    for name in ("relevance", "lexical", "recency", "importance")
                ]
            with gr.Row():
                decay = make(
                    gr.Number, value=0.995, label="recency decay per hour (0–1]", elem_id="joi-decay"
                )
                threshold = make(
                    gr.Number,
                    value=60,
                    precision=0,
                    label="reflection threshold (summed importance)",
                    elem_id="joi-threshold",
                )
            settings_problem = gr.Markdown("")
            with gr.Row():
                save_settings_button = make(
                    gr.Button, value="Save settings", variant="primary", elem_id="joi-save-settings"
                )
                reset_settings_button = make(
                    gr.Button, value="Reset to defaults", elem_id="joi-reset-settings"
                )

        refresh_inputs = [stream_filter, query]
        refresh_outputs = [
            counts,
            table,
            ids,
            timeline,
            tree,
            *k_sliders,
            *weights,
            decay,
            threshold,
            settings_problem,
            conversation,
        ]
        opened = [selected, detail, text, importance]

        def then_refresh(event: Any) -> None:
            event.then(self.refresh, refresh_inputs, refresh_outputs).then(
                plans.refresh, None, plans.refresh_outputs
            )

        for trigger in (refresh_button.click, query.submit, stream_filter.change):
            listen(trigger, self.refresh, refresh_inputs, refresh_outputs)
        listen(refresh_button.click, plans.refresh, None, plans.refresh_outputs)
        listen(table.select, self.select, [ids], opened)
        listen(open_button.click, self.open, [selected], opened)
        then_refresh(listen(save_button.click, self.save, [selected, text, importance], [status]))
        then_refresh(listen(forget_button.click, self.forget, [selected, with_derived], [status, selected]))
        then_refresh(listen(reflect_button.click, self.reflect, None, [status]))
        listen(export_json_button.click, self.export_json_file, None, [exported])
        listen(export_md_button.click, self.export_markdown_file, None, [exported])
        then_refresh(listen(import_button.click, self.import_file, [upload], [status, upload]))
        listen(backup_button.click, self.backup_file, None, [exported, status])
        then_refresh(
            listen(forget_conversation_button.click, self.forget_conversation, [conversation], [status])
        )
        then_refresh(
            listen(forget_everything_button.click, self.forget_everything, [confirm], [status, confirm])
        )
        then_refresh(
            listen(
                save_settings_button.click,
                self.save_settings,
                [*k_sliders, *weights, decay, threshold],
                [status],
            )
        )
        then_refresh(listen(reset_settings_button.click, self.reset_settings, None, [status]))
        return MemoryTabParts(
            self.refresh_all(plans), refresh_inputs, [*refresh_outputs, *plans.refresh_outputs]
        )

    def refresh_all(self, plans: PlansParts) -> Callable[..., Any]:
        """The tab's refresh: the memories, then the plans (one handler for one set of outputs)."""

        def refresh(stream_filter: str, query: str, request: gr.Request) -> tuple[Any, ...]:
            return (*self.refresh(stream_filter, query, request), *plans.refresh(request))

        return refresh


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M", time.gmtime())


def _finite(changes: dict[str, Any]) -> dict[str, Any]:
    """Reject empty or non-finite numbers from number boxes with a clear message."""

    def check(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            return {k: check(v, f"{name}.{k}" if name else k) for k, v in value.items()}
        if (
            value is None
            or (isinstance(value, float) and value != value)
            or value in (float("inf"), float("-inf"))
        ):
            raise ValueError(f"{name} needs a number")
        return value

    return check(changes, "")
