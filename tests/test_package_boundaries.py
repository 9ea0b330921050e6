"""The engine stays host-independent and safe to hand user files to."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "extensions" / "joi_coach"


def test_engine_imports_neither_gradio_nor_the_host():
    code = (
        "import sys, joi_coach.coach, joi_coach.llm.embedded, joi_coach.llm.openai_compat\n"
        "import joi_coach.webui.extension, joi_coach.webui.turns, joi_coach.webui.host_generation\n"
        "bad = [m for m in sys.modules if m == 'gradio' or m.startswith(('gradio.', 'modules.'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_unsafe_deserialisation_in_the_product():
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in (
            "import pickle",
            "import cPickle",
            "import dill",
            "import joblib",
            "torch.load(",
            "allow_dangerous_deserialization=True",
            "allow_pickle=True",
        ):
            if needle in text:
                offenders.append(f"{path.name}: {needle}")
    assert offenders == []


# -- one way into the engine ---------------------------------------------------------------
# Each layer may import only from itself and the layers listed (the rest of the package,
# ui/app/webui and the top-level modules, sits on top and may use any of them).
LAYERS = {
    "assets": set(),
    "memory": set(),
    "llm": {"assets"},
    "cognition": {"llm", "memory", "persona", "assets"},
    "safety": {"memory", "llm"},  # llm: the second opinion asks the person's model (llm_opinion)
}
# Private parts reached only by their owner through ``self``.
PRIVATE = {"_store", "_index", "_retriever", "_lock", "_worker", "_profiles"}
# Classes behind MemoryBank: nothing outside memory/ names them.
BEHIND_THE_BANK = {"SqliteMemoryStore", "VectorIndex", "Retriever"}


def modules() -> list[tuple[str, Path, ast.Module]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        layer = parts[0]  # the sub-package, or the top-level module's own name
        found.append((layer, path, ast.parse(path.read_text(encoding="utf-8"))))
    return found


def imported_layers(path: Path, tree: ast.Module) -> set[str]:
    """The top-level package parts a module imports (relative and absolute imports alike)."""
    depth = len(path.relative_to(PACKAGE).parts) - 1
    layers = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - 1  # "." is this folder; ".." its parent
                if up > depth:
                    continue
                here = list(path.relative_to(PACKAGE).parts[: depth - up])
                target = [*here, *(node.module.split(".") if node.module else [a.name for a in node.names])]
            elif node.module and node.module.startswith("joi_coach."):
                target = node.module.split(".")[1:]
            else:
                continue
            if target:
                layers.add(target[0])
    return layers


def test_layers_import_only_what_is_beneath_them():
    wrong = []
    for layer, path, tree in modules():
        if layer not in LAYERS:
            continue
        for used in imported_layers(path, tree) - {layer} - LAYERS[layer]:
            wrong.append(f"{path.relative_to(PACKAGE)} imports {used}")
    assert wrong == []


def private_accesses(tree: ast.Module) -> list[int]:
    """Lines that reach a private part of an object other than ``self``."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr in PRIVATE
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
    ]


def names_behind_the_bank(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.Name):
            names.append(node.id)
    return [n for n in names if n in BEHIND_THE_BANK]


def test_private_parts_are_reached_only_by_their_owner():
    wrong = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for _, path, tree in modules()
        for line in private_accesses(tree)
    ]
    assert wrong == []


def test_only_the_memory_package_knows_what_is_behind_the_bank():
    wrong = [
        f"{path.relative_to(PACKAGE)}: {name}"
        for layer, path, tree in modules()
        if layer != "memory"
        for name in names_behind_the_bank(tree)
    ]
    assert wrong == []


def test_the_boundary_checks_see_a_violation():
    sample = PACKAGE / "cognition" / "example.py"
    tree = ast.parse(
        "from ..coach import Coach\nfrom ..memory.sqlite_store import SqliteMemoryStore\n"
        "self._store.close()\nbank._store.close()\n"
    )
    assert imported_layers(sample, tree) == {"coach", "memory"}
    assert private_accesses(tree) == [4]
    assert names_behind_the_bank(tree) == ["SqliteMemoryStore"]


def test_the_engine_leaves_the_process_environment_alone():
    """Inside the webui, the environment is the host's: loading Joi's embedder (offline, from
    its packaged files) must not switch the host's other models offline."""
    code = (
        "import os\n"
        "import sentence_transformers, torch  # the libraries' own settings are theirs\n"
        "from joi_coach.memory.embeddings import Embedder\n"
        "before = dict(os.environ)\n"
        "vectors = Embedder().embed_passages(['a test'])\n"
        "assert vectors.shape[0] == 1\n"
        "changed = {k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)}\n"
        "assert not changed, changed\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=300)
