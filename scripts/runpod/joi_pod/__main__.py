"""``python3 -m joi_pod [--dry-run [--json]]``: one start of the container, steps 1 to 4."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from dataclasses import asdict

from . import __doc__ as overview
from .access import announce_access, prepare_access
from .at_rest import prepare_at_rest
from .config import PodConfig, PodError, VolumePaths, launch_env, say
from .launch import describe_image, launch_command, launch_flags, redacted, webui_version_warning
from .model import download, download_command, plan_model
from .volume import prepare_volume


def run(cfg: PodConfig, dry_run: bool, as_json: bool) -> int:
    paths = VolumePaths.under(cfg.workspace)
    image = describe_image()
    say(f"Joi Coach pod starting{' on ' + image if image else ''}; volume: {paths.home}")
    warning = webui_version_warning()
    if warning:
        say(warning)
    prepare_volume(cfg, paths, hold=not dry_run)  # a dry run may look at a running pod's volume
    at_rest = prepare_at_rest(cfg, paths, dry_run)  # encrypts only while the volume is held
    access = prepare_access(cfg, paths)
    announce_access(cfg, access)
    plan = plan_model(cfg, paths)
    download_cmd = None
    will_load = plan is not None and plan.downloaded
    if plan is None:
        say("No model configured (JOI_MODEL=none): load one in the webui's Model tab.")
    elif plan.downloaded:
        say(f"Model {plan.name} is on the volume.")
    else:
        download_cmd = download_command(cfg, paths, plan)
        if dry_run:
            say("Would download: " + shlex.join(download_cmd))
        will_load = dry_run or download(cfg, paths, plan)  # a dry run shows the launch after it
    if plan is not None and will_load:
        say(f"Loading {plan.name} with {plan.loader}.")
    if cfg.share:
        say("A Gradio share link will be printed below; it asks for the same sign-in.")
    command = launch_command(cfg, launch_flags(cfg, paths, access, plan if will_load else None))
    if dry_run:
        report = {
            "volume": {key: str(value) for key, value in asdict(paths).items()},
            "model": None if plan is None else asdict(plan),
            "download": download_cmd,
            "launch": redacted(command, access),
            "generated": list(access.generated),  # names only: the plan shows no secret
            "encryption": {
                "data_dir": str(at_rest.data_dir),
                "encrypted": at_rest.encrypted,
                "commands": at_rest.commands,  # Joi's CLI, reading the passphrase from a file
            },
        }
        if as_json:
            print(json.dumps(report, indent=2))
        else:
            say("Would launch: " + shlex.join(redacted(command, access)))
        return 0
    say("Launching: " + shlex.join(redacted(command, access)))
    os.chdir(cfg.textgen_dir)
    os.execvpe(command[0], command, launch_env(paths, at_rest.passphrase_file))
    return 0  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="joi_pod", description=overview.strip().splitlines()[0])
    parser.add_argument(
        "--dry-run", action="store_true", help="prepare the volume; print, not run, the commands"
    )
    parser.add_argument("--json", action="store_true", help="with --dry-run: the plan as JSON")
    args = parser.parse_args(argv)
    try:
        return run(PodConfig.from_env(dict(os.environ)), args.dry_run, args.json)
    except PodError as exc:
        say(f"ERROR: {exc}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
