"""Which submissions are alike: copydetect's winnowed fingerprints (the method of MOSS), over the code with
names and literals normalised, the exercise's starter.py taken out as the skeleton every student was given.

It says "similar", never "copied": a pair is listed for a person to look at, side by side.
"""
import itertools

import numpy
from markupsafe import escape
from copydetect import CodeFingerprint, compare_files
from copydetect.utils import highlight_overlap

from orchestrator.exercises import HOME

THRESHOLD = 0.7  # the share of each program's code found in the other
NOISE, GUARANTEE = 25, 30  # copydetect's k (tokens per fingerprint) and its guarantee window (k + win - 1)


def fingerprint(path, skeleton):
    return CodeFingerprint(str(path), NOISE, GUARANTEE - NOISE + 1, boilerplate=skeleton, language="python")


def similar(submissions, exercise, threshold=THRESHOLD):
    """[{"a", "b", "score", "a_html", "b_html"}] for each pair of programs, each holding at least `threshold` of
    the other's code (score: the smaller share), the most alike first; the html is each program with the
    shared parts marked."""
    starter = HOME / exercise / "starter.py"
    skeleton = numpy.unique(list(fingerprint(starter, None).hashes)) if starter.exists() else None
    prints = {}
    for submission in submissions:
        if submission.path is not None:
            try:
                prints[submission.student] = fingerprint(submission.path, skeleton)
            except (OSError, UnicodeDecodeError, ValueError):
                continue  # not text: nothing to compare
    pairs = []
    for a, b in itertools.combinations(sorted(prints), 2):
        overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
        score = float(min(share_a, share_b))
        if overlap and score >= threshold:
            pairs.append({"a": a, "b": b, "score": round(score, 3),
                          "a_html": marked(prints[a].raw_code, slices_a),
                          "b_html": marked(prints[b].raw_code, slices_b)})
    return sorted(pairs, key=lambda pair: -pair["score"])


def marked(code, slices):
    """The code as HTML, escaped, the parts found in the other program in <mark>."""
    if not slices.shape[1]:
        return str(escape(code))
    return highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)[0]
