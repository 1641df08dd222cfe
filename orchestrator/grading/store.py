"""Graded results kept between runs, so that a regrade of an unchanged class costs nothing.

A result is filed under its key: the submission's content hash, the exercise's version, the node image, the
seed and the language its texts are in. Any of them changing is a new key: that submission is graded again.
Files are written whole (to a temporary name, then renamed): an interrupted run leaves none half-written.
"""
import hashlib
import json
import os
from pathlib import Path

from orchestrator.report import REPORTS
from orchestrator.result import Result

STORE = REPORTS / "grades"


class Store:
    """The results of one exercise, under reports/grades/<exercise>/."""

    def __init__(self, exercise, version, image, seed, lang, root=STORE):
        self.folder = Path(root) / exercise
        self.stamp = f"{version}:{image}:{seed}:{lang}"

    def key(self, submission):
        return hashlib.sha256(f"{submission.digest}:{self.stamp}".encode()).hexdigest()[:24]

    def get(self, submission):
        """The Result kept for this submission as it is now, or None."""
        path = self.folder / f"{self.key(submission)}.json"
        try:
            return Result.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # never kept, or damaged: graded again

    def put(self, submission, result):
        self.folder.mkdir(parents=True, exist_ok=True)
        write(self.folder / f"{self.key(submission)}.json", json.dumps(result.to_dict(), ensure_ascii=False))


def last_seed(exercise, root=STORE):
    """The seed of the exercise's last class run, or None."""
    try:
        return int((Path(root) / exercise / "seed").read_text())
    except (OSError, ValueError):
        return None


def keep_seed(exercise, seed, root=STORE):
    (Path(root) / exercise).mkdir(parents=True, exist_ok=True)
    write(Path(root) / exercise / "seed", str(seed))


def write(path, text):
    """path holds text, whole, or what it held before."""
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
