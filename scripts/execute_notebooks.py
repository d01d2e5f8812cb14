"""Execute chapter notebooks in place, top to bottom, storing widget state.

    .venv/bin/python scripts/execute_notebooks.py notebooks/05_self_attention.ipynb [...]

This is how the committed outputs are made; `make test` then re-runs every
notebook with nbval and compares the outputs with the stored ones.
"""
import os
import sys
import time

import nbformat
from nbclient import NotebookClient


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit("usage: execute_notebooks.py NOTEBOOK.ipynb [...]")
    # `%%solution` cells run here, so the stored outputs show the solutions'
    # output (a learner's Run All skips them: vit_tutorial/solutions.py).
    os.environ["VIT_TUTORIAL_SOLUTIONS"] = "1"
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        start = time.time()
        client = NotebookClient(
            nb, timeout=600, kernel_name="python3", store_widget_state=True,
            resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        )
        client.execute()
        nbformat.write(nb, path)
        print(f"executed {path} in {time.time() - start:.1f} s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
