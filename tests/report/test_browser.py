"""The report in a real browser: headless Chromium with the network off loads it, every image decodes, no
console message or script error, and a screenshot is taken. Skipped, with the reason and how to install a
browser, where none is found (CI installs the Debian package `chromium`)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from tests.report._browser import INSTALL_HINT, check_page, find_browser
from tests.report._demo import quick_demo


@pytest.fixture(scope="module")
def browser():
    path = find_browser()
    if path is None:
        warnings.warn(f"the report was not checked in a browser: {INSTALL_HINT}", stacklevel=1)
        pytest.skip(INSTALL_HINT)
    return path


def _screenshot_pixels(path):
    import matplotlib.image

    return matplotlib.image.imread(str(path))


def test_report_loads_offline_with_every_image_and_no_errors(browser, tmp_path_factory, tmp_path):
    out, _ = quick_demo(tmp_path_factory)
    page = out / "beta_vae" / "report.html"
    html = page.read_text()
    # self-contained: nothing is fetched from anywhere (data URIs only)
    assert not re.search(r'(src|href)="(?!data:|#)', html), "the report links outside itself"
    n_img = html.count("<img ")
    assert n_img >= 6  # traversals, reconstructions, curves, distances, linearity, ... (topology when present)
    res = check_page(page, screenshot=tmp_path / "report.png", width=1200, height=2400)
    assert res["check"] is not None, "the page's self-check did not run (no JavaScript?)"
    assert res["check"]["images"] == n_img
    assert res["check"]["loaded"] == n_img, res["check"]["failed"]
    assert res["check"]["errors"] == [] and res["console"] == [], (res["check"]["errors"], res["console"])
    px = _screenshot_pixels(res["screenshot"])
    assert px.shape[:2] == (2400, 1200)
    assert px.std() > 0.05  # not a blank page


def test_comparison_page_loads_offline(browser, tmp_path_factory):
    out, _ = quick_demo(tmp_path_factory)
    res = check_page(out / "compare.html")
    assert res["check"] is not None and res["check"]["failed"] == [] and res["console"] == []


def test_the_check_catches_a_broken_image_and_a_script_error(browser, tmp_path):
    # the negative control: the same check fails on a page that is broken in both ways
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><img src="missing.png" alt="missing">'
                    '<img src="https://example.com/x.png" alt="remote"><pre id="pydisent-check"></pre>'
                    '<script>nosuchfunction();</script><script>window.addEventListener("load", function () {'
                    'var i = document.images, ok = 0; for (var k = 0; k < i.length; k++) {'
                    'if (i[k].complete && i[k].naturalWidth > 0) ok++; }'
                    'document.getElementById("pydisent-check").textContent = JSON.stringify({images: i.length,'
                    ' loaded: ok}); });</script></body></html>')
    res = check_page(page)
    assert res["check"] == {"images": 2, "loaded": 0}
    assert any("nosuchfunction" in line for line in res["console"])


def test_screenshot_is_the_page(browser, tmp_path_factory, tmp_path):
    out, _ = quick_demo(tmp_path_factory)
    res = check_page(out / "vae" / "report.html", screenshot=tmp_path / "top.png", width=900, height=700)
    px = _screenshot_pixels(res["screenshot"])
    assert px.shape[:2] == (700, 900)
    # the header rule is the report's accent colour (#3b6ea5) somewhere in the first rows
    rgb = (px[:300, :, :3] * 255).round().astype(int)
    assert np.any(np.all(np.abs(rgb - np.array([0x3b, 0x6e, 0xa5])) <= 3, axis=-1))
