"""The contract every node program keeps: one JSON result line, or one error line and a non-zero exit."""
import json
import sys


class ProgramError(Exception):
    """A failure to report as one line, without a traceback."""


def name():
    """The program's module name, e.g. `nodes.ping`, as it was started with `python3 -m`."""
    spec = getattr(sys.modules["__main__"], "__spec__", None)
    return spec.name if spec else "node program"


def main(run, argv=None):
    """Call run(argv) -> dict and print it as one JSON line; map errors to one stderr line and exit 2."""
    try:
        result = run(sys.argv[1:] if argv is None else argv)
    except (ProgramError, OSError, ValueError) as exc:
        print(f"{name()}: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print(f"{name()}: interrupted", file=sys.stderr)
        sys.exit(130)
    print(json.dumps(result, separators=(",", ":")), flush=True)
