"""Open an mre-eval HTML report in headless Chromium and check its plots drew.

Usage::

    python scripts/render_report_chromium.py report.html [--png shot.png]

It runs Chromium twice, with networking off: once to dump the DOM after the
page's load handler has recorded each plot's drawn box on its ``<svg>``, the
page height and the number of resources loaded; once to take a screenshot of
the whole page.  It passes (exit 0) when every plot has a non-zero drawn size,
its box on the screenshot holds a drawing rather than a blank area, and the
page loaded no resource; otherwise it says what failed and exits 1.
Chromium comes from the Debian packages ``chromium`` and ``chromium-driver``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio",
         # resolve every host to nothing: a report that fetched anything
         # would fail to load it rather than reach out
         "--host-resolver-rules=MAP * ~NOTFOUND"]
SVG_TAG = re.compile(r"<svg\b[^>]*>", re.IGNORECASE)
BODY_TAG = re.compile(r"<body\b[^>]*>", re.IGNORECASE)
ATTR = re.compile(r'data-([a-z-]+)="(\d+)"')
MIN_PLOT_COLOURS = 16  # a blank or half-drawn plot box has a handful
MAX_HEIGHT = 16000     # Chromium's screenshots stop near 16,384 pixels


@dataclass
class BrowserCheck:
    """What the browser showed."""

    plots: int = 0
    drawn: list[tuple[int, int]] = field(default_factory=list)
    plot_colours: list[int] = field(default_factory=list)
    colours: int = 0
    resources: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def find_chromium() -> str | None:
    """The Chromium binary, or ``None`` when it is not installed."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    return shutil.which("chromium") or shutil.which("chromium-browser")


def check_report(html: Path, png: Path, chromium: str,
                 timeout: float = 120.0) -> BrowserCheck:
    """Render ``html`` in headless Chromium; screenshot it and look at its plots.

    A first pass lays the page out and dumps its DOM, where the page's load
    handler wrote each plot's box, the page height and the resources it
    loaded; a second pass takes a screenshot of the whole page, and each plot's
    box on it must hold a drawing (many colours), not a blank area.
    """
    url = html.resolve().as_uri()
    expected = len(SVG_TAG.findall(html.read_text(encoding="utf-8")))
    result = BrowserCheck()

    dom = _chromium(chromium, ["--window-size=1280,1600",
                               "--virtual-time-budget=5000", "--dump-dom", url],
                    timeout)
    boxes = [_numbers(tag) for tag in SVG_TAG.findall(dom)]
    boxes = [b for b in boxes if "drawn-width" in b]
    body = _numbers((BODY_TAG.findall(dom) or [""])[0])
    result.plots = len(boxes)
    result.drawn = [(b["drawn-width"], b["drawn-height"]) for b in boxes]
    result.resources = body.get("resources")
    if result.plots != expected or expected == 0:
        result.problems.append(f"{result.plots} of {expected} plots were measured")
    if any(w == 0 or h == 0 for w, h in result.drawn):
        result.problems.append(f"some plots have no drawn size: {result.drawn}")
    if result.resources != 0:
        result.problems.append(f"the page loaded {result.resources} resources; "
                               "a self-contained report loads none")

    height = min(MAX_HEIGHT, body.get("page-height", 1600))
    _chromium(chromium, [f"--window-size=1280,{height}",
                         f"--screenshot={png.resolve()}",
                         "--virtual-time-budget=5000", url], timeout)
    result.colours, *result.plot_colours = _colours(png, boxes)
    if result.colours < 16:
        result.problems.append(f"the screenshot is blank ({result.colours} colours)")
    blank = [i for i, n in enumerate(result.plot_colours)
             if n < MIN_PLOT_COLOURS]
    if blank:
        result.problems.append(f"plots {blank} are blank on the screenshot "
                               f"(colours per plot: {result.plot_colours})")
    return result


def _numbers(tag: str) -> dict[str, int]:
    return {name: int(value) for name, value in ATTR.findall(tag)}


def _chromium(binary: str, args: list[str], timeout: float) -> str:
    done = subprocess.run([binary, *FLAGS, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    return done.stdout


def _colours(png: Path, boxes: list[dict[str, int]]) -> list[int]:
    """Distinct colours on the whole screenshot, then within each box."""
    from PIL import Image

    if not png.exists():
        return [0] * (1 + len(boxes))
    with Image.open(png) as shot:
        image = shot.convert("RGB")
    crops = [image.crop((b["drawn-x"], b["drawn-y"],
                         b["drawn-x"] + b["drawn-width"],
                         b["drawn-y"] + b["drawn-height"])) for b in boxes]
    return [_count(part) for part in (image, *crops)]


def _count(image: Any) -> int:
    found = image.getcolors(maxcolors=1 << 16)
    return (1 << 16) if found is None else len(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the report to check")
    parser.add_argument("--png", type=Path, help="screenshot path "
                        "(default: beside the report, .png)")
    args = parser.parse_args(argv)
    chromium = find_chromium()
    if chromium is None:
        print("chromium is not installed: apt-get install -y chromium "
              "chromium-driver", file=sys.stderr)
        return 2
    png = args.png or args.html.with_suffix(".png")
    result = check_report(args.html, png, chromium)
    print(f"plots drawn: {result.plots} {result.drawn}")
    print(f"colours in each plot's box: {result.plot_colours}")
    print(f"resources loaded: {result.resources}")
    print(f"screenshot: {png} ({result.colours} colours)")
    for problem in result.problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
