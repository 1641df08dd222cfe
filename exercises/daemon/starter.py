"""daemon: a daemon child, an ordinary child, a parent that waits for one of them.  python3 starter.py
daemon：一个守护进程子进程、一个普通子进程，以及一个等待其中一个的父进程。运行：python3 starter.py

Protocol (see README.md): one daemon child prints `tick` every 0.2 s forever; one ordinary child works 1 s
then prints `done`; the parent joins the ordinary child and prints `main: end`.
协议（见 README.zh-CN.md）：一个守护进程子进程每 0.2 s 打印一次 `tick`，永不停止；一个普通子进程工作 1 s 后
打印 `done`；父进程 join 这个普通子进程，然后打印 `main: end`。
"""
import time
from multiprocessing import Process


def ticker():
    while True:
        print("tick", flush=True)
        time.sleep(0.2)


def worker():
    time.sleep(1)
    print("done", flush=True)


def main():
    # TODO: start both children (which one is the daemon, and when must that be said?), wait for the right one
    # TODO：开启两个子进程（哪个是守护进程？必须在什么时候设置？），并等待该等的那一个
    print("main: end", flush=True)


if __name__ == "__main__":
    main()
