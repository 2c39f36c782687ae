"""Train one model: ``python train.py [group=name] [key=value ...]``; see ``framing train -h``."""

import sys

from framing.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
