"""Step 3: which model to load, its download with the webui's own downloader, its loader."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .config import BRANCH, REPO_ID, PodConfig, PodError, VolumePaths, launch_env, say
from .volume import write_json


@dataclass
class ModelPlan:
    name: str  # the name the webui loads it by (a folder or a .gguf file in models/)
    repo: str = ""
    branch: str = "main"
    file: str = ""
    downloaded: bool = True
    loader: str = ""

    @property
    def mark(self) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", self.name) + ".done"


def plan_model(cfg: PodConfig, paths: VolumePaths) -> ModelPlan | None:
    """Which model to load, and whether it must be downloaded first."""
    spec = cfg.model
    if spec.lower() in ("", "none"):
        return None
    if "/" not in spec:  # a model already in user_data/models
        if spec in (".", "..") or "\\" in spec or not (paths.models / spec).exists():
            raise PodError(
                f"JOI_MODEL={spec!r} is not in {paths.models}; give a Hugging Face repo id "
                "(org/name or org/name:branch) to download it, or 'none' to choose in the UI"
            )
        plan = ModelPlan(name=spec)
    else:
        repo, _, branch = spec.partition(":")
        branch = branch or "main"
        if not REPO_ID.match(repo):
            raise PodError(
                f"JOI_MODEL={spec!r}: expected a Hugging Face repo id like org/name or org/name:branch"
            )
        if not BRANCH.match(branch):
            raise PodError(f"JOI_MODEL={spec!r}: a branch may only have letters, digits, '.', '_' and '-'")
        file = cfg.model_file
        if file and ("/" in file or "\\" in file or file in (".", "..")):
            raise PodError(f"JOI_MODEL_FILE={file!r} must be one file name from the repo's top level")
        # The webui's downloader puts one GGUF file straight into models/, and a repository
        # into models/org_name[_branch] (its get_output_folder).
        folder = "_".join(repo.split("/")[-2:]) + ("" if branch == "main" else f"_{branch}")
        name = file or folder
        plan = ModelPlan(name=name, repo=repo, branch=branch, file=file)
        plan.downloaded = (paths.download_marks / plan.mark).exists() and (paths.models / name).exists()
    plan.loader = cfg.loader or infer_loader(paths.models / plan.name)
    return plan


def infer_loader(model: Path) -> str:
    """The webui loader for a model's format: GGUF -> llama.cpp, EXL3 -> ExLlamav3."""
    if model.suffix.lower() == ".gguf" or (model.is_dir() and any(model.glob("*.gguf"))):
        return "llama.cpp"
    config = model / "config.json"
    if config.is_file():
        try:
            method = (json.loads(config.read_text(encoding="utf-8")).get("quantization_config") or {}).get(
                "quant_method", ""
            )
        except (OSError, ValueError, AttributeError):
            method = ""
        if str(method).lower() == "exl3":
            return "ExLlamav3"
    if "exl3" in model.name.lower():
        return "ExLlamav3"
    return "Transformers"


def download_command(cfg: PodConfig, paths: VolumePaths, plan: ModelPlan) -> list[str]:
    command = [cfg.python, str(cfg.textgen_dir / "download-model.py"), plan.repo, "--branch", plan.branch]
    command += ["--model-dir", str(paths.models)]
    if plan.file:
        command += ["--specific-file", plan.file]
    return command


def download(cfg: PodConfig, paths: VolumePaths, plan: ModelPlan) -> bool:
    """Run the webui's downloader (it resumes a partial download); its progress goes to the log."""
    what = f"{plan.repo} ({plan.file or 'branch ' + plan.branch})"
    say(f"Downloading {what} into {paths.models}; this can take a while, progress follows.")
    command = download_command(cfg, paths, plan)
    result = subprocess.run(command, cwd=cfg.textgen_dir, env=launch_env(paths), check=False)
    if result.returncode != 0 or not (paths.models / plan.name).exists():
        say(f"ERROR: the download of {what} failed (exit {result.returncode}).")
        say("  Check JOI_MODEL / JOI_MODEL_FILE, the volume's free space, and HF_TOKEN for gated models.")
        say("  The webui starts without a model; restart the pod to resume the download.")
        return False
    write_json(
        paths.download_marks / plan.mark, {"repo": plan.repo, "branch": plan.branch, "file": plan.file}
    )
    plan.downloaded = True
    plan.loader = cfg.loader or infer_loader(paths.models / plan.name)
    say(f"Downloaded {plan.name}.")
    return True
