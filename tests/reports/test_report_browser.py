"""The report in a real browser: headless Chromium opens index.html from
file://, and the page must show every cell, open a drill-down with its
transcript, filter, stay quiet on the console, and open a 1,200-cell report in
under a second. Screenshots go to $TLSCLOSE_REPORT_SHOTS (set by ctest to the
build directory's reports-test/), else build/reports-test/, else a temporary
directory."""
from __future__ import annotations

import os

import pytest

from reports import write_all
from support.build import ROOT

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
# A sanity bound, not the target: the target (the full --stack all report loads in 1 s on a
# quiet machine) is measured and quoted with the machine's load in docs/performance.md; a test
# that asserted it would fail whenever the machine is busy. This bound catches a page that
# became pathologically slow (a quadratic script, a synchronous render of every drill-down).
LOAD_BUDGET_MS = 10000
SIZE_BUDGET = 5 * 1024 * 1024

webdriver = pytest.importorskip(
    "selenium.webdriver", reason="selenium is missing: apt-get install python3-selenium")
if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
    pytest.skip("chromium is not installed: apt-get install chromium chromium-driver",
                allow_module_level=True)

from selenium.webdriver.chrome.service import Service as ChromeService  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> str:
    """ctest names the build directory's folder; run by hand, build/ is used."""
    build = os.path.join(ROOT, "build")
    where = os.environ.get("TLSCLOSE_REPORT_SHOTS") or (
        os.path.join(build, "reports-test") if os.path.isdir(build)
        else str(tmp_path_factory.mktemp("shots")))
    os.makedirs(where, exist_ok=True)
    return where


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1400,1000"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=ChromeService(executable_path=DRIVER), options=opts)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, path: str, fragment: str = "") -> None:
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get("file://" + os.path.abspath(path) + fragment)
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return document.documentElement.dataset.ready === '1'"))


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def visible_cells(driver, doc: dict) -> list[str]:
    """The ids of the matrix cells shown: a button names its cell by its index
    in results.json (data-cell), the page takes the rest from its data."""
    indexes = driver.execute_script("""
        return Array.from(document.querySelectorAll('#matrix .cellbtn'))
          .filter(b => b.checkVisibility()).map(b => Number(b.dataset.cell));""")
    return [doc["cells"][i]["id"] for i in indexes]


def cell_index(doc: dict, cell_id: str) -> int:
    return next(i for i, c in enumerate(doc["cells"]) if c["id"] == cell_id)


def click(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def open_drill(driver, doc: dict, cell_id: str):
    button = driver.find_element(By.CSS_SELECTOR,
                                 f'#matrix .cellbtn[data-cell="{cell_index(doc, cell_id)}"]')
    details = button.find_element(By.XPATH, "./ancestor::details[1]")
    if not details.get_property("open"):
        click(driver, details.find_element(By.TAG_NAME, "summary"))
    click(driver, button)
    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.ID, "drill").is_displayed()
        and cell_id in d.find_element(By.ID, "drill-title").text)
    return driver.find_element(By.ID, "drill")


@pytest.fixture(scope="module")
def small_page(small_doc, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("small")
    write_all(small_doc, str(out))
    return str(out / "index.html")


@pytest.fixture(scope="module")
def big_page(big_doc, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("big")
    write_all(big_doc, str(out))
    return str(out / "index.html")


def test_matrix_shows_every_cell(browser, small_page, small_doc):
    open_page(browser, small_page)
    ids = [small_doc["cells"][int(b.get_attribute("data-cell"))]["id"] for b in
           browser.find_elements(By.CSS_SELECTOR, "#matrix .cellbtn")]
    assert sorted(ids) == sorted(c["id"] for c in small_doc["cells"])
    assert visible_cells(browser, small_doc) == []  # collapsed: each box shows its worst verdict
    click(browser, browser.find_element(By.ID, "expand-all"))
    assert sorted(visible_cells(browser, small_doc)) == sorted(ids)
    totals = {e.get_attribute("data-verdict"): e.text for e in
              browser.find_elements(By.CSS_SELECTOR, "#summary .total")}
    counted = {v: sum(c["verdict"] == v for c in small_doc["cells"]) for v in ("FAIL", "PASS")}
    assert counted == {"FAIL": 2, "PASS": 36}
    assert totals["FAIL"].endswith("FAIL 2") and totals["PASS"].endswith("PASS 36")
    assert console_errors(browser) == []


def test_drill_down_shows_ops_transcript_statement_and_command(browser, small_page, small_doc,
                                                               shots):
    cell = next(c for c in small_doc["cells"]
                if c["verdict"] == "FAIL" and c["case"].startswith("peer-data-after-own"))
    open_page(browser, small_page)
    drill = open_drill(browser, small_doc, cell["id"])
    ladder = drill.find_element(By.CSS_SELECTOR, ".ladder")
    assert "alert close_notify (warning, level byte 1)" in ladder.text
    assert "application data, 100 B" in ladder.text
    assert "TCP FIN" in ladder.text
    bad = drill.find_elements(By.CSS_SELECTOR, "table.ops td.bad")
    assert bad and "data:100" in bad[0].text and "expected closed" in bad[0].text
    assert drill.find_element(By.ID, "drill-command").text == cell["command"]
    assert "Data received after a closure alert must be ignored" in drill.text
    browser.save_screenshot(os.path.join(shots, "report-drill-down.png"))
    drill.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.ID, "drill").is_displayed())
    assert console_errors(browser) == []


def test_filters(browser, small_page, small_doc, shots):
    open_page(browser, small_page)
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=verdict]"):
        if box.get_attribute("value") != "FAIL":
            click(browser, box)
    fails = sorted(c["id"] for c in small_doc["cells"] if c["verdict"] == "FAIL")
    assert sorted(visible_cells(browser, small_doc)) == fails
    assert browser.find_element(By.ID, "shown-count").text.startswith(f"{len(fails)} of ")
    rows = browser.find_elements(By.CSS_SELECTOR, "#matrix tr.case-row")
    shown_rows = {r.get_attribute("data-case") for r in rows if r.is_displayed()}
    assert shown_rows == {c["case"] for c in small_doc["cells"] if c["verdict"] == "FAIL"}
    browser.save_screenshot(os.path.join(shots, "report-filter-fail.png"))

    click(browser, browser.find_element(By.ID, "expand-all"))
    for box in browser.find_elements(By.CSS_SELECTOR, "input[name=verdict]"):
        if not box.is_selected():
            click(browser, box)
    browser.execute_script("""const s = document.getElementById('f-statement');
        s.value = 'R2'; s.dispatchEvent(new Event('change', {bubbles: true}));""")
    r2 = [c for c, info in small_doc["cases"].items() if "R2" in info["cites"]]
    assert sorted(visible_cells(browser, small_doc)) == sorted(
        c["id"] for c in small_doc["cells"] if c["case"] in r2)

    browser.execute_script("""const s = document.getElementById('f-statement');
        s.value = ''; s.dispatchEvent(new Event('change', {bubbles: true}));""")
    click(browser, browser.find_element(By.CSS_SELECTOR, "input[name=stack][value=openssl]"))
    shown = visible_cells(browser, small_doc)
    assert shown and not any("/openssl/" in cid for cid in shown)
    assert not browser.find_element(By.CSS_SELECTOR, '#matrix thead th[data-stack="openssl"]') \
        .is_displayed()
    assert console_errors(browser) == []


def test_fragment_opens_a_cell(browser, small_page, small_doc):
    cell = small_doc["cells"][5]
    open_page(browser, small_page, "#cell=" + cell["id"])
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "drill").is_displayed())
    assert cell["id"] in browser.find_element(By.ID, "drill-title").text
    assert console_errors(browser) == []


def test_big_report_is_small_and_fast(browser, big_page, big_doc, shots, record_property):
    size = os.path.getsize(big_page)
    record_property("big_report_bytes", size)
    assert size < SIZE_BUDGET, f"{size} bytes for {len(big_doc['cells'])} cells"
    open_page(browser, big_page)
    timing = browser.execute_script("""const n = performance.getEntriesByType('navigation')[0];
        return {dcl: n.domContentLoadedEventEnd - n.startTime, load: n.loadEventEnd - n.startTime};""")
    record_property("big_report_load_ms", timing["load"])
    print(f"\n1,200-cell report: {size} bytes, DOMContentLoaded {timing['dcl']:.0f} ms, "
          f"load {timing['load']:.0f} ms")
    assert timing["load"] < LOAD_BUDGET_MS, timing
    assert len(browser.find_elements(By.CSS_SELECTOR, "#matrix .cellbtn")) == len(big_doc["cells"])
    browser.save_screenshot(os.path.join(shots, "report-1200-cells.png"))
    cell = big_doc["cells"][-1]
    drill = open_drill(browser, big_doc, cell["id"])
    assert drill.find_elements(By.CSS_SELECTOR, ".ladder .wire")
    assert console_errors(browser) == []


def test_baseline_page_in_the_browser(browser, small_doc, tmp_path, shots):
    import copy
    now = copy.deepcopy(small_doc)
    changed = now["cells"][0]
    changed["verdict"] = "FAIL"
    write_all(now, str(tmp_path), baseline=small_doc)
    open_page(browser, str(tmp_path / "index.html"))
    section = browser.find_element(By.ID, "changes")
    assert changed["id"] in section.text and "worse" in section.text
    click(browser, section.find_element(By.CSS_SELECTOR, ".cellbtn"))
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "drill").is_displayed())
    browser.find_element(By.ID, "drill-close").click()
    browser.save_screenshot(os.path.join(shots, "report-with-baseline.png"))
    assert console_errors(browser) == []


def test_traceability_and_rosetta_lead_to_cells(browser, small_page, small_doc):
    open_page(browser, small_page)
    link = browser.find_element(By.CSS_SELECTOR, '#stmt-R2 a[data-case-link]')
    case = link.get_attribute("data-case-link")
    click(browser, link)
    row = browser.find_element(By.CSS_SELECTOR, f'#matrix tr.case-row[data-case="{case}"]')
    WebDriverWait(browser, 5).until(lambda d: "flash" in row.get_attribute("class"))
    assert all(d.get_property("open") for d in row.find_elements(By.TAG_NAME, "details"))
    entry = browser.find_element(By.CSS_SELECTOR, '#rosetta tr[data-event="fin_without_close_notify"] '
                                                  'td[data-stack="gnutls"] button[data-cell]')
    assert "GNUTLS_E_PREMATURE_TERMINATION" in entry.find_element(By.XPATH, "..").text
    click(browser, entry)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "drill").is_displayed())
    title = browser.find_element(By.ID, "drill-title").text
    assert "peer-fin-without-close-notify" in title and "/gnutls/" in title
    assert console_errors(browser) == []
