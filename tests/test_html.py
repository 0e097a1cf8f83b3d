"""planner.outputs.html: the escaping and number formatting the three pages share."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from planner.outputs.html import escape, html_page, js_number, js_text, number, svg_image


@pytest.mark.parametrize("missing", [None, math.nan, np.nan, pd.NA, pd.NaT])
def test_a_missing_value_is_empty_text(missing: object) -> None:
    """None, NaN, NA and NaT escape to '' (in the map's texts too)."""
    assert escape(missing) == "" and js_text(missing) == ""


def test_markup_and_quotes_are_escaped() -> None:
    """A village named like markup is shown as text, also inside an attribute."""
    assert escape("<script>alert('x')</script>") == "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
    assert escape('"a" & b') == "&quot;a&quot; &amp; b"


def test_js_text_also_closes_no_template_string() -> None:
    """Backtick, $ and backslash become entities inside the map's JavaScript template strings."""
    assert js_text("`${x}`\\") == "&#96;&#36;{x}&#96;&#92;"
    assert not {"`", "$", "\\"} & set(js_text("`$\\<b>"))


def test_numbers_have_separators_and_signs_for_missing_and_unreachable() -> None:
    """The report shows '—' for a missing number, the map nothing; both show '∞' for not reachable."""
    assert number(1234567.891, 1) == "1,234,567.9"
    assert number(None) == "—" and number(math.nan) == "—"
    assert number(math.inf) == "∞" and js_number(math.inf) == "∞"
    assert js_number(None) == "" and js_number(math.nan, 1) == ""
    assert number("<b>") == "&lt;b&gt;"  # not a number: shown as escaped text
    assert number(pd.NA) == ""  # pd.NA is missing text, not the missing-number sign


def test_page_and_svg_frames_escape_their_titles() -> None:
    """The page and image titles are escaped; the page declares its language."""
    page = html_page(title="<t>", lang="zh", css="", body="")
    assert "<title>&lt;t&gt;</title>" in page and "lang='zh-CN'" in page
    assert "<title>&lt;t&gt;</title>" in svg_image(10, 10, title="<t>", body="")
