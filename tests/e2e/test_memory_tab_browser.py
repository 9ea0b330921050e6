"""The memory tab in a real browser: the same code under the standalone gradio and, with
``JOI_E2E_PYTHON`` pointing at an environment with the host's gradio 4.37, under that.

The store is seeded through the engine before the app starts (a small conversation, the two
inner voices and a two-level tree of reflections), so these tests need no LLM replies.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from urllib.parse import urljoin

import pytest
from joi_coach.memory.bank import MemoryBank
from joi_coach.memory.models import NewMemory, Stream
from joi_coach.profiles import profile_folder_name
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from .conftest import AppServer, app_gradio_major
from .joi_page import open_app, open_memory_row, open_memory_tab, refresh_memories, store_rows

MARATHON = "I want to run a marathon next year."
HOSTILE = "<script>window.pwned=1</script> & **not bold** <i>x</i>"
PLAN = "Break the marathon goal into monthly milestones."
INSIGHT = "Sam is motivated by long-term running goals."
DEEPER = "Sam responds well to concrete plans."


def seed(data_dir: Path, embedder) -> None:
    bank = MemoryBank(data_dir / "profiles" / profile_folder_name("local"), embedder)
    now = time.time() - 3600
    ids = bank.add(
        [
            NewMemory(Stream.DIALOGUE, MARATHON, now, speaker="Sam", importance=7, importance_source="llm"),
            NewMemory(Stream.DIALOGUE, "That's a big goal! What do you run now?", now + 5, speaker="Joi"),
            NewMemory(
                Stream.DIALOGUE, HOSTILE, now + 60, speaker="Sam", importance=2, importance_source="llm"
            ),
            NewMemory(Stream.EMPATHETIC, "Sam sounds excited but unsure.", now + 5, speaker="Joi"),
            NewMemory(
                Stream.THERAPEUTIC, PLAN, now + 5, speaker="Joi", importance=6, importance_source="llm"
            ),
        ]
    )
    [insight] = bank.add(
        [NewMemory(Stream.REFLECTION, INSIGHT, now + 100, importance=8, evidence=(ids[0], ids[4]), depth=1)]
    )
    bank.add([NewMemory(Stream.REFLECTION, DEEPER, now + 200, importance=7, evidence=(insight,), depth=2)])
    bank.close()


def upload(page, path: Path, tries: int = 3) -> None:
    """Choose a file in the import box (its file input, as the file chooser would).

    A file chosen while the box re-renders (emptied by the previous import) can be dropped
    by the browser, so the choice is made again until the box shows the file's name. A
    slow upload that shows its name only after the wait is not chosen again: once a file
    is in the box, gradio 4 removes the file input.
    """
    box, chooser = "#joi-import-file", "#joi-import-file input[type=file]"
    # gradio 4 shows the name as two spans ("good", ".json") whose text once read "good .json" (a
    # full run failed so with the file shown): the name is looked for in the markup's attributes.
    shows_name = '([box, name]) => document.querySelector(box).innerHTML.includes(`"${name}"`)'
    for attempt in range(1, tries + 1):
        if page.evaluate(shows_name, [box, path.name]):
            break
        try:
            page.locator(chooser).set_input_files(str(path), timeout=20_000)
            page.wait_for_function(shows_name, arg=[box, path.name], timeout=20_000)
            break
        except PlaywrightTimeout as exc:
            if attempt == tries:
                shown = page.inner_html(box)[:2000]
                raise AssertionError(f"the import box never took {path.name}: {shown}") from exc
    page.wait_for_timeout(500)  # the upload's value reaches the component after its name shows


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedder):
    folder = tmp_path_factory.mktemp("memory-tab")
    seed(folder / "data", embedder)
    app = AppServer(folder / "data", folder / "app.log", "--reply-tokens", "32")
    app.start()
    yield app
    app.stop()


def test_the_app_runs_on_the_gradio_this_run_asked_for(server):
    expected = os.environ.get("JOI_E2E_GRADIO")  # CI's second run: the host's 4.37
    major = app_gradio_major()
    assert major == int(expected) if expected else major >= 6


def test_browse_shows_every_memory_as_text_with_the_reflection_tree_and_timeline(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    table = page.inner_text("#joi-memory-table")
    for text in (MARATHON, PLAN, INSIGHT, DEEPER, "<script>window.pwned=1</script>", "**not bold**"):
        assert text in table
    assert page.locator("#joi-memory-table script, #joi-memory-table i").count() == 0
    assert page.evaluate("window.pwned === undefined")
    tree = page.locator("#joi-reflection-tree")
    assert DEEPER in tree.inner_text()
    tree.locator("summary").first.click()  # open the deeper insight: the insight it rests on
    assert INSIGHT in tree.inner_text()
    assert page.locator("#joi-timeline svg circle[data-memory-id]").count() == 7


def test_filter_by_stream_and_search(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    page.click("#joi-stream-filter input")
    page.get_by_role("option", name="reflection").click()
    page.wait_for_timeout(1500)
    table = page.inner_text("#joi-memory-table")
    assert INSIGHT in table and MARATHON not in table
    page.click("#joi-stream-filter input")
    page.get_by_role("option", name="all streams").click()
    refresh_memories(page, "marathon")
    table = page.inner_text("#joi-memory-table")
    assert "best first" in page.inner_text("#joi-tab-memory")
    assert table.index(MARATHON) < table.index("Sam sounds excited")  # ranked, not by time


def test_open_edit_text_and_importance(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    open_memory_row(page, PLAN)
    page.fill("#joi-memory-text textarea", PLAN + " Start with 10k.")
    slider_box = page.locator("#joi-importance input[type=number]")
    slider_box.fill("9")
    slider_box.press("Tab")
    page.click("#joi-save-memory")
    page.wait_for_function("() => document.querySelector('#joi-memory-status').innerText.includes('saved')")
    assert store_rows(
        server.data_dir,
        "SELECT importance, importance_source FROM memories WHERE text = ?",
        (PLAN + " Start with 10k.",),
    ) == [(9, "user")]


def test_export_then_import_and_a_broken_file_is_refused(server, page, tmp_path):
    open_app(page, server.url)
    open_memory_tab(page)
    page.get_by_text("Export and import").click()
    page.click("#joi-export-json")
    link = page.locator("#joi-exported a").first
    link.wait_for()
    exported = page.request.get(urljoin(server.url, link.get_attribute("href"))).json()
    assert exported["format"] == "joi-coach-memories"
    assert {m["text"] for m in exported["memories"]} >= {MARATHON, HOSTILE, INSIGHT}

    before = store_rows(server.data_dir, "SELECT COUNT(*) FROM memories")[0][0]
    new = {
        "format": "joi-coach-memories",
        "version": 1,
        "memories": [
            {
                "id": 1,
                "stream": "dialogue",
                "text": "Imported: I started swimming.",
                "created_at": 1_700_000_000,
            },
            {
                "id": 2,
                "stream": "reflection",
                "text": "Imported insight.",
                "created_at": 1_700_000_100,
                "evidence": [1],
            },
        ],
    }
    good = tmp_path / "good.json"
    good.write_text(json.dumps(new), encoding="utf-8")
    upload(page, good)
    page.wait_for_timeout(1500)
    page.click("#joi-import")
    page.wait_for_function(
        "() => document.querySelector('#joi-memory-status').innerText.includes('Imported 2')", timeout=60_000
    )
    assert store_rows(server.data_dir, "SELECT COUNT(*) FROM memories")[0][0] == before + 2
    page.wait_for_function(  # the import empties the box for the next file
        "() => !document.querySelector('#joi-import-file').innerText.includes('good.json')", timeout=30_000
    )

    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps({**new, "memories": [{**new["memories"][0], "importance": 11}]}), encoding="utf-8"
    )
    upload(page, bad)
    page.wait_for_timeout(1500)
    page.click("#joi-import")
    page.get_by_text("Nothing imported").first.wait_for(timeout=60_000)
    assert "importance" in page.get_by_text("Nothing imported").first.inner_text()
    assert store_rows(server.data_dir, "SELECT COUNT(*) FROM memories")[0][0] == before + 2


def fill_until_they_stay(page, values: dict[str, str], tries: int = 10) -> None:
    """Type each value into its field, again until a settled page keeps them all."""
    for _ in range(tries):
        for selector, value in values.items():
            page.locator(selector).fill(value)
            page.locator(selector).press("Tab")
        page.wait_for_timeout(1000)
        if all(page.locator(s).input_value() == v for s, v in values.items()):
            return
    raise AssertionError(f"the fields kept being reset: {list(values)}")


def test_recall_settings_persist(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    page.get_by_text("Recall settings").click()
    # The tab's own refresh (on page load and on opening the tab) writes the saved settings into
    # these fields; a value typed before it lands is overwritten, so type until it stays.
    fill_until_they_stay(page, {"#joi-k-dialogue input[type=number]": "2", "#joi-threshold input": "33"})
    page.click("#joi-save-settings")
    page.wait_for_function(
        "() => document.querySelector('#joi-memory-status').innerText.includes('Settings saved')"
    )
    [settings_file] = Path(server.data_dir).glob("profiles/*/settings.json")
    saved = json.loads(settings_file.read_text(encoding="utf-8"))
    assert saved["k"]["dialogue"] == 2 and saved["reflection"]["threshold"] == 33

    open_app(page, server.url)  # a fresh page load reads them back
    open_memory_tab(page)
    page.get_by_text("Recall settings").click()
    assert page.locator("#joi-k-dialogue input[type=number]").input_value() == "2"
    assert page.locator("#joi-threshold input").input_value() == "33"


def test_forgetting_a_memory_forgets_the_reflections_drawn_from_it(server, page):
    open_app(page, server.url)
    open_memory_tab(page)
    open_memory_row(page, MARATHON)
    page.click("#joi-forget")
    page.wait_for_function("() => document.querySelector('#joi-memory-status').innerText.includes('Forgot')")
    assert "2 reflection" in page.inner_text("#joi-memory-status")
    refresh_memories(page)
    table = page.inner_text("#joi-memory-table")
    assert MARATHON not in table and INSIGHT not in table and DEEPER not in table
    assert PLAN in table  # evidence of a forgotten reflection is not itself forgotten
    assert store_rows(
        server.data_dir, "SELECT COUNT(*) FROM memories WHERE text IN (?, ?, ?)", (MARATHON, INSIGHT, DEEPER)
    ) == [(0,)]


# -- backing up and forgetting: each on its own app, so the tests above keep their memories ---------
WALK = "I walk by the river every morning with my dog Brisvane."
WALK_REPLY = "Morning walks with Brisvane sound grounding."


@pytest.fixture
def fresh_server(tmp_path, embedder):
    """An app whose store holds the seeded memories plus a later conversation (the one the chat
    opens), and exports on disk."""
    data = tmp_path / "data"
    seed(data, embedder)
    bank = MemoryBank(data / "profiles" / profile_folder_name("local"), embedder)
    later = time.time() - 600
    bank.add(
        [
            NewMemory(Stream.DIALOGUE, WALK, later, speaker="Sam", conversation="c-walks"),
            NewMemory(Stream.DIALOGUE, WALK_REPLY, later + 5, speaker="Joi", conversation="c-walks"),
        ]
    )
    bank.close()
    app = AppServer(data, tmp_path / "app.log", "--reply-tokens", "32")
    app.start()
    yield app
    app.stop()


def raw_files_containing(data_dir: Path, word: str) -> list[str]:
    return sorted(
        str(p.relative_to(data_dir))
        for p in Path(data_dir).rglob("*")
        if p.is_file() and word.encode() in p.read_bytes()
    )


def wait_for_status(page, text: str, timeout: float = 60_000) -> str:
    page.wait_for_function(
        "t => document.querySelector('#joi-memory-status').innerText.includes(t)", arg=text, timeout=timeout
    )
    return page.inner_text("#joi-memory-status")


def test_back_up_then_forget_a_conversation_then_everything_with_its_confirmation(fresh_server, page):
    import io
    import zipfile

    open_app(page, fresh_server.url)
    assert any(WALK in t for t in page.locator("#joi-chat").all_inner_texts())  # the chat opens c-walks
    open_memory_tab(page)
    assert WALK in page.inner_text("#joi-memory-table")

    page.get_by_text("Export and import").click()
    page.click("#joi-backup")
    wait_for_status(page, "Backup of 9 memories")
    link = page.locator("#joi-exported a").first
    link.wait_for()
    backup = page.request.get(urljoin(fresh_server.url, link.get_attribute("href"))).body()
    with zipfile.ZipFile(io.BytesIO(backup)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["format"] == "joi-coach-backup" and manifest["memories"] == 9
        assert manifest["profile"] == "local" and manifest["encrypted"] is False

    page.get_by_text("Forget a conversation or everything").click()
    choice = page.locator("#joi-forget-conversation-choice input")
    assert "2 lines" in choice.input_value()  # the latest conversation, picked by default
    page.click("#joi-forget-conversation")
    status = wait_for_status(page, "Forgot the conversation")
    assert "2 memories" in status and "Exports Joi had written" in status  # the backup file went too
    refresh_memories(page)
    assert WALK not in page.inner_text("#joi-memory-table")
    assert MARATHON in page.inner_text("#joi-memory-table")
    assert raw_files_containing(fresh_server.data_dir, "Brisvane") == []

    page.click("#joi-forget-everything")  # not confirmed: nothing is forgotten
    page.get_by_text("Type FORGET in the box").first.wait_for(timeout=30_000)
    assert store_rows(fresh_server.data_dir, "SELECT COUNT(*) FROM memories") == [(7,)]

    page.fill("#joi-forget-everything-confirm textarea, #joi-forget-everything-confirm input", "FORGET")
    page.click("#joi-forget-everything")
    assert "7 memories" in wait_for_status(page, "Forgot everything")
    page.wait_for_function(  # the tab's refresh after it: an empty table
        "t => !document.querySelector('#joi-memory-table').innerText.includes(t)", arg=MARATHON
    )
    assert "Brisvane" not in page.inner_text("#joi-tab-memory")
    assert store_rows(fresh_server.data_dir, "SELECT COUNT(*) FROM memories") == [(0,)]
    assert store_rows(fresh_server.data_dir, "SELECT COUNT(*) FROM safety_plan") == [(0,)]
    for word in ("marathon", "Sam sounds excited", "monthly milestones", "pwned"):
        assert raw_files_containing(fresh_server.data_dir, word) == [], word

    open_app(page, fresh_server.url)  # the chat shows nothing of what was forgotten
    chat = page.inner_text("#joi-chat")
    assert MARATHON not in chat and WALK not in chat and "big goal" not in chat
    assert page.locator('#joi-chat [data-testid="user"]').count() == 0
    open_memory_tab(page)
    assert MARATHON not in page.inner_text("#joi-memory-table")
