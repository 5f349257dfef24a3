"""Commands about the spec itself: `init`, `validate`, `schema`."""

from __future__ import annotations

import argparse
import json
import sys

from khatui.cli.output import write_text
from khatui.spec.cluster import Cluster
from khatui.spec.document import to_commented_yaml
from khatui.spec.example import HEADER, example_cluster
from khatui.spec.problems import Severity
from khatui.spec.validate import validate_file


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add `init`, `validate` and `schema`."""
    init = sub.add_parser(
        "init",
        help="write a commented example cluster spec",
        description="Write an example cluster spec (3 stacked control planes, haproxy+keepalived VIP, "
        "IPVS, NFS) with every field documented. Edit it, then `khatui validate` it.",
    )
    init.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    init.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    init.set_defaults(run=_init)

    validate = sub.add_parser(
        "validate",
        help="check a cluster spec and list every problem",
        description="Check a cluster spec: its shape, the rules of an HA cluster (quorum, roles, "
        "addresses, VIP subnet, leader election) and the local files it names. Every problem is "
        "listed with its field path, file and line. Exit code 0: usable (warnings allowed); 2: errors.",
    )
    validate.add_argument("spec", metavar="SPEC", help="cluster spec file (YAML)")
    validate.add_argument("--strict", action="store_true", help="treat warnings as errors")
    validate.add_argument("--output", choices=("text", "json"), default="text", help="output format (default: text)")
    validate.add_argument(
        "--no-local-files", action="store_true", help="skip checks of local files (identity files, CA files)"
    )
    validate.set_defaults(run=_validate)

    schema = sub.add_parser(
        "schema",
        help="print the JSON Schema of the cluster spec",
        description="Print the JSON Schema of the cluster spec, for editor completion "
        "(e.g. yaml-language-server: # yaml-language-server: $schema=khatui.schema.json).",
    )
    schema.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    schema.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    schema.set_defaults(run=_schema)


def _init(args: argparse.Namespace) -> int:
    write_text(to_commented_yaml(example_cluster(), HEADER), args.output, args.force)
    return 0


def _validate(args: argparse.Namespace) -> int:
    report = validate_file(args.spec, check_local_files=not args.no_local_files)
    errors = [p for p in report.problems if p.severity is Severity.ERROR]
    warnings = [p for p in report.problems if p.severity is Severity.WARNING]
    failed = bool(errors) or (args.strict and bool(warnings))
    if args.output == "json":
        json.dump(
            {"spec": args.spec, "valid": not failed, "problems": [p.as_dict() for p in report.problems]},
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
    else:
        for problem in report.problems:
            print(problem, file=sys.stderr if failed else sys.stdout)
        summary = f"{len(errors)} error{'s' * (len(errors) != 1)}, {len(warnings)} warning{'s' * (len(warnings) != 1)}"
        if failed:
            print(f"{args.spec}: invalid ({summary})", file=sys.stderr)
        else:
            print(f"{args.spec}: valid ({summary})")
    return 2 if failed else 0


def _schema(args: argparse.Namespace) -> int:
    schema = Cluster.model_json_schema(by_alias=True)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "khatui Cluster spec"}
    write_text(json.dumps(schema, indent=2) + "\n", args.output, args.force)
    return 0
