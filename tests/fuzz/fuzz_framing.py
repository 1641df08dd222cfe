"""Coverage-guided fuzzing of nodes.lib.framing with atheris (`make fuzz`, FUZZ_SECONDS=60 in CI).

    python tests/fuzz/fuzz_framing.py NEW_CORPUS_DIR tests/fuzz/corpus/framing -max_total_time=60

The first bytes choose where the stream is cut; the rest is the stream. See framing_target.check.
"""
import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
with atheris.instrument_imports():
    from nodes.lib import framing  # noqa: F401  (instrumented for coverage)
    from tests.fuzz.framing_target import check


def one_input(data):
    provider = atheris.FuzzedDataProvider(data)
    cuts = provider.ConsumeIntListInRange(provider.ConsumeIntInRange(0, 8), 1, 300)
    check(provider.ConsumeBytes(provider.remaining_bytes()), cuts)


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
