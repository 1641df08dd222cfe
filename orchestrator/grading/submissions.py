"""A class's submissions, read from a folder in one of the layouts instructors have.

- plain: `SUBMISSIONS/<student>.py`, or `SUBMISSIONS/<student>/` holding the program;
- Gradescope's "Export Submissions": `submission_metadata.yml` beside `submission_<id>/` folders (the student
  is the submitter's name in the metadata);
- Moodle's "Download all submissions": `<Full Name>_<id>_assignsubmission_file_/` folders, or files named
  `<Full Name>_<id>_assignsubmission_file_<file>.py` side by side.

In a folder, the program is its only `.py`, else the one the exercise's README names
(`cp exercises/NAME/starter.py workspace/echo_server.py`). A submission whose program cannot be found or
read is still a Submission: its `problem` says why, and it is graded as such, not skipped.
"""
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from orchestrator.errors import BadParameter, BadProgram
from orchestrator.exercises import HOME
from orchestrator.i18n import _
from orchestrator.learner import LearnerProgram

MOODLE = re.compile(r"^(?P<student>.+?)_(?P<id>\d+)_assign(?:submission|feedback)_[a-z]+_?(?P<file>.*)$")
GRADESCOPE_METADATA = "submission_metadata.yml"
IGNORED = {"__pycache__", "__MACOSX", ".git"}


@dataclass
class Submission:
    student: str
    path: Path = None  # the program, when one was found
    problem: str = ""  # why it cannot be graded as a program, when it cannot

    @property
    def digest(self):
        """The program's content hash (of the problem, when there is no program): what a regrade compares."""
        content = self.path.read_bytes() if self.path else self.problem.encode()
        return hashlib.sha256(content).hexdigest()

    def program(self):
        """The LearnerProgram; BadProgram when there is none or it cannot be read or compiled."""
        if self.problem:
            raise BadProgram(self.student, self.problem)
        return LearnerProgram(self.path)


def named_file(exercise):
    """The file name the exercise's README has the learner copy the starter to (`echo_server.py`), or None."""
    readme = HOME / exercise / "README.md"
    found = re.search(rf"cp exercises/{re.escape(exercise)}/starter\.py workspace/(\S+\.py)",
                      readme.read_text(encoding="utf-8")) if readme.exists() else None
    return found and found.group(1)


def python_files(folder):
    """The folder's .py files, its own (a link could point at any file of the host: not followed)."""
    return sorted(p for p in folder.rglob("*.py") if p.is_file() and not p.is_symlink()
                  and not IGNORED & set(p.relative_to(folder).parts))


def in_folder(student, files, exercise):
    """The Submission of a student whose files are these: the only .py, else the README's name."""
    if len(files) == 1:
        return Submission(student, files[0])
    named = named_file(exercise)
    chosen = [p for p in files if named and (p.name == named or p.name.endswith("_" + named))]  # Moodle: a prefix
    if len(chosen) == 1:
        return Submission(student, chosen[0])
    if not files:
        return Submission(student, problem=_("no Python file in the submission"))
    return Submission(student, problem=_("{count} Python files ({names}), none of them {named}: which is the "
                                         "program?").format(count=len(files), names=", ".join(p.name for p in files),
                                                            named=named or "?"))


def gradescope_names(root):
    """{submission folder: the submitters' names} from Gradescope's submission_metadata.yml."""
    try:
        metadata = yaml.safe_load((root / GRADESCOPE_METADATA).read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BadParameter(GRADESCOPE_METADATA, root, _("Gradescope's metadata, readable ({error})").format(
            error=str(exc).splitlines()[0])) from None
    names = {}
    for folder, about in (metadata.items() if isinstance(metadata, dict) else ()):
        about = about if isinstance(about, dict) else {}
        people = about.get(":submitters") or about.get("submitters") or []
        said = [str(p.get(":name") or p.get("name") or p.get(":email") or "") for p in people if isinstance(p, dict)]
        names[str(folder)] = " & ".join(n for n in said if n) or str(folder)
    return names


def layout(root):
    """'gradescope', 'moodle' or 'plain': how the folder is laid out."""
    if (root / GRADESCOPE_METADATA).exists():
        return "gradescope"
    entries = [p for p in root.iterdir() if p.name not in IGNORED and not p.name.startswith(".")]
    if entries and all(MOODLE.match(p.name) for p in entries):
        return "moodle"
    return "plain"


def unwrapped(root):
    """The folder that holds the submissions: a Gradescope export's `assignment_…_export/` when the given
    folder holds only that."""
    inner = [p for p in root.iterdir() if not p.name.startswith(".")]
    if len(inner) == 1 and inner[0].is_dir() and (inner[0] / GRADESCOPE_METADATA).exists():
        return inner[0]
    return root


def find(directory, exercise):
    """(layout, [Submission]) of the folder, sorted by student; BadParameter when it is not a folder of
    submissions."""
    root = Path(directory)
    if not root.is_dir():
        raise BadParameter("SUBMISSIONS", directory, _("a folder with one entry per student"))
    root = unwrapped(root)
    kind, entries = layout(root), []  # (student, what tells two of that name apart, files)
    if kind == "gradescope":
        names = gradescope_names(root)
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name not in IGNORED):
            entries.append((names.get(folder.name, folder.name), folder.name, python_files(folder)))
    elif kind == "moodle":
        grouped = {}
        for entry in sorted(root.iterdir()):
            match = MOODLE.match(entry.name)
            if match:
                files = python_files(entry) if entry.is_dir() else [entry] if entry.suffix == ".py" else []
                grouped.setdefault((match["student"], match["id"]), []).extend(files)
        entries = [(student, number, files) for (student, number), files in grouped.items()]
    else:
        for entry in sorted(root.iterdir()):
            if entry.name in IGNORED or entry.name.startswith(".") or entry.is_symlink():
                continue
            if entry.is_dir():
                entries.append((entry.name, entry.name, python_files(entry)))
            elif entry.suffix == ".py":
                entries.append((entry.stem, entry.name, [entry]))
    named = [student for student, _tag, _files in entries]
    students = {(f"{student} ({tag})" if named.count(student) > 1 else student): files
                for student, tag, files in entries}
    if not students:
        raise BadParameter("SUBMISSIONS", directory, _("a folder with one entry per student (STUDENT.py or "
                                                       "STUDENT/), and this one has none"))
    return kind, [in_folder(student, files, exercise) for student, files in sorted(students.items())]
