"""A learner's own programs on the nodes: the workspace's files and the programs left running detached.

What `socklab run / exec / logs / stop / programs` drive; the CLI only parses and prints. Detached programs
are kept on each node by nodes.programs, which answers in fields; the sentences are said here, in the
user's language.
"""
from pathlib import Path, PurePosixPath

from orchestrator import report
from orchestrator.errors import LabError
from orchestrator.i18n import _
from orchestrator.node import WORKSPACE


def workspace_file(given, home):
    """The path a node sees (/workspace/…) of the workspace file FILE names: as given (relative to the current
    directory), else the same path inside the workspace (`tcp_echo_client.py`, typed as the node's shell in
    /workspace would take it, or the node's own `/workspace/tcp_echo_client.py`). LabError when it is not a
    file of the workspace."""
    path = host_path(given, home)
    if not path.exists() and not path.is_relative_to(home) and not Path(given).is_absolute():
        raise LabError(_("no file {file}, neither here nor in the workspace ({home})").format(file=given, home=home))
    if not path.is_relative_to(home):
        raise LabError(_("{file} is not in the workspace ({home}): put it there, and every node sees it at "
                         "{inside}").format(file=given, home=home, inside=WORKSPACE))
    if not path.is_file():
        raise LabError(_("no file {file} in the workspace ({home})").format(file=given, home=home))
    return f"{WORKSPACE}/{path.relative_to(home).as_posix()}"


def host_path(given, home):
    """FILE on this host: as given, else, when nothing is there, inside the workspace."""
    path = Path(given).expanduser()
    if path.exists():
        return path.resolve()
    inside = PurePosixPath(given)
    if inside.is_relative_to(WORKSPACE):  # the path the nodes see, not a path of this host
        return (home / inside.relative_to(WORKSPACE)).resolve()
    if not inside.is_absolute() and (home / inside).exists():
        return (home / inside).resolve()
    return path.resolve()


def start_detached(node, argv, root=False):
    """Leave argv running on node as the learner (or root), in /workspace; what to say about it."""
    started = node.program("programs", "start", "--", *argv, user="" if root else node.learner)
    return _("started program {id} on {node} (pid {pid}): `socklab logs {node} {id}` shows its output, "
             "`socklab stop {node} {id}` stops it").format(id=started["id"], node=node.name, pid=started["pid"])


def detached(node):
    """The node's detached programs, as nodes.programs lists them."""
    return node.program("programs", "list")["programs"]


def chosen(node, number=None):
    """The detached program `number` on node (the latest when None); LabError naming the ones there are."""
    known = detached(node)
    if not known:
        raise LabError(nothing_detached(node.name))
    found = [p for p in known if number is None or p["id"] == number]
    if not found:
        raise LabError(_("no program {id} on {node}; there are {ids}").format(
            id=number, node=node.name, ids=", ".join(str(p["id"]) for p in known)))
    return found[-1]


def output_argv(program, follow=False):
    """The command that prints a detached program's output in its node (and, following, waits for more
    until the program ends)."""
    follows = ["-F", "--pid", str(program["pid"])] if follow and program["pid"] else []
    return ["tail", "-c", "+1", *follows, program["output"]]


def described(node, program):
    """One line about a detached program: its id, node, command and state."""
    return _("program {id} on {node}: {command} — {state}").format(
        id=program["id"], node=node.name, command=" ".join(program["argv"]), state=report.program_state(program))


def stop(node, number=None):
    """Stop the node's detached programs (all, or `number`), with everything they started; what to say.
    LabError when there was nothing to stop, saying why."""
    answer = node.program("programs", "stop", *([number] if number is not None else []))
    refused = answer.get("refused")
    if refused:  # the node program says why in fields; the sentence is ours, in the user's language
        raise LabError(stop_refused(node.name, number, refused, answer))
    stopped = answer["stopped"]
    return (_("stopped {ids} on {node}").format(ids=", ".join(map(str, stopped)), node=node.name) if stopped else
            _("nothing was running on {node}").format(node=node.name))


def stop_refused(node, number, refused, answer):
    """Why `socklab stop NODE ID` stopped nothing, from nodes.programs' fields: no such program, or it ended."""
    if refused == "ended":
        program = answer["program"]
        return _("program {id} ({command}) on {node} has already ended ({state}); `socklab logs {node} {id}` shows "
                 "its output").format(id=program["id"], command=" ".join(program["argv"]), node=node,
                                      state=report.program_state(program))
    known = answer.get("known") or []
    if known:
        return _("no program {id} on {node}; there are {ids}").format(id=number, node=node,
                                                                     ids=", ".join(map(str, known)))
    return nothing_detached(node)


def nothing_detached(node):
    return _("no program was started on {node} with --detach; "
             "`socklab exec --detach {node} -- CMD` starts one").format(node=node)
