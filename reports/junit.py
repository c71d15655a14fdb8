"""results.json -> junit.xml, in the common Ant/Jenkins JUnit shape.

Needs: a results document (reports.model.check_document passes).
Gives: one <testsuite> per stack and one <testcase> per cell, classname
`stack.tlsX_Y.io.role`, name = case id. FAIL -> <failure>; ERROR, TIMEOUT and
CRASH -> <error> (type = the verdict); SKIP -> <skipped message=reason>; KNOWN
passes and carries <properties><property name="known"> plus a <system-out>
note, so CI stays green while the deviation remains visible.
Never: emits characters XML 1.0 forbids (stderr tails can hold any byte), or
times with more than three decimals (Surefire-style readers reject them).
"""
from __future__ import annotations

import datetime as _dt
import re
import xml.etree.ElementTree as ET

from . import model

MESSAGE_MAX = 2000
_XML_FORBIDDEN = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def clean(text: object) -> str:
    """Text safe for XML 1.0: forbidden characters become visible \\xNN escapes."""
    return _XML_FORBIDDEN.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _ms(value: object) -> float:
    return model.milliseconds(value) or 0.0


def seconds(ms: object) -> str:
    """Milliseconds -> seconds with three decimals; junk counts as 0."""
    return f"{_ms(ms) / 1000.0:.3f}"


def ant_timestamp(iso: object) -> str | None:
    """ISO 8601 -> `YYYY-MM-DDTHH:MM:SS` in UTC: the strictest readers accept no zone."""
    try:
        when = _dt.datetime.fromisoformat(str(iso).replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return when.strftime("%Y-%m-%dT%H:%M:%S")


def _properties(parent: ET.Element, pairs: list[tuple[str, object]]) -> None:
    props = ET.SubElement(parent, "properties")
    for name, value in pairs:
        # null in results.json (a stack that is not built has no library, a tree
        # outside git no commit) is an empty value, not the word "None".
        ET.SubElement(props, "property", name=clean(name),
                      value="" if value is None else clean(value))


def _details(cell: dict) -> str:
    """The body of a failure/error: what was expected, what happened, how to rerun."""
    lines = [f"cell: {model.cell_id(cell)}", f"verdict: {model.verdict_of(cell)}"]
    if cell.get("reason"):
        lines.append(f"reason: {cell['reason']}")
    for check in cell.get("checks") or []:
        mark = "ok  " if check.get("ok") else ("KNWN" if check.get("known") else "FAIL")
        known = f" ({check['known_summary']})" if check.get("known_summary") else ""
        lines.append(f"  {mark} {model.check_line(check)}{known}")
    for note in cell.get("notes") or []:
        lines.append(f"note: {note}")
    if cell.get("command"):
        lines.append(f"reproduce: {cell['command']}")
    stderr = cell.get("stderr") or {}
    for who in ("sut", "peer"):
        if stderr.get(who):
            lines.append(f"--- {who} stderr (tail) ---\n{str(stderr[who]).rstrip()}")
    return clean("\n".join(lines))


def _message(cell: dict) -> str:
    return clean(model.expectation_diff(cell))[:MESSAGE_MAX]


def testcase(parent: ET.Element, cell: dict) -> ET.Element:
    tc = ET.SubElement(parent, "testcase", classname=model.classname(cell),
                       name=clean(cell.get("case", "")), time=seconds(cell.get("duration_ms")))
    verdict = model.verdict_of(cell)
    if verdict == "KNOWN":
        _properties(tc, [("known", cell.get("reason") or "documented deviation")])
    if verdict == "FAIL":
        ET.SubElement(tc, "failure", message=_message(cell), type="FAIL").text = _details(cell)
    elif verdict in ("ERROR", "TIMEOUT", "CRASH"):
        ET.SubElement(tc, "error", message=_message(cell), type=verdict).text = _details(cell)
    elif verdict == "SKIP":
        ET.SubElement(tc, "skipped", message=clean(cell.get("reason") or "skipped"))
    if verdict == "KNOWN":
        ET.SubElement(tc, "system-out").text = (
            "KNOWN deviation, reported and not failed:\n" + _details(cell))
    return tc


def _suite_attrs(name: str, cells: list[dict], started: str | None) -> dict[str, str]:
    c = model.counts(cells)
    attrs = {"name": clean(name), "tests": str(len(cells)), "failures": str(c["FAIL"]),
             "errors": str(c["ERROR"] + c["TIMEOUT"] + c["CRASH"]), "skipped": str(c["SKIP"]),
             "time": seconds(sum(_ms(x.get("duration_ms")) for x in cells))}
    if started:
        attrs["timestamp"] = started
    return attrs


def build(results: dict) -> ET.Element:
    """The <testsuites> tree for a results document."""
    model.check_document(results)
    tool = results.get("tool") or {}
    started = ant_timestamp(tool.get("started"))
    cells = results["cells"]
    root = ET.Element("testsuites", {k: v for k, v in _suite_attrs("tlsclose", cells, None).items()
                                     if k != "skipped"})
    if tool.get("duration_ms") is not None:
        root.set("time", seconds(tool["duration_ms"]))  # wall time; cells ran in parallel
    stacks = results.get("stacks") or {}
    for index, name in enumerate(model.counts_by_stack(results)):
        mine = [c for c in cells if c["stack"] == name]
        suite = ET.SubElement(root, "testsuite", _suite_attrs(f"tlsclose.{name}", mine, started),
                              id=str(index), package="tlsclose")
        info = stacks.get(name) or {}
        _properties(suite, [("stack", name), ("title", info.get("title", "")),
                            ("api", info.get("api", "")), ("library", info.get("library", "")),
                            ("available", str(bool(info.get("available", True))).lower()),
                            ("tlsclose.version", tool.get("version", "")),
                            ("tlsclose.git", tool.get("git", ""))])
        for cell in mine:
            testcase(suite, cell)
    return root


def to_bytes(results: dict) -> bytes:
    tree = ET.ElementTree(build(results))
    ET.indent(tree, space="  ")
    return ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"


def write(results: dict, path: str) -> None:
    with open(path, "wb") as f:
        f.write(to_bytes(results))
