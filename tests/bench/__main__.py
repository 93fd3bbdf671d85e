"""`make bench`: every benchmark, each printing ratios against a peer measured in the same run.

Nothing here asserts a time. Pick parts with `python -m tests.bench host guest image`;
no argument runs them all.
"""

from __future__ import annotations

import importlib
import sys

PARTS = ("host", "instructions", "screen", "guest", "image")


def main(argv: list[str]) -> int:
    for name in argv or PARTS:
        if name not in PARTS:
            print(f"bench: unknown part {name!r} (known: {', '.join(PARTS)})", file=sys.stderr)
            return 2
        print(f"== bench: {name} ==", flush=True)
        importlib.import_module(f"tests.bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
