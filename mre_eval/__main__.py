"""``python -m mre_eval`` runs the command line."""

from mre_eval.cli import main

main()
