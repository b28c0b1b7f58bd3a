"""``python -m cfaisearch.demo``: run the tour and exit 0, or 1 with the reason."""

from __future__ import annotations

import argparse
import asyncio
import sys

from .. import CloudflareError
from .tour import run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cfaisearch.demo",
        description=(
            "Index a small document collection in a local AI Search emulator, search it "
            "and stream a chat answer, through the cfaisearch SDK. Offline; takes seconds."
        ),
    )
    parser.parse_args(argv)
    try:
        asyncio.run(run(sys.stdout))
    except (CloudflareError, TimeoutError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
