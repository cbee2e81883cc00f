"""``python -m anyrun MODULE:FUNCTION [ARGS...]``: run an async function."""

import sys

from ._core._cli import main

if __name__ == "__main__":
    sys.exit(main())
