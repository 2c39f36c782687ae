"""Score articles: ``python predict.py --model URI --input PATH --output PATH``; see ``framing predict -h``."""

import sys

from framing.cli import main

if __name__ == "__main__":
    sys.exit(main(["predict", *sys.argv[1:]]))
