"""pytest set-up for nbval runs on the notebooks (`make nbval`, `.ci/nbval-portable`).

The worked solutions start with `%%solution` (see `vit_tutorial/solutions.py`):
in a live notebook Run All skips them, but nbval must run them to compare
their stored outputs. Kernels inherit this environment variable.
"""
import os

os.environ["VIT_TUTORIAL_SOLUTIONS"] = "1"
