"""The command line: help in both languages, exit codes, no traceback on bad input."""

from __future__ import annotations

import subprocess
import sys

import pytest
from corpus.make_corpus import county, points_csv

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
    assert args.basemap == "none"  # offline by default (issue 16)


@pytest.mark.parametrize(("lang", "word"), [("en", "outside the planned month"), ("zh", "不在规划月份")])
def test_leave_dates_outside_the_month_are_named_in_a_warning(tmp_path, lang: str, word: str) -> None:
    """Leave dates in the roster outside --month give a warning naming the officer and the dates (the run
    then stops here on the roster's unknown office, before any solving)."""
    villages, _ = county()
    points_csv(villages).to_csv(tmp_path / "villages.csv", index=False)
    (tmp_path / "roster.csv").write_text(
        "officer_id,office,kind,unavailable\n"
        "P1,V00,linked,2026-12-24..2026-12-25\n"
        "P2,NOPE,linked,2026-11-30;2027-01-02\n",
        encoding="utf-8",
    )
    p = run(
        "plan",
        "--villages",
        str(tmp_path / "villages.csv"),
        "--roads",
        "none",
        "--out",
        str(tmp_path / "o"),
        "--officers",
        str(tmp_path / "roster.csv"),
        "--month",
        "2026-12",
        "--lang",
        lang,
    )
    assert p.returncode == 2 and "NOPE" in p.stderr
    warnings = [line for line in p.stderr.splitlines() if word in line]
    assert len(warnings) == 1 and "P2" in warnings[0]
    assert "2026-11-30" in warnings[0] and "2027-01-02" in warnings[0]


def test_rules_file_with_a_byte_order_mark_is_read(tmp_path) -> None:
    """A rules file saved by Windows Notepad (UTF-8 with BOM) is valid TOML to the planner."""
    from planner.rules import load_rules

    path = tmp_path / "rules.toml"
    path.write_bytes("\ufeff[districts]\nmin_villages = 4\n".encode())
    assert load_rules(path).districts.min_villages == 4


def test_chinese_messages_hold_no_english_fragments(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    """--lang zh: a TOML syntax error and a CSV row with too many fields are told in Chinese, with the line."""
    rules = tmp_path / "rules.toml"
    rules.write_text("[districts]\nmin_villages = = 5\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("officer_id,office,kind\nP1,V00,linked\nP2,V01,linked,extra\n", encoding="utf-8")
    argv = ["plan", "--villages", "v", "--roads", "r", "--out", str(tmp_path / "o"), "--lang", "zh"]
    assert main([*argv, "--config", str(rules)]) == 2
    err = capsys.readouterr().err
    assert "第 2 行" in err and "line" not in err and "column" not in err
    villages, _ = county()
    points_csv(villages).to_csv(tmp_path / "villages.csv", index=False)
    argv[2] = str(tmp_path / "villages.csv")
    assert main([*argv, "--officers", str(roster)]) == 2
    err = capsys.readouterr().err
    assert "第 3 行" in err and "line" not in err and "Error" not in err
