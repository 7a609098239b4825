"""Open an mre-eval HTML report in headless Chromium and check its plots drew.

Usage::

    python scripts/render_report_chromium.py report.html [--png shot.png]

It runs Chromium once, with networking off, to take a screenshot of the
page and dump its DOM after the page's load handler has recorded each plot's
drawn size on its ``<svg>`` (``data-drawn-width`` and ``data-drawn-height``).  It passes (exit 0) when every plot has a non-zero
drawn size and the screenshot is not blank; otherwise it says what failed and
exits 1.  Chromium comes from the Debian packages ``chromium`` and
``chromium-driver``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--mute-audio",
         # resolve every host to nothing: a report that fetched anything
         # would fail to load it rather than reach out
         "--host-resolver-rules=MAP * ~NOTFOUND"]
SVG_TAG = re.compile(r"<svg\b[^>]*>", re.IGNORECASE)
ATTR = re.compile(r'data-drawn-(width|height)="(\d+)"')


@dataclass
class BrowserCheck:
    """What the browser showed."""

    plots: int = 0
    drawn: list[tuple[int, int]] = field(default_factory=list)
    colours: int = 0
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
    """Render ``html`` in headless Chromium; screenshot it and measure its plots."""
    url = html.resolve().as_uri()
    expected = len(SVG_TAG.findall(html.read_text(encoding="utf-8")))
    result = BrowserCheck()

    height = max(1600, 1300 * max(1, expected))
    dom = _chromium(chromium, [f"--window-size=1280,{height}",
                               f"--screenshot={png.resolve()}",
                               "--virtual-time-budget=5000", "--dump-dom", url],
                    timeout)
    for tag in SVG_TAG.findall(dom):
        sizes = dict(ATTR.findall(tag))
        if sizes:
            result.drawn.append((int(sizes["width"]), int(sizes["height"])))
    result.plots = len(result.drawn)
    if result.plots != expected or expected == 0:
        result.problems.append(f"{result.plots} of {expected} plots were measured")
    if any(w == 0 or h == 0 for w, h in result.drawn):
        result.problems.append(f"some plots have no drawn size: {result.drawn}")

    result.colours = _colours(png)
    if result.colours < 16:
        result.problems.append(f"the screenshot is blank ({result.colours} colours)")
    return result


def _chromium(binary: str, args: list[str], timeout: float) -> str:
    done = subprocess.run([binary, *FLAGS, *args], capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited {done.returncode}: "
                           f"{done.stderr.strip()[-500:]}")
    return done.stdout


def _colours(png: Path) -> int:
    from PIL import Image

    if not png.exists():
        return 0
    with Image.open(png) as image:
        found = image.convert("RGB").getcolors(maxcolors=1 << 16)
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
    print(f"screenshot: {png} ({result.colours} colours)")
    for problem in result.problems:
        print(f"FAIL: {problem}", file=sys.stderr)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
