"""diffbench's Python helpers as one package: exporting models, training the digit models, the
diffusers reference, reading result files, figures and statistics.

The entry points are the scripts beside this folder (scripts/plot.py, scripts/train.py, ...), run
with .venv/bin/python (scripts/setup.sh makes it: torch, diffusers, numpy, matplotlib, pinned in
scripts/requirements.txt); running a script puts its folder, scripts/, on the import path, so the
package imports without any path set-up. Tests point PYTHONPATH at scripts/.
"""
import os

#: The repository's root (the folder holding scripts/, models/, tests/).
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
