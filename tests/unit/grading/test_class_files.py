"""What an instructor takes away: results kept by what they depend on, the CSV, the --json dict, the class page
with its matrix and common mistakes, Gradescope files; similar pairs flagged, the rest not."""
import csv
import json
from pathlib import Path

from orchestrator.grading import similarity
from orchestrator.grading.grader import Outcome
from orchestrator.grading.labs import default_count, free_subnets
from orchestrator.grading.store import Store, keep_seed, last_seed
from orchestrator.grading.submissions import Submission, find
from orchestrator.grading.summary import write_class
from orchestrator.result import Result, Step

CLASSES = Path(__file__).resolve().parents[1] / "classes"


def check(student, failed=(), hint="粘包: one recv() is not one message."):
    steps = [Step(key, key.replace("-", " "), key not in failed, "e", "o", "w", hint=hint if key in failed else "")
             for key in ("starts", "sizes", "batched", "nothing-left")]
    return Result("framing", {"exercise": "framing", "student": student, "seed": 7}, steps, kind="check")


def unreadable(student):
    return Result("framing", {"student": student}, [Step("program", "the program can be read", False, "e",
                                                         "line 1: invalid syntax", "w", hint="hand in Python")],
                  kind="check")


def test_a_result_survives_the_store_and_keys_follow_what_they_depend_on(tmp_path):
    program = tmp_path / "alice.py"
    program.write_text("print(1)\n")
    alice = Submission("alice", program)
    store = Store("framing", "v1", "img", 7, "en", root=tmp_path / "store")
    assert store.get(alice) is None
    store.put(alice, check("alice", failed=("sizes",)))
    kept = store.get(alice)
    assert kept.to_dict() == check("alice", failed=("sizes",)).to_dict() | {"started": kept.started}
    for other in (Store("framing", "v2", "img", 7, "en", root=tmp_path / "store"),
                  Store("framing", "v1", "img2", 7, "en", root=tmp_path / "store"),
                  Store("framing", "v1", "img", 8, "en", root=tmp_path / "store"),
                  Store("framing", "v1", "img", 7, "zh", root=tmp_path / "store")):
        assert other.get(alice) is None, "another version, image, seed or language grades again"
    program.write_text("print(2)\n")
    assert store.get(alice) is None, "a changed program is graded again"
    next(store.folder.glob("*.json")).write_text("{half")
    program.write_text("print(1)\n")
    assert store.get(alice) is None, "a damaged file is graded again, not an error"
    assert last_seed("framing", root=tmp_path / "store") is None
    keep_seed("framing", 41, root=tmp_path / "store")
    assert last_seed("framing", root=tmp_path / "store") == 41


def outcomes():
    return [Outcome(Submission("bob", Path("bob.py")), check("bob", failed=("sizes", "batched"))),
            Outcome(Submission("alice", Path("alice.py")), check("alice")),
            Outcome(Submission("carol", Path("carol.py")), check("carol", failed=("batched",))),
            Outcome(Submission("dan", problem="no Python file"), unreadable("dan")),
            Outcome(Submission("erin/../x", Path("erin.py")), error="on lab1: gone; again on lab2: gone")]


def test_the_class_folder(tmp_path):
    info = {"exercise": "framing", "seed": 7, "image": "img", "exercise_version": "v1", "socklab": "0.1.0",
            "started": "now", "duration_s": 3.0, "labs": 2, "engine": "compose", "submissions": "class/",
            "layout": "plain", "graded": 4, "passed": 1, "similarity": False, "similarity_threshold": 70}
    data = write_class(tmp_path, info, outcomes(), [], "en")
    students = {s["student"]: s for s in data["students"]}
    assert [s["student"] for s in data["students"]] == ["alice", "bob", "carol", "dan", "erin/../x"]
    assert students["bob"] | {} == {**students["bob"], "score": 2, "max_score": 4, "passed": False,
                                    "failed_steps": ["sizes", "batched"]}
    assert students["dan"]["score"] == 0 and students["dan"]["max_score"] == 4, "out of the class's steps"
    assert students["erin/../x"]["error"].startswith("on lab1") and students["erin/../x"]["report"] is None
    assert data["seed"] == 7 and data["similar"] == []
    rows = list(csv.reader((tmp_path / "class.csv").open()))
    assert rows[0] == ["student", "score", "max_score", "passed", "starts", "sizes", "batched", "nothing-left"]
    assert rows[2] == ["bob", "2", "4", "0", "1", "0", "0", "1"]
    assert rows[4] == ["dan", "0", "4", "0", "0", "0", "0", "0"], "a program that cannot be read fails every step"
    assert rows[5] == ["erin/../x", "0", "0", "0", "", "", "", ""], "the lab's failure is no mark"
    results = json.loads((tmp_path / "gradescope" / "bob.json").read_text())
    assert results["score"] == 2.0 and len(results["tests"]) == 4
    assert (tmp_path / "students" / "erin_.._x").exists() is False  # never graded: no page
    assert json.loads((tmp_path / "class.json").read_text())["image"] == "img"
    page = (tmp_path / "index.html").read_text()
    assert 'href="students/bob/index.html#sizes"' in page
    assert "2 of 5 students:" in page and "粘包" in page, "the hint that fired for most students, counted once each"
    assert "on lab1: gone" in page


def test_similar_pairs_are_flagged_and_the_rest_not():
    layout, submissions = find(CLASSES / "similar", "framing")
    pairs = similarity.similar(submissions, "framing")
    assert [(p["a"], p["b"]) for p in pairs] == [("alice", "carol")], "carol is alice's with names changed"
    assert pairs[0]["score"] >= similarity.THRESHOLD and "<mark>" in pairs[0]["a_html"]


def test_the_starter_file_does_not_count(tmp_path):
    starter = (Path(similarity.HOME) / "framing" / "starter.py").read_text()
    for student in ("ann", "ben"):
        (tmp_path / f"{student}.py").write_text(starter + f"\n# {student} did nothing more\n")
    assert similarity.similar(find(tmp_path, "framing")[1], "framing") == []


def test_the_default_number_of_labs():
    gib = 1 << 30
    assert default_count(100, cpus=2, memory=24 * gib) == 3, "one more than the cores: checks mostly wait"
    assert default_count(100, cpus=16, memory=24 * gib) == 8
    assert default_count(100, cpus=4, memory=2 * gib) == 2, "no more than the memory holds"
    assert default_count(2, cpus=8, memory=24 * gib) == 2 and default_count(0, cpus=2, memory=0) == 1


def test_grading_subnets_avoid_the_engines_networks():
    class Network:
        def __init__(self, subnet):
            self.attrs = {"IPAM": {"Config": [{"Subnet": subnet}]}}

    class Client:
        class networks:
            @staticmethod
            def list():
                return [Network("10.214.5.0/24"), Network("172.17.0.0/16")]
    chosen = free_subnets(Client, 250 - 1, "socklab")
    assert "10.214.5.0/24" not in chosen and len(set(chosen)) == 249


def test_the_class_page_in_chinese(tmp_path):
    info = {"exercise": "framing", "seed": 7, "image": "img", "exercise_version": "v1", "socklab": "0.1.0",
            "started": "now", "duration_s": 3.0, "labs": 2, "engine": "compose", "submissions": "class/",
            "layout": "plain", "graded": 4, "passed": 1, "similarity": True, "similarity_threshold": 70}
    write_class(tmp_path, info, outcomes(), [], "zh")
    page = (tmp_path / "index.html").read_text()
    assert 'lang="zh-CN"' in page and "每个学生，每个步骤" in page and "全班的常见错误" in page
    assert "Every student" not in page
