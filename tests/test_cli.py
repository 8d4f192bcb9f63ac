"""The real `walletpass` command, run from a foreign folder with a throwaway HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import main
from app.config import Settings

WALLETPASS = str(Path(sys.executable).with_name("walletpass"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME (the per-user data folder lands inside it)."""
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty folder to run the command from (it must stay empty)."""
    path = tmp_path / "elsewhere"
    path.mkdir()
    return path


LANGUAGE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
ENGLISH = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}
"""An in-process CliRunner environment that speaks English whatever the shell's locale."""


def env_for(home: Path, **extra: str) -> dict[str, str]:
    """The environment without WALLETPASS_* or XDG settings, HOME pointed at a temp folder,
    in English unless `extra` sets a language."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WALLETPASS_", "XDG_")) and k not in LANGUAGE_VARIABLES}
    env.update({"HOME": str(home), "LANG": "C.UTF-8", **extra})
    return env


def run(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the installed `walletpass` console script."""
    return subprocess.run([WALLETPASS, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def files_under(path: Path) -> list[Path]:
    """Everything inside a folder."""
    return sorted(path.rglob("*"))


def test_help_creates_nothing(home: Path, cwd: Path) -> None:
    for args in (["--help"], [], ["create-merchant", "--help"], ["db", "--help"]):
        result = run(*args, cwd=cwd, env=env_for(home))
        assert result.returncode in (0, 2), result.stderr  # click: no command given is 2
        assert "Usage: walletpass" in result.stdout + result.stderr
    help_text = run("--help", cwd=cwd, env=env_for(home)).stdout
    for command in ("list-merchants", "create-api-key", "rotate-api-key", "revoke-api-key"):
        assert command in help_text
    assert files_under(home) == [] and files_under(cwd) == []


def test_create_merchant_before_serve_from_another_folder(home: Path, cwd: Path) -> None:
    env = env_for(home)
    created = run("create-merchant", "--name", "Bean There", "--email", "Owner@Bean.example",
                  cwd=cwd, env=env)
    assert created.returncode == 0, created.stderr
    assert "Traceback" not in created.stderr
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("wp_")
    assert files_under(cwd) == []  # no stray ./data
    data = home / ".local" / "share" / "walletpass"
    assert (data / "walletpass.db").is_file() and (data / "dev-certs").is_dir()
    listed = run("list-merchants", cwd=home, env=env)  # another folder, the same data
    assert listed.returncode == 0, listed.stderr
    assert "Bean There\towner@bean.example\t1 active key" in listed.stdout
    xdg = run("list-merchants", cwd=cwd, env={**env, "XDG_DATA_HOME": str(home / "xdg")})
    assert "No merchants yet" in xdg.stdout
    assert (home / "xdg" / "walletpass" / "walletpass.db").is_file()


def test_create_merchant_refuses_bad_input_in_one_line(home: Path, cwd: Path) -> None:
    env = env_for(home)
    for name, email, message in [("  ", "a@b.example", "'name' must not be empty"),
                                 ("Cafe", "not-an-email", "'email' is not a valid email address")]:
        result = run("create-merchant", "--name", name, "--email", email, cwd=cwd, env=env)
        assert result.returncode == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1 and errors[0].startswith(f"Error: {message}")
        assert "Traceback" not in result.stderr
    missing = run("create-merchant", "--name", "Cafe", cwd=cwd, env=env)
    assert missing.returncode == 2 and "--email" in missing.stderr
    assert "No merchants yet" in run("list-merchants", cwd=cwd, env=env).stdout


def test_api_keys_are_created_rotated_and_revoked(home: Path, cwd: Path) -> None:
    env = env_for(home, WALLETPASS_DATA_DIR=str(home / "d"))
    first = run("create-merchant", "--name", "Cafe", "--email", "a@b.example", cwd=cwd, env=env)
    key1 = first.stdout.strip().splitlines()[-1]
    made = run("create-api-key", "--merchant", "1", cwd=cwd, env=env)
    assert made.returncode == 0, made.stderr
    key2 = made.stdout.strip().splitlines()[-1]
    assert key2.startswith("wp_") and key2 != key1
    rotated = run("rotate-api-key", "1", cwd=cwd, env=env)
    assert rotated.returncode == 0, rotated.stderr
    key3 = rotated.stdout.strip().splitlines()[-1]
    assert run("revoke-api-key", "2", cwd=cwd, env=env).returncode == 0
    keys = run("list-api-keys", "--merchant", "1", cwd=cwd, env=env).stdout.splitlines()
    states = {line.split("\t")[0]: line.split("\t")[-1] for line in keys}
    assert states["1"].startswith("revoked") and states["2"].startswith("revoked")
    assert states["3"] == "active" and keys[2].split("\t")[1] == key3[:7] + "..."
    again = run("rotate-api-key", "1", cwd=cwd, env=env)
    assert again.returncode == 1 and "already revoked" in again.stderr
    unknown = run("revoke-api-key", "99", cwd=cwd, env=env)
    assert unknown.returncode == 1 and "Error: There is no API key 99." in unknown.stderr
    assert "\t1 active key\n" in run("list-merchants", cwd=cwd, env=env).stdout
    assert files_under(cwd) == []


def test_revoked_and_rotated_keys_stop_working(make_app: object) -> None:
    from flask import Flask

    app: Flask = make_app()  # type: ignore[operator]
    runner = app.test_cli_runner(env=ENGLISH)
    key1 = runner.invoke(main, args=["create-merchant", "--name", "A", "--email", "a@b.example"]
                         ).output.strip().splitlines()[-1]
    client = app.test_client()

    def status(key: str) -> int:
        return client.get("/api/v1/programs", headers={"Authorization": f"Bearer {key}"}
                          ).status_code

    assert status(key1) == 200
    rotated = runner.invoke(main, args=["rotate-api-key", "1"])
    assert rotated.exit_code == 0, rotated.output
    key2 = rotated.output.strip().splitlines()[-1]
    assert status(key1) == 401 and status(key2) == 200
    assert runner.invoke(main, args=["revoke-api-key", "2"]).exit_code == 0
    assert status(key2) == 401


def test_old_data_folder_is_still_found_and_the_move_explained(home: Path, cwd: Path) -> None:
    env = env_for(home)
    old = cwd / "data"
    made = run("create-merchant", "--name", "Old Shop", "--email", "o@b.example", cwd=cwd,
               env={**env, "WALLETPASS_DATA_DIR": str(old)})
    assert made.returncode == 0, made.stderr
    listed = run("list-merchants", cwd=cwd, env=env)
    assert "Old Shop" in listed.stdout
    notice = [line for line in listed.stderr.splitlines() if "old default" in line]
    assert len(notice) == 1 and f"mv {old} {home}/.local/share/walletpass" in notice[0]
    assert not (home / ".local" / "share" / "walletpass").exists()


def test_processes_starting_at_once_migrate_one_after_the_other(home: Path, cwd: Path) -> None:
    env = env_for(home)
    procs = [subprocess.Popen([WALLETPASS, "list-merchants"], cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert "No merchants yet" in out


def test_data_dir_default_is_documented() -> None:
    documented = dict((var, default) for var, default, _ in Settings.documentation())
    assert "~/.local/share/walletpass" in documented["WALLETPASS_DATA_DIR"]


@pytest.mark.parametrize(("environ", "lang"), [
    ({"LANG": "th_TH.UTF-8"}, "th"),
    ({"LC_ALL": "vi_VN.UTF-8", "LANG": "th_TH.UTF-8"}, "vi"),
    ({"LC_MESSAGES": "ms_MY.UTF-8", "LANG": "en_US.UTF-8"}, "ms"),
    ({"LANGUAGE": "zh_TW:en", "LANG": "C.UTF-8"}, "zh-Hant"),
    ({"LANG": "zh_HK.Big5"}, "zh-Hant"),
    ({"LANGUAGE": "fr:th", "LANG": "fr_FR.UTF-8"}, "th"),
    ({"LANG": "zh_CN.UTF-8"}, "en"),  # Simplified Chinese is not shipped
    ({"LANG": "de_DE.UTF-8"}, "en"),
    ({"LANG": "C", "LANGUAGE": ""}, "en"),
    ({"LC_ALL": "POSIX", "LANG": "th_TH.UTF-8"}, "en"),
    ({}, "en"),
])
def test_language_comes_from_the_locale_variables(environ: dict[str, str], lang: str) -> None:
    from app.cli_i18n import cli_language

    assert cli_language(environ) == lang


def test_help_texts_in_thai(home: Path, cwd: Path) -> None:
    env = env_for(home, LANG="th_TH.UTF-8")
    listing = run("--help", cwd=cwd, env=env)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("วิธีใช้: walletpass [OPTIONS] COMMAND [ARGS]...")
    for thai in ("บัตรสะสมแต้มบน Apple Wallet และ Google Wallet", "คำสั่ง:", "ตัวเลือก:",
                 "สร้างร้านค้าและแสดงคีย์ API ใหม่ในบรรทัดสุดท้าย", "แสดงข้อความนี้แล้วจบการทำงาน"):
        assert thai in listing.stdout
    assert "Create a merchant" not in listing.stdout
    serve = run("serve", "--help", cwd=cwd, env=env).stdout
    assert "ที่อยู่ที่จะรอรับการเชื่อมต่อ  [ค่าเริ่มต้น: 127.0.0.1]" in serve
    english = run("serve", "--help", cwd=cwd, env=env_for(home)).stdout
    assert "Address to listen on.  [default: 127.0.0.1]" in english
    assert files_under(home) == [] and files_under(cwd) == []


def test_messages_and_errors_in_thai_and_counted_in_english(make_app: object) -> None:
    from flask import Flask

    app: Flask = make_app()  # type: ignore[operator]
    thai = app.test_cli_runner(env={**ENGLISH, "LANG": "th_TH.UTF-8"})
    made = thai.invoke(main, args=["create-merchant", "--name", "ร้านกาแฟ", "--email",
                                   "a@b.example"])
    assert made.exit_code == 0, made.output
    assert "สร้างร้านค้า 1 (ร้านกาแฟ) แล้ว คีย์ API (แสดงครั้งเดียว):" in made.output
    assert "คีย์ที่ใช้งานอยู่ 1 รายการ" in thai.invoke(main, args=["list-merchants"]).output
    unknown = thai.invoke(main, args=["revoke-api-key", "99"])
    assert unknown.exit_code == 1 and "ข้อผิดพลาด: ไม่มีคีย์ API 99" in unknown.output
    bad = thai.invoke(main, args=["create-merchant", "--name", "x", "--email", "nope"])
    assert bad.exit_code == 1 and "ข้อผิดพลาด: email: ไม่ใช่อีเมลที่ถูกต้อง" in bad.output
    short = thai.invoke(main, args=["create-merchant", "--name", "x", "--email", "x@b.example",
                                    "--password", "short"])
    assert "รหัสผ่านต้องยาวอย่างน้อย 10 ตัวอักษร" in short.output
    english = app.test_cli_runner(env=ENGLISH)
    assert "\t1 active key\n" in english.invoke(main, args=["list-merchants"]).output
    assert english.invoke(main, args=["create-api-key", "--merchant", "1"]).exit_code == 0
    assert "\t2 active keys\n" in english.invoke(main, args=["list-merchants"]).output
    for lang, words in (("vi_VN.UTF-8", "2 khóa đang dùng"), ("ms_MY.UTF-8", "2 kunci aktif"),
                        ("zh_TW.UTF-8", "2 把有效金鑰")):
        listed = app.test_cli_runner(env={**ENGLISH, "LANG": lang}).invoke(
            main, args=["list-merchants"])
        assert words in listed.output
