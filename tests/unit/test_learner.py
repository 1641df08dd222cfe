"""A learner's program on a node: one Process like any node program's, over a fake engine."""
from orchestrator.learner import LearnerProgram

RECORD = b'{"exit_code": 1, "signal": null, "stderr": "OSError: [Errno 98] Address already in use\\n"}\n'


def feed(process, *chunks):
    for chunk in chunks:
        process.node.engine.api.streams[process.exec_id].put(chunk)


def learner(tmp_path, fake_node):
    path = tmp_path / "echo.py"
    path.write_text("print('hi')\n")
    fake_node.container.put_archive = lambda where, data: True  # the file goes into the node
    return LearnerProgram(path)


def test_a_server_that_binds_is_a_ready_process_with_its_own_directory(tmp_path, fake_node):
    program = learner(tmp_path, fake_node)
    original = fake_node.start

    def start(*args):  # the sandbox says the port is bound
        process = original(*args)
        feed(process, (None, b"listening\n"))
        return process
    fake_node.start = start
    with program.serving(fake_node, 9500) as running:
        assert running.ready and running.workdir.startswith("/tmp/socklab-check-")
        argv = running.argv
        assert argv[:4] == ["python3", "-m", "nodes.sandbox", "--limit-s"] and "--listen" in argv
        assert argv[-2:] == [f"{running.workdir}/echo.py", "9500"]
        feed(running, (b'{"exit_code": 0, "stopped": true}\n', None), None)
        assert running.finish() == {"exit_code": 0, "stopped": True}


def test_a_server_that_dies_before_binding_is_a_finding_not_an_error(tmp_path, fake_node):
    program = learner(tmp_path, fake_node)
    original = fake_node.start

    def start(*args):  # the sandbox ends at once, saying its record: the program never bound the port
        process = original(*args)
        feed(process, (RECORD, None), None)
        return process
    fake_node.start = start
    with program.serving(fake_node, 9500, ready_s=1) as running:
        assert running.ready is False and not running.alive_after(0.01)
        assert running.finish()["stderr"].startswith("OSError")
