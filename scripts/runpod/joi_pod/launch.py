"""Step 4: the webui's command line (its environment is ``config.launch_env``)."""

from __future__ import annotations

from pathlib import Path

from .access import Access
from .config import API_PORT, EXTENSION, UI_PORT, PodConfig, VolumePaths
from .model import ModelPlan


def launch_flags(cfg: PodConfig, paths: VolumePaths, access: Access, plan: ModelPlan | None) -> list[str]:
    """The webui's command-line flags, in the host's own names (modules/shared.py).

    ``plan`` is the model to load at start, or None to start without one.
    """
    flags = ["--user-data-dir", str(paths.user_data)]
    flags += ["--listen", "--listen-port", str(UI_PORT)]
    flags += ["--gradio-auth-path", str(access.auth_file)]
    flags += ["--api", "--api-port", str(API_PORT), "--api-key", access.api_key]
    extensions = [EXTENSION, *[name for name in cfg.extra_extensions if name != EXTENSION]]
    flags += ["--extensions", *extensions]
    if cfg.share:
        flags.append("--share")
    if plan is not None:
        flags += ["--model", plan.name, "--loader", plan.loader]
        if cfg.ctx_size:
            flags += ["--ctx-size", str(cfg.ctx_size)]
        cache_type = cfg.cache_type or ("q8" if plan.loader.lower().startswith("exllamav3") else "")
        if cache_type:
            flags += ["--cache-type", cache_type]
    return flags + cfg.extra_args


def launch_command(cfg: PodConfig, flags: list[str]) -> list[str]:
    return [cfg.python, str(cfg.textgen_dir / "server.py"), *flags]


def redacted(command: list[str], access: Access) -> list[str]:
    return ["<api key>" if part == access.api_key else part for part in command]


# The webui release Joi's extension was last checked against (docs/webui-e2e.md); the image
# may carry another one, since its default base tag follows the image project's latest stable.
CHECKED_WEBUI_VERSION = "v4.7.3"


def image_label(name: str, root: Path = Path("/")) -> str:
    """One of the labels Atinoda's image writes at its root (variant.txt, version_tag.txt)."""
    try:
        return (root / name).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def describe_image(root: Path = Path("/")) -> str:
    return " ".join(
        part for part in (image_label("variant.txt", root), image_label("version_tag.txt", root)) if part
    )


def webui_version_warning(root: Path = Path("/")) -> str | None:
    """A warning when the image's webui is not the release Joi was checked against."""
    found = image_label("version_tag.txt", root)
    if not found:
        return f"Could not tell which webui release this image carries; Joi was checked against {CHECKED_WEBUI_VERSION}."
    if found.lstrip("v") == CHECKED_WEBUI_VERSION.lstrip("v"):
        return None
    return (
        f"This image carries webui {found}; Joi was checked against {CHECKED_WEBUI_VERSION}. "
        "If something misbehaves, rebuild with --build-arg TEXTGEN_IMAGE=atinoda/text-generation-webui:"
        f"default-nvidia-{CHECKED_WEBUI_VERSION} (see docs/runpod.md)."
    )
