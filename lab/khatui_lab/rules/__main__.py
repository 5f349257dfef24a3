"""`python -m khatui_lab.rules [--write-readme [README]]`: print the rules table, or render it into
README.md's lab section."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from khatui_lab.rules import RulesError, load, table, with_table

README = Path(__file__).resolve().parents[3] / "README.md"


def main(argv: list[str] | None = None) -> int:
    """Print the table, or write it into the README; exit 2 on a bad rules file."""
    parser = argparse.ArgumentParser(prog="python -m khatui_lab.rules", description=__doc__)
    parser.add_argument("--write-readme", nargs="?", const=README, type=Path, metavar="README")
    args = parser.parse_args(argv)
    try:
        rules = load()
        if args.write_readme is None:
            print(table(rules))
        else:
            path: Path = args.write_readme
            path.write_text(with_table(path.read_text(), rules))
    except RulesError as error:
        print(f"khatui_lab.rules: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
