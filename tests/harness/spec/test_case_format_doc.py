"""The complete example of docs/case-format.md is a valid case, and it shows
each of the three levels it explains."""
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
    # The example's SENT/RECEIVED are model flags on the shutdown and read
    # steps now, so it has no get_shutdown step of its own any more.
    assert case.labels == {"first_close": 2, "drain": 3}
    assert [(g["rule"], g["severity"], g["tls"]) for g in case.expect_rfc] == \
        [("nothing-after-own-close-notify", "interop", ("1.2", "1.3"))]
    assert [g["statements"] for g in case.expect_model] == \
        [("S1",), ("S10",), ("S14",), ("S4", "S11")]
    assert case.expect_model[2]["flags"]["first_close"] == {"sent": True, "received": False}
    assert case.expect_api["steps"] == {"first_close": {"ret": 0},
                                        "drain": {"ret": "<=0",
                                                  "error": "SSL_ERROR_ZERO_RETURN"}}
