"""``python -m vit_tutorial.training``: the same command line as ``python -m vit_tutorial.train``."""
import sys

from .cli import main

sys.exit(main())
