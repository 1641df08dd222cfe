"""Process trees as the lessons saw them with ps: children and their parent, a zombie, an orphan adopted by PID 1."""
import matplotlib.pyplot as plt

from orchestrator.pictures._draw import COLORS, svg


def tree(axes, nodes, edges, title):
    """nodes: {name: (x, y, label, state)}; edges: [(parent, child)]. A box per process, an arrow per edge."""
    for parent, child in edges:
        (x1, y1, *_), (x2, y2, *_) = nodes[parent], nodes[child]
        axes.annotate("", (x2, y2 + 0.12), (x1, y1 - 0.12), arrowprops={"arrowstyle": "->", "color": "#333333"})
    for name, (x, y, label, state) in nodes.items():
        zombie, gone = state == "Z", state == "gone"
        axes.text(x, y, f"{label}\n{state}", ha="center", va="center", fontsize=8,
                  bbox={"boxstyle": "round", "facecolor": "white" if zombie or gone else COLORS[1],
                        "hatch": "xx" if zombie else "", "edgecolor": "#D55E00" if zombie else "#333333",
                        "linestyle": "--" if gone else "-"})
    axes.set(xlim=(-1, 1 + max(x for x, *_ in nodes.values())), ylim=(-0.6, 2.6), title=title)
    axes.axis("off")


def orphan(facts):
    figure, (before, after) = plt.subplots(1, 2, figsize=(8, 2.8))
    parent, child = facts["parent"], facts["child"]
    tree(before, {"1": (1, 2, "PID 1", "init"), "p": (1, 1, f"parent {parent}", "R"), "c": (1, 0, f"child {child}", "S")},
         [("1", "p"), ("p", "c")], "while the parent runs")
    tree(after, {"1": (1, 2, "PID 1", "init"), "p": (0, 1, f"parent {parent}", "gone"),
                 "c": (1.5, 1, f"child {child}", facts["child_after"]["stat"])}, [("1", "c")], "after the parent ended")
    return svg(figure, f"Orphan: child {child} of parent {parent}; after the parent ended its ppid is "
                       f"{facts['child_after']['ppid']} (PID 1, {facts['pid1']}).")


def zombie(facts):
    figure, (before, after) = plt.subplots(1, 2, figsize=(8, 2.6))
    ppid, child = facts["before_join"]["ppid"], facts["child"]
    tree(before, {"p": (1, 2, f"parent {ppid}", "S"), "c": (1, 1, f"child {child}", facts["before_join"]["stat"])},
         [("p", "c")], "the child has ended, not yet joined")
    tree(after, {"p": (1, 2, f"parent {ppid}", "S"), "c": (1, 1, f"child {child}", "gone")}, [], "after join()")
    return svg(figure, f"Zombie: child {child} in state {facts['before_join']['stat']} until its parent joined it; "
                       "then gone from ps.")


def children(facts):
    figure, axes = plt.subplots(figsize=(8, 2.6))
    kids = facts["children"]
    nodes = {"p": (len(kids) / 2 - 0.5, 2, f"parent {facts['parent']}", "R")}
    for n, (pid, code) in enumerate(zip(kids, facts["exitcodes"])):
        nodes[str(pid)] = (n, 0.5, f"child {pid}\nppid {facts['ps_ppids'][str(pid)]}", f"exit {code}")
    tree(axes, nodes, [("p", str(pid)) for pid in kids], "children seen with ps, then joined")
    return svg(figure, f"Parent {facts['parent']} and its children {kids} (ppid {facts['parent']} each); exit codes "
                       f"{facts['exitcodes']} (-15: terminated).")


def pid1(facts):
    """Orphaned zombies under a PID 1 that reaps (docker's init) and one that does not (sleep)."""
    figure, (good, bad) = plt.subplots(1, 2, figsize=(9, 2.8))
    count = facts["orphans"]
    for axes, key, name, title in ((good, "zombies_with_init", facts["pid1_with_init"], "init: true"),
                                   (bad, "zombies_without_init", facts["pid1_without_init"], "PID 1 is sleep")):
        zombies = facts[key]
        nodes = {"pid1": ((count - 1) / 2, 2, f"PID 1\n{name.split()[0].rsplit('/', 1)[-1]}", "")}
        for n in range(count):
            nodes[str(n)] = (n, 0.5, "orphan", "Z" if n < zombies else "gone")
        tree(axes, nodes, [("pid1", str(n)) for n in range(min(zombies, count))],
             f"{title}: {zombies} of {count} orphans left as zombies")
    return svg(figure, f"{count} orphans that ended: with init as PID 1, {facts['zombies_with_init']} zombies left; "
                       f"with sleep as PID 1, {facts['zombies_without_init']} zombies left (hatched).")


DRAW = {"orphan": orphan, "zombie": zombie, "children": children, "pid1-reaps": pid1}
