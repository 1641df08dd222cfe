"""Every input of the fuzz corpus, replayed through the same property the fuzzer checks, in every chunking
of a few sizes: no fuzzer needed, so a crash the fuzzer once found stays fixed."""
from pathlib import Path

import pytest

from tests.fuzz.framing_target import check

CORPUS = sorted((Path(__file__).resolve().parents[1] / "fuzz" / "corpus" / "framing").iterdir())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
@pytest.mark.parametrize("cuts", [[], [1], [3, 1], [7], [4096]])
def test_corpus_input_holds_the_framing_property(path, cuts):
    check(path.read_bytes(), cuts)


def test_the_corpus_is_there():
    assert len(CORPUS) >= 9
