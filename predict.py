"""Score articles: ``python predict.py --model URI --input PATH --output PATH``; see ``framing predict -h``."""

import sys

from framing.cli import run

if __name__ == "__main__":
    run(["predict", *sys.argv[1:]])
