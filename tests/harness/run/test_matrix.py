"""Matrix expansion: applicability omits, stack limits skip, order is stable."""
from __future__ import annotations

from harness.run.detect import StackInfo
from harness.run.matrix import Selection, expand
from support.harness_files import VALID_CASE

TLS13_ONLY = VALID_CASE.replace("[peer]", '[applies]\ntls = ["1.3"]\nio = ["memory", "blocking"]\n'
                                          "\n[peer]")


def test_full_expansion_order_and_ids(make_case, make_stack):
    cells = expand([make_case()], [make_stack()])
    assert len(cells) == 2 * 3 * 2
    assert [c.id for c in cells[:4]] == [
        "example-case/fake/tls1.2/blocking/client", "example-case/fake/tls1.2/blocking/server",
        "example-case/fake/tls1.2/nonblocking/client",
        "example-case/fake/tls1.2/nonblocking/server"]
    assert cells[-1].id == "example-case/fake/tls1.3/memory/server"
    assert not any(c.skip for c in cells)


def test_declared_applicability_omits_cells(make_case, make_stack):
    cells = expand([make_case(TLS13_ONLY)], [make_stack()])
    # Canonical IO order, whatever order the case lists them in.
    assert [(c.tls, c.io) for c in cells] == [("1.3", "blocking")] * 2 + [("1.3", "memory")] * 2


def test_stack_limits_give_skips_with_reason(make_case, make_stack):
    stack = make_stack()
    stack.io = ("blocking",)
    cells = expand([make_case()], [stack])
    skipped = [c for c in cells if c.skip]
    assert len(cells) == 12 and len(skipped) == 8
    assert skipped[0].skip.startswith("fake does not support IO mode nonblocking")


def test_unavailable_stack_skips_with_install_hint(make_case, make_stack):
    cells = expand([make_case()], [make_stack()],
                   {"fake": StackInfo(False, hint="unavailable: install libfake-dev and rebuild")})
    assert all(c.skip == "unavailable: install libfake-dev and rebuild" for c in cells)


def test_api_applicability_and_native_stacks(make_case, make_stack):
    openssl_only = VALID_CASE.replace("[peer]", '[applies]\napi = ["openssl"]\n\n[peer]')
    assert expand([make_case(openssl_only)], [make_stack(api="native")]) == []
    head = VALID_CASE[:VALID_CASE.index("[[expect.rfc]]")]
    api_only = head + "[expect.api.steps]\nclose = {ret = 0}\n"
    cells = expand([make_case(api_only)], [make_stack(api="native")])
    assert cells and all("only api-level expectations" in c.skip for c in cells)
    assert not any(c.skip for c in expand([make_case(api_only)], [make_stack()]))
    # Model checks are recorded on a native stack too (as differences): it runs.
    model_only = head + '[[expect.model]]\nstatements = ["S10"]\noutcomes = {close = "sent"}\n'
    cells = expand([make_case(model_only)], [make_stack(api="native")])
    assert cells and not any(c.skip for c in cells)


def test_selection_filters(make_case, make_stack):
    cells = expand([make_case()], [make_stack()], select=Selection(("1.2",), ("memory",),
                                                                   ("server",)))
    assert [c.id for c in cells] == ["example-case/fake/tls1.2/memory/server"]


def test_cases_sorted_by_id_then_stack_order(make_case, make_stack, tmp_path):
    b = make_case(VALID_CASE.replace("example-case", "b-case"), name="b-case")
    a = make_case(VALID_CASE.replace("example-case", "a-case"), name="a-case")
    s1 = make_stack(name="zeta")
    s2 = make_stack(name="alpha")
    cells = expand([b, a], [s1, s2], select=Selection(("1.3",), ("blocking",), ("client",)))
    assert [c.id for c in cells] == ["a-case/zeta/tls1.3/blocking/client",
                                     "a-case/alpha/tls1.3/blocking/client",
                                     "b-case/zeta/tls1.3/blocking/client",
                                     "b-case/alpha/tls1.3/blocking/client"]
