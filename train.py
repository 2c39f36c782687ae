"""Train one model: ``python train.py [group=name] [key=value ...]``; see ``framing train -h``."""

import sys

from framing.cli import run

if __name__ == "__main__":
    run(["train", *sys.argv[1:]])
