"""The pod's entrypoint: volume layout, sign-in, model download and the webui's flags."""

from __future__ import annotations

import json
import shutil
import stat
import sys

import pytest

from .conftest import DEFAULT_MODEL_FOLDER, REPO


def parse(host_parser, launch: list[str]):
    """A launch command's flags, parsed as the webui would parse them."""
    assert launch[0] == sys.executable and launch[1].endswith("/server.py")
    return host_parser.parse_args(launch[2:])


def parse_started(host_parser, launch: dict):
    """The flags the stand-in server.py was started with."""
    return host_parser.parse_args(launch["argv"])


def test_a_first_start_lays_out_the_volume_generates_the_sign_in_and_plans_the_default_model(
    pod, host_parser
):
    plan, log = pod.plan()
    # The volume: the webui's user_data with its defaults, Joi's files and the first settings.
    assert (pod.user_data / "characters" / "Assistant.yaml").exists()
    assert (pod.user_data / "presets" / "Top-P.yaml").exists()
    assert (pod.user_data / "CMD_FLAGS.txt").exists()
    for not_a_default in ("extensions", "logs", "joi_coach"):  # Joi runs from the image; no one's data
        assert not (pod.user_data / not_a_default).exists()
    for relative in ("characters/Joi.yaml", "characters/Joi.png", "instruction-templates/Joi-ChatML.yaml"):
        assert (pod.user_data / relative).read_bytes() == (REPO / relative).read_bytes()
    settings = (pod.user_data / "settings.yaml").read_text()
    assert "character: Joi" in settings and "mode: chat" in settings
    # The secrets: generated, private, printed this once.
    secrets = pod.home / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    for name in ("gradio-auth.txt", "api-key.txt"):
        assert stat.S_IMODE((secrets / name).stat().st_mode) == 0o600
    user, password = pod.sign_in().split(":")
    assert user == "joi" and len(password) >= 20
    assert plan["generated"] == ["password", "API key"]
    assert password in log and pod.api_key() in log
    assert pod.api_key() not in json.dumps(plan)  # the plan shows no secret
    # The model: the webui's own downloader, into the volume; then loaded with ExLlamaV3.
    models = pod.user_data / "models"
    assert plan["download"] == [
        sys.executable,
        str(pod.textgen / "download-model.py"),
        "turboderp/gemma-3-27b-it-exl3",
        "--branch",
        "4.0bpw",
        "--model-dir",
        str(models),
    ]
    flags = parse(host_parser, plan["launch"])
    assert flags.user_data_dir == str(pod.user_data)
    assert flags.listen and flags.listen_port == 7860 and not flags.share
    assert flags.gradio_auth_path == str(secrets / "gradio-auth.txt") and flags.gradio_auth is None
    assert flags.api and flags.api_port == 5000 and flags.api_key
    assert flags.extensions == ["joi_coach"]
    assert (flags.model, flags.loader) == (DEFAULT_MODEL_FOLDER, "ExLlamav3")
    assert flags.ctx_size == 16384 and flags.cache_type == "q8"
    assert not flags.verbose  # the webui's --verbose would log prompts, memories included


def test_a_restart_keeps_the_sign_in_quiet_and_the_persons_own_files(pod):
    pod.plan()
    first_sign_in, first_key = pod.sign_in(), pod.api_key()
    settings = pod.user_data / "settings.yaml"
    settings.write_text("character: Assistant\nmode: instruct\n")  # saved from the webui
    template = pod.user_data / "instruction-templates" / "Joi-ChatML.yaml"
    template.write_text(template.read_text() + "\n# my own tweak\n")
    plan, log = pod.plan()
    assert plan["generated"] == []
    assert (pod.sign_in(), pod.api_key()) == (first_sign_in, first_key)
    assert first_sign_in.split(":")[1] not in log and first_key not in log
    assert settings.read_text() == "character: Assistant\nmode: instruct\n"
    assert template.read_text().endswith("# my own tweak\n")
    assert "Kept your edited instruction-templates/Joi-ChatML.yaml" in log


def test_a_new_image_updates_joi_files_the_person_did_not_edit(pod, tmp_path):
    seed = tmp_path / "seed"
    for relative in ("characters/Joi.yaml", "characters/Joi.png", "instruction-templates/Joi-ChatML.yaml"):
        (seed / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / relative, seed / relative)
    pod.seed = seed
    pod.plan()
    (seed / "characters" / "Joi.yaml").write_text((REPO / "characters" / "Joi.yaml").read_text() + "\n# v2\n")
    _, log = pod.plan()
    assert (pod.user_data / "characters" / "Joi.yaml").read_text().endswith("# v2\n")
    assert "Updated characters/Joi.yaml" in log


def test_a_sign_in_given_in_the_environment_is_used_and_never_printed(pod, host_parser):
    plan, log = pod.plan(
        JOI_USERNAME="sam", JOI_PASSWORD="correct-horse-battery", JOI_API_KEY="sk-sams-own-key-123"
    )
    assert pod.sign_in() == "sam:correct-horse-battery" and pod.api_key() == "sk-sams-own-key-123"
    assert plan["generated"] == []
    assert "correct-horse-battery" not in log and "sk-sams-own-key-123" not in log
    assert "sk-sams-own-key-123" not in json.dumps(plan)
    # A changed password in the environment replaces the old one at the next start.
    pod.plan(JOI_USERNAME="sam", JOI_PASSWORD="a-new-long-password")
    assert pod.sign_in() == "sam:a-new-long-password"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"JOI_PASSWORD": "short"}, "too short"),
        ({"JOI_PASSWORD": "has:colon-inside"}, "may not contain"),
        ({"JOI_PASSWORD": "has,comma-inside"}, "may not contain"),
        ({"JOI_USERNAME": "two words"}, "JOI_USERNAME"),
        ({"JOI_API_KEY": "key with spaces"}, "may not contain"),
        ({"JOI_MODEL": "../../etc/passwd"}, "repo id"),
        ({"JOI_MODEL": "org/model:bad branch"}, "branch"),
        ({"JOI_MODEL": "org/model-GGUF", "JOI_MODEL_FILE": "../escape.gguf"}, "one file name"),
        ({"JOI_MODEL": "not-on-the-volume"}, "is not in"),
        ({"JOI_CTX_SIZE": "lots"}, "JOI_CTX_SIZE"),
        ({"EXTRA_LAUNCH_ARGS": "--model 'unclosed"}, "EXTRA_LAUNCH_ARGS"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_error_and_no_launch(pod, env, message):
    result = pod.start(**env)
    assert result.returncode == 2
    assert "[joi-pod] ERROR:" in result.stderr and message in result.stderr
    assert pod.calls("server.py") == [] and pod.calls("download-model.py") == []


def test_a_volume_in_use_by_a_running_webui_is_refused(pod):
    import subprocess

    assert pod.start(JOI_MODEL="none").returncode == 0  # lays out the volume
    lock = pod.home / "in-use.lock"
    holder = subprocess.Popen(  # a webui of another container, holding the entrypoint's lock
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time; f = os.open(sys.argv[1], os.O_RDWR); "
            "fcntl.flock(f, fcntl.LOCK_EX); os.write(f, b'pod-one since 10:00'); print('held', flush=True); "
            "time.sleep(60)",
            str(lock),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        (pod.user_data / "settings.yaml").unlink()
        result = pod.start(JOI_MODEL="none")
        assert result.returncode == 2 and "in use by pod-one since 10:00" in result.stderr
        assert len(pod.calls("server.py")) == 1  # only the first start launched
        assert not (pod.user_data / "settings.yaml").exists()  # the refused start wrote nothing
        assert pod.start("--dry-run", JOI_MODEL="none").returncode == 0  # looking is allowed
    finally:
        holder.kill()
        holder.wait()
    assert pod.start(JOI_MODEL="none").returncode == 0 and len(pod.calls("server.py")) == 2


def test_a_missing_volume_is_named(pod):
    shutil.rmtree(pod.workspace)
    result = pod.start()
    assert result.returncode == 2 and "attach a volume there" in result.stderr


def test_a_finished_download_is_not_fetched_again_and_its_format_picks_the_loader(pod, host_parser):
    first = pod.start(JOI_MODEL="someone/Their-Model-8B")  # neither exl3 nor gguf by name
    assert first.returncode == 0, first.stderr
    [download] = pod.calls("download-model.py")
    assert download["argv"][:3] == ["someone/Their-Model-8B", "--branch", "main"]
    assert "Download of 2 files" in first.stdout + first.stderr  # the downloader's progress is in the log
    [launch] = pod.calls("server.py")
    flags = parse_started(host_parser, launch)
    # config.json says exl3, so ExLlamaV3 loads it, though its name does not say so.
    assert (flags.model, flags.loader, flags.cache_type) == ("someone_Their-Model-8B", "ExLlamav3", "q8")
    assert launch["cwd"] == str(pod.textgen)
    assert launch["volume_locked"]  # the webui holds the volume while it runs
    assert launch["env"]["HF_HOME"] == str(pod.home / "cache" / "huggingface")
    assert (
        launch["env"]["HF_HUB_DISABLE_TELEMETRY"] == "1"
        and launch["env"]["GRADIO_ANALYTICS_ENABLED"] == "False"
    )
    again = pod.start(JOI_MODEL="someone/Their-Model-8B")
    assert again.returncode == 0 and len(pod.calls("download-model.py")) == 1
    assert "is on the volume" in again.stderr and len(pod.calls("server.py")) == 2


def test_a_single_gguf_file_downloads_into_models_and_loads_with_llama_cpp(pod, host_parser):
    result = pod.start(JOI_MODEL="someone/Small-GGUF", JOI_MODEL_FILE="small-Q4_K_M.gguf")
    assert result.returncode == 0, result.stderr
    [download] = pod.calls("download-model.py")
    assert download["argv"][-2:] == ["--specific-file", "small-Q4_K_M.gguf"]
    assert (pod.user_data / "models" / "small-Q4_K_M.gguf").is_file()
    [launch] = pod.calls("server.py")
    flags = parse_started(host_parser, launch)
    assert (flags.model, flags.loader) == ("small-Q4_K_M.gguf", "llama.cpp")
    assert flags.cache_type == "fp16"  # ExLlamaV3's q8 cache is not passed to llama.cpp


def test_a_failed_download_still_starts_the_webui_without_a_model(pod, host_parser):
    result = pod.start(STANDIN_DOWNLOAD_FAIL="1")
    assert result.returncode == 0
    assert "ERROR: the download of turboderp/gemma-3-27b-it-exl3" in result.stderr
    assert "restart the pod to resume" in result.stderr
    [launch] = pod.calls("server.py")
    flags = parse_started(host_parser, launch)
    assert flags.model is None and flags.gradio_auth_path and flags.api_key
    assert not list((pod.home / "downloads").iterdir())  # nothing marked as downloaded


def test_a_model_already_in_models_or_none_at_all(pod, host_parser):
    (pod.user_data / "models").mkdir(parents=True)
    (pod.user_data / "models" / "mine.gguf").write_bytes(b"GGUF")
    plan, _ = pod.plan(JOI_MODEL="mine.gguf")
    assert plan["download"] is None
    flags = parse(host_parser, plan["launch"])
    assert (flags.model, flags.loader) == ("mine.gguf", "llama.cpp")
    plan, log = pod.plan(JOI_MODEL="none")
    assert plan["download"] is None and parse(host_parser, plan["launch"]).model is None
    assert "Model tab" in log


def test_share_extra_extensions_and_launch_args_are_added_behind_the_sign_in(pod, host_parser):
    plan, log = pod.plan(
        JOI_SHARE="1",
        JOI_EXTRA_EXTENSIONS="whisper_stt joi_coach",
        EXTRA_LAUNCH_ARGS="--gpu-split 20,4 --ctx-size 32768",
        JOI_LOADER="ExLlamav3_HF",
        RUNPOD_POD_ID="abc123xyz",
    )
    flags = parse(host_parser, plan["launch"])
    assert flags.share and flags.gradio_auth_path  # the share link asks for the same sign-in
    assert flags.extensions == ["joi_coach", "whisper_stt"]
    assert flags.gpu_split == "20,4" and flags.ctx_size == 32768  # the person's args come last and win
    assert flags.loader == "ExLlamav3_HF"
    assert "https://abc123xyz-7860.proxy.runpod.net" in log
    assert "https://abc123xyz-5000.proxy.runpod.net/v1" in log
    assert "share link" in log


def test_the_flag_manifest_is_the_webui_release_joi_was_checked_against(pod_launch):
    """The recorded parser, the entrypoint's checked release and the Dockerfile's pin agree."""
    from .conftest import MANIFEST

    CHECKED_WEBUI_VERSION = pod_launch.CHECKED_WEBUI_VERSION
    source = json.loads(MANIFEST.read_text())["source"]
    assert source.split("@")[0] == CHECKED_WEBUI_VERSION  # e.g. v4.7.3
    dockerfile = (REPO / "scripts" / "runpod" / "Dockerfile").read_text()
    assert f"default-nvidia-{CHECKED_WEBUI_VERSION}" in dockerfile  # the documented pin


def test_the_entrypoint_warns_when_the_image_carries_another_webui(tmp_path, pod_launch):
    CHECKED_WEBUI_VERSION = pod_launch.CHECKED_WEBUI_VERSION
    describe_image, webui_version_warning = pod_launch.describe_image, pod_launch.webui_version_warning

    (tmp_path / "variant.txt").write_text("Nvidia Extended\n")
    (tmp_path / "version_tag.txt").write_text(f"{CHECKED_WEBUI_VERSION}\n")
    assert describe_image(tmp_path) == f"Nvidia Extended {CHECKED_WEBUI_VERSION}"
    assert webui_version_warning(tmp_path) is None
    (tmp_path / "version_tag.txt").write_text("v9.1\n")
    warning = webui_version_warning(tmp_path)
    assert warning and "v9.1" in warning and CHECKED_WEBUI_VERSION in warning
    (tmp_path / "version_tag.txt").unlink()
    assert "Could not tell" in (webui_version_warning(tmp_path) or "")
