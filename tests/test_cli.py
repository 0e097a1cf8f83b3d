"""The command line: help in both languages, exit codes, no traceback on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest

from planner.cli import main


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "planner", *args], capture_output=True, text=True, timeout=120
    )


def test_help_lists_every_command() -> None:
    """`planner --help` names each subcommand of INTERFACE.md."""
    out = run("--help").stdout
    for cmd in ("demo", "prepare-osm", "plan", "check", "bench"):
        assert cmd in out


def test_bad_rules_file_exits_2_naming_the_key(tmp_path) -> None:
    """A rules file with an out-of-range value stops `planner plan` with exit 2 and names the key, no traceback."""
    rules = tmp_path / "rules.toml"
    rules.write_text("[districts]\nmin_villages = 0\n", encoding="utf-8")
    p = run(
        "plan",
        "--villages",
        "v.gpkg",
        "--roads",
        "r.osm",
        "--out",
        str(tmp_path / "out"),
        "--config",
        str(rules),
        "--lang",
        "en",
    )
    assert p.returncode == 2
    assert "districts.min_villages" in p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()


def test_messages_in_chinese_by_lang(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """--lang zh gives the Chinese text of the same error."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[districts]\nmode = "x"\n', encoding="utf-8")
    code = main(
        [
            "plan",
            "--villages",
            "v",
            "--roads",
            "r",
            "--out",
            str(tmp_path / "o"),
            "--config",
            str(rules),
            "--lang",
            "zh",
        ]
    )
    assert code == 2
    assert "请在规则文件中改正该值" in capsys.readouterr().err


def test_bad_month_exits_2(tmp_path) -> None:
    """A month that is not YYYY-MM is an input error."""
    p = run(
        "plan",
        "--villages",
        "v",
        "--roads",
        "r",
        "--out",
        str(tmp_path / "o"),
        "--month",
        "2026-13",
        "--lang",
        "en",
    )
    assert p.returncode == 2 and "--month" in p.stderr


@pytest.mark.parametrize(
    "argv",
    [["demo"], ["plan", "--villages", "v", "--roads", "r", "--out", "o"]],
)
def test_demo_and_plan_take_the_same_output_options(argv: list[str]) -> None:
    """Both commands that write a plan directory accept every option the writing step reads."""
    from planner.cli import build_parser

    args = build_parser().parse_args(argv)
    for name in ("out", "seed", "time_limit", "basemap", "tile_key", "shapefile_encoding", "lang"):
        assert hasattr(args, name), name
    assert args.basemap == "osm"
