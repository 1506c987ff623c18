"""The `swarm` binary (main.go): `python3 -m` on this package, or the image's /swarm, runs the command line."""

import os
import sys

from .cli.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv, dict(os.environ)))
