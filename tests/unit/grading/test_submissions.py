"""A class's folder read in each layout: plain, Gradescope's export, Moodle's; the program chosen, or why not."""
from pathlib import Path

import pytest

from orchestrator.errors import BadParameter, BadProgram
from orchestrator.grading.submissions import find

ECHO = "import sys\nprint(sys.argv)\n"
ROOT_REFERENCE = Path(__file__).resolve().parents[3] / "exercises" / "framing" / "reference.py"


def test_plain_files_and_folders(tmp_path):
    (tmp_path / "alice.py").write_text(ECHO)
    (tmp_path / "bob").mkdir()
    (tmp_path / "bob" / "mine.py").write_text(ECHO)
    (tmp_path / "carol" / "src").mkdir(parents=True)
    (tmp_path / "carol" / "src" / "echo_server.py").write_text(ECHO)  # the README's name wins among several
    (tmp_path / "carol" / "helper.py").write_text(ECHO)
    (tmp_path / "dan").mkdir()
    (tmp_path / "dan" / "notes.txt").write_text("no program")
    (tmp_path / "erin").mkdir()
    (tmp_path / "erin" / "a.py").write_text(ECHO)
    (tmp_path / "erin" / "b.py").write_text(ECHO)
    (tmp_path / "README.txt").write_text("ignored: not a program, not a folder")
    layout, found = find(tmp_path, "framing")
    assert layout == "plain"
    by = {s.student: s for s in found}
    assert sorted(by) == ["alice", "bob", "carol", "dan", "erin"]
    assert by["alice"].path.name == "alice.py" and by["bob"].path.name == "mine.py"
    assert by["carol"].path.name == "echo_server.py"
    assert "no Python file" in by["dan"].problem and by["dan"].path is None
    assert "2 Python files (a.py, b.py), none of them echo_server.py" in by["erin"].problem
    with pytest.raises(BadProgram, match="no Python file"):
        by["dan"].program()


def test_a_program_that_does_not_parse_is_a_bad_program(tmp_path):
    (tmp_path / "alice.py").write_text("def (\n")
    with pytest.raises(BadProgram, match="line 1"):
        find(tmp_path, "framing")[1][0].program()


def test_gradescope_export(tmp_path):
    export = tmp_path / "assignment_123_export"
    for folder in ("submission_1", "submission_2"):
        (export / folder).mkdir(parents=True)
        (export / folder / "echo_server.py").write_text(ECHO + folder)
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: Alice Liddell\n    :email: alice@example.com\n"
        "submission_2:\n  :submitters:\n  - :name: Bob\n  - :name: Carol\n")
    layout, found = find(tmp_path, "framing")  # the folder that holds the export is enough
    assert layout == "gradescope"
    assert [(s.student, s.path.parent.name) for s in found] == [("Alice Liddell", "submission_1"),
                                                               ("Bob & Carol", "submission_2")]


def test_moodle_download_folders_and_flat_files(tmp_path):
    (tmp_path / "Alice Liddell_1001_assignsubmission_file_").mkdir()
    (tmp_path / "Alice Liddell_1001_assignsubmission_file_" / "server.py").write_text(ECHO)
    (tmp_path / "Bob Li_1002_assignsubmission_file_echo_server.py").write_text(ECHO)
    (tmp_path / "Bob Li_1002_assignsubmission_file_notes.py").write_text(ECHO)
    layout, found = find(tmp_path, "framing")
    assert layout == "moodle"
    assert [(s.student, s.path.name) for s in found] == [
        ("Alice Liddell", "server.py"), ("Bob Li", "Bob Li_1002_assignsubmission_file_echo_server.py")]


def test_not_a_class(tmp_path):
    with pytest.raises(BadParameter):
        find(tmp_path / "missing", "framing")
    with pytest.raises(BadParameter, match="has none"):
        find(tmp_path, "framing")


def test_the_digest_follows_the_content(tmp_path):
    (tmp_path / "alice.py").write_text(ECHO)
    before = find(tmp_path, "framing")[1][0].digest
    assert find(tmp_path, "framing")[1][0].digest == before
    (tmp_path / "alice.py").write_text(ECHO + "# changed\n")
    assert find(tmp_path, "framing")[1][0].digest != before


def test_two_students_of_one_name_stay_two_and_links_are_not_followed(tmp_path):
    export = tmp_path / "export"
    for folder in ("submission_1", "submission_2"):
        (export / folder).mkdir(parents=True)
        (export / folder / "echo_server.py").write_text(ECHO)
    (export / "submission_metadata.yml").write_text(
        "submission_1:\n  :submitters:\n  - :name: John Smith\nsubmission_2:\n  :submitters:\n  - :name: John Smith\n")
    assert [s.student for s in find(export, "framing")[1]] == ["John Smith (submission_1)", "John Smith (submission_2)"]
    plain = tmp_path / "plain"
    (plain / "alice").mkdir(parents=True)
    (plain / "alice" / "echo_server.py").write_text(ECHO)
    (plain / "alice.py").write_text(ECHO)
    (plain / "bob").mkdir()
    (plain / "bob" / "stolen.py").symlink_to(ROOT_REFERENCE)
    found = {s.student: s for s in find(plain, "framing")[1]}
    assert sorted(found) == ["alice (alice)", "alice (alice.py)", "bob"]
    assert found["bob"].problem, "a link to a file elsewhere is not the student's program"
    (export / "submission_metadata.yml").write_text("submission_1: [unclosed\n")
    with pytest.raises(BadParameter, match="submission_metadata.yml"):
        find(export, "framing")
