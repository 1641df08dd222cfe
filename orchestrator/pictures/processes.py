"""Process trees as the lessons saw them with ps: children and their parent, a zombie, an orphan adopted by PID 1."""
import matplotlib.pyplot as plt

from orchestrator.i18n import _
from orchestrator.pictures._draw import COLORS, svg


def tree(axes, nodes, edges, title):
    """nodes: {name: (x, y, label, state)}; edges: [(parent, child)]. A box per process, an arrow per edge."""
    for parent, child in edges:
        (x1, y1, *__), (x2, y2, *__) = nodes[parent], nodes[child]
        axes.annotate("", (x2, y2 + 0.12), (x1, y1 - 0.12), arrowprops={"arrowstyle": "->", "color": "#333333"})
    for name, (x, y, label, state) in nodes.items():
        zombie, gone = state == "Z", state == "gone"
        shown = _("gone") if gone else state  # "gone" is data here, compared above; shown in the reader's words
        axes.text(x, y, f"{label}\n{shown}", ha="center", va="center", fontsize=8,
                  bbox={"boxstyle": "round", "facecolor": "white" if zombie or gone else COLORS[1],
                        "hatch": "xx" if zombie else "", "edgecolor": "#D55E00" if zombie else "#333333",
                        "linestyle": "--" if gone else "-"})
    axes.set(xlim=(-1, 1 + max(x for x, *__ in nodes.values())), ylim=(-0.6, 2.6), title=title)
    axes.axis("off")


def orphan(facts):
    figure, (before, after) = plt.subplots(1, 2, figsize=(8, 2.8))
    parent, child = facts["parent"], facts["child"]
    parent_label, child_label = _("parent {pid}").format(pid=parent), _("child {pid}").format(pid=child)
    tree(before, {"1": (1, 2, "PID 1", "init"), "p": (1, 1, parent_label, "R"), "c": (1, 0, child_label, "S")},
         [("1", "p"), ("p", "c")], _("while the parent runs"))
    tree(after, {"1": (1, 2, "PID 1", "init"), "p": (0, 1, parent_label, "gone"),
                 "c": (1.5, 1, child_label, facts["child_after"]["stat"])}, [("1", "c")], _("after the parent ended"))
    return svg(figure, _("Orphan: child {child} of parent {parent}; after the parent ended its ppid is {ppid} "
                         "(PID 1, {pid1}).").format(child=child, parent=parent, ppid=facts["child_after"]["ppid"],
                                                    pid1=facts["pid1"]))


def zombie(facts):
    figure, (before, after) = plt.subplots(1, 2, figsize=(8, 2.6))
    ppid, child = facts["before_join"]["ppid"], facts["child"]
    parent_label, child_label = _("parent {pid}").format(pid=ppid), _("child {pid}").format(pid=child)
    tree(before, {"p": (1, 2, parent_label, "S"), "c": (1, 1, child_label, facts["before_join"]["stat"])},
         [("p", "c")], _("the child has ended, not yet joined"))
    tree(after, {"p": (1, 2, parent_label, "S"), "c": (1, 1, child_label, "gone")}, [], _("after join()"))
    return svg(figure, _("Zombie: child {child} in state {state} until its parent joined it; then gone from "
                         "ps.").format(child=child, state=facts["before_join"]["stat"]))


def children(facts):
    figure, axes = plt.subplots(figsize=(8, 2.6))
    kids = facts["children"]
    nodes = {"p": (len(kids) / 2 - 0.5, 2, _("parent {pid}").format(pid=facts["parent"]), "R")}
    for n, (pid, code) in enumerate(zip(kids, facts["exitcodes"])):
        nodes[str(pid)] = (n, 0.5, _("child {pid}\nppid {ppid}").format(pid=pid, ppid=facts["ps_ppids"][str(pid)]),
                           _("exit {code}").format(code=code))
    tree(axes, nodes, [("p", str(pid)) for pid in kids], _("children seen with ps, then joined"))
    return svg(figure, _("Parent {parent} and its children {children} (ppid {parent} each); exit codes {exitcodes} "
                         "(-15: terminated).").format(parent=facts["parent"], children=kids,
                                                      exitcodes=facts["exitcodes"]))


def pid1(facts):
    """Orphaned zombies under a PID 1 that reaps (docker's init) and one that does not (sleep)."""
    figure, (good, bad) = plt.subplots(1, 2, figsize=(9, 2.8))
    count = facts["orphans"]
    for axes, key, name, title in ((good, "zombies_with_init", facts["pid1_with_init"], "init: true"),
                                   (bad, "zombies_without_init", facts["pid1_without_init"], _("PID 1 is sleep"))):
        zombies = facts[key]
        nodes = {"pid1": ((count - 1) / 2, 2, f"PID 1\n{name.split()[0].rsplit('/', 1)[-1]}", "")}
        for n in range(count):
            nodes[str(n)] = (n, 0.5, _("orphan"), "Z" if n < zombies else "gone")
        tree(axes, nodes, [("pid1", str(n)) for n in range(min(zombies, count))],
             _("{title}: {zombies} of {count} orphans left as zombies").format(title=title, zombies=zombies,
                                                                                count=count))
    return svg(figure, _("{count} orphans that ended: with init as PID 1, {with_init} zombies left; with sleep as "
                         "PID 1, {without_init} zombies left (hatched).").format(
        count=count, with_init=facts["zombies_with_init"], without_init=facts["zombies_without_init"]))


DRAW = {"orphan": orphan, "zombie": zombie, "children": children, "pid1-reaps": pid1}
