"""The shareable HTML report of one run: cost, quality, latency, failures.

``write_report`` assembles the numbers (:mod:`.data`), draws them with
matplotlib as inline SVG (:mod:`.plots`) and writes one self-contained HTML
file (:mod:`.html`) that needs no network to view.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["write_report"]


def write_report(run_ref: str | Path | None, output: Path,
                 routing_path: Path | None = None,
                 reports: Path = Path("reports")) -> Path:
    """Write the HTML report of a run.

    Args:
        run_ref: a run folder, run name, results file, or ``None`` for the
            latest run.
        output: the HTML file to write.
        routing_path: a routing.json to mark on the plots, with its decision
            records.
        reports: the folder that holds run folders, for names and "latest".

    Returns:
        The file written.

    Raises:
        MreEvalError: the run or the routing file is missing or does not
            belong together.
    """
    from mre_eval.gate.inputs import load_run
    from mre_eval.gate.routing import load_routing
    from mre_eval.report.data import assemble
    from mre_eval.report.html import render
    from mre_eval.results import atomic_write_text

    run = load_run(run_ref, "run", reports)
    routing = load_routing(Path(routing_path), run) if routing_path else None
    for note in routing.notes if routing else []:
        log.warning("%s", note)
    atomic_write_text(output, render(assemble(run, routing)))
    _shareable(output)
    log.debug("report of run %s written to %s", run.name, output)
    return output


def _shareable(path: Path) -> None:
    # temporary files are created owner-only; a report is meant to be shared,
    # so give it the permissions a plain new file would get under the umask
    import os

    umask = os.umask(0)
    os.umask(umask)
    path.chmod(0o666 & ~umask)
