"""The complete example of docs/case-format.md is a valid case."""
from __future__ import annotations

import re

from harness.spec.case import load_case
from support.build import ROOT
from support.harness_files import write_case


def test_case_format_example_validates(case_dir):
    text = (ROOT / "docs" / "case-format.md").read_text()
    example = re.search(r"## A complete example\n\n```toml\n(.*?)```", text, re.S).group(1)
    case_id = re.search(r'^id = "([^"]+)"', example, re.M).group(1)
    case = load_case(write_case(case_dir, example, name=case_id))
    assert case.labels == {"first_close": 2, "flags_after_send": 3, "drain": 4}
