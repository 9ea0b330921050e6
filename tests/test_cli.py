"""The command line: sign-in plans, the share guard, and --help."""

from __future__ import annotations

import subprocess
import sys

import pytest
from joi_coach.app.cli import SHARE_USER, ConfigError, build_parser, plan_auth


def parse(*argv: str):
    return build_parser().parse_args(list(argv))


def test_no_auth_and_no_share_means_one_local_profile(monkeypatch):
    monkeypatch.delenv("JOI_AUTH", raising=False)
    assert plan_auth(parse()).credentials == []


def test_a_share_link_without_auth_gets_a_generated_password(monkeypatch):
    monkeypatch.delenv("JOI_AUTH", raising=False)
    first, second = plan_auth(parse("--share")), plan_auth(parse("--share"))
    assert first.credentials == [(SHARE_USER, first.generated_password)]
    assert len(first.generated_password) >= 16 and first.generated_password != second.generated_password


def test_a_share_link_refuses_short_passwords():
    with pytest.raises(ConfigError, match="8\\+ characters"):
        plan_auth(parse("--share", "--auth", "me:short"))


def test_auth_from_flags_env_and_file(tmp_path, monkeypatch):
    people = tmp_path / "people.txt"
    people.write_text("# comment\n\ncarol:carol-password\n", encoding="utf-8")
    plan = plan_auth(
        parse("--auth", "alice:pw-alice-1", "--auth", "bob:pw:with:colons", "--auth-file", str(people))
    )
    assert plan.credentials == [
        ("alice", "pw-alice-1"),
        ("bob", "pw:with:colons"),
        ("carol", "carol-password"),
    ]
    assert plan.generated_password is None
    monkeypatch.setenv("JOI_AUTH", "dan:pw-dan-123,erin:pw-erin-123")
    assert [u for u, _ in plan_auth(parse()).credentials] == ["dan", "erin"]


@pytest.mark.parametrize("entry", ["nocolon", ":nouser", "user:", "  :  "])
def test_malformed_credentials_are_refused_without_echoing_them(entry):
    with pytest.raises(ConfigError) as error:
        plan_auth(parse("--auth", entry))
    assert "USER:PASSWORD" in str(error.value)


def test_the_same_user_twice_is_refused(tmp_path):
    people = tmp_path / "people.txt"
    people.write_text("alice:other-password\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="both"):
        plan_auth(parse("--auth", "alice:pw-alice-1", "--auth-file", str(people)))
    with pytest.raises(ConfigError, match="twice"):
        plan_auth(parse("--auth", "a:pw-123456", "--auth", "a:pw-654321"))


def test_a_missing_auth_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read --auth-file"):
        plan_auth(parse("--auth-file", str(tmp_path / "missing.txt")))


def test_env_vars_configure_the_flags(monkeypatch, tmp_path):
    monkeypatch.setenv("JOI_PORT", "9999")
    monkeypatch.setenv("JOI_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("JOI_API_BASE", "http://pod:5000/v1")
    args = parse()
    assert (args.port, args.data_dir, args.api_base) == (9999, tmp_path, "http://pod:5000/v1")


def test_help_explains_every_flag():
    out = subprocess.run(
        [sys.executable, "-m", "joi_coach.app.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in (
        "--host",
        "--port",
        "--share",
        "--auth",
        "--auth-file",
        "--model",
        "--api-base",
        "--api-key",
        "--api-model",
        "--data-dir",
        "--embedding-model",
        "--country",
        "--crisis-lines",
        "JOI_DATA_DIR",
    ):
        assert flag in out


def test_model_and_api_base_together_are_refused(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "joi_coach.app.cli",
            "--model",
            "x.gguf",
            "--api-base",
            "http://h/v1",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "not both" in result.stderr


@pytest.mark.parametrize(
    ("flags", "problem"),
    [
        (["--api-template", "Joi-ChatML"], "give --api-base too"),
        (["--api-base", "http://h/v1", "--api-template", "/nonexistent/template.yaml"], "--api-template"),
        (["--country", "G<B>"], "ISO country code"),
        (["--crisis-lines", "/nonexistent/lines.yaml"], "cannot read crisis lines"),
    ],
)
def test_bad_flags_are_refused_before_the_models_load(tmp_path, flags, problem):
    result = subprocess.run(
        [sys.executable, "-m", "joi_coach.app.cli", *flags, "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and problem in result.stderr
    assert "loading the models" not in result.stdout
