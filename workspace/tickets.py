"""抢票 — the ticket race of the course, WITHOUT a lock: run it and see one ticket sold many times.
抢票——课程里抢票的竞态条件，没有加锁：运行它，看一张票被卖出好多次。

    socklab run worker1 workspace/tickets.py 10

Each buyer is a process (multiprocessing.Process): it reads the count ("search"), waits 0.1 s (the
network), then buys if a ticket is left and writes the count back. They all read 1 before any of them
writes 0: oversold. The fix is a 互斥锁: lock = Lock(), and lock.acquire() / lock.release() around the
read-wait-write, so that it runs for one buyer at a time (slower, but right).
每个购票者是一个进程（multiprocessing.Process）：它读出票数（“查票”），等 0.1 s（模拟网络延迟），如果还有票就买下，
并把票数写回去。它们都在任何一个写入 0 之前读到了 1：卖超了。解决办法是互斥锁：lock = Lock()，在“读-等待-写”
前后加上 lock.acquire() / lock.release()，让这段代码一次只为一个购票者运行（慢一些，但结果正确）。
"""
import json
import os
import sys
import time
from multiprocessing import Process

DB = f"/tmp/tickets-{os.getuid()}.json"


def search(name):
    with open(DB) as f:
        print(f"{name} sees {json.load(f)['count']} ticket(s) left", flush=True)


def buy(name):
    with open(DB) as f:
        count = json.load(f)["count"]
    # the network
    # 模拟网络延迟
    time.sleep(0.1)
    if count > 0:
        # written aside, then renamed: a reader never sees half a file
        # 先写到旁边的文件，再改名：读的人永远不会读到写了一半的文件
        aside = f"{DB}.{os.getpid()}"
        with open(aside, "w") as f:
            json.dump({"count": count - 1}, f)
        os.replace(aside, DB)
        print(f"{name} bought a ticket", flush=True)
    else:
        print(f"{name}: sold out", flush=True)


def task(name):
    search(name)
    buy(name)


if __name__ == "__main__":
    buyers = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    with open(DB, "w") as f:
        json.dump({"count": 1}, f)
    processes = [Process(target=task, args=(f"buyer {i}",)) for i in range(buyers)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    print(f"pid {os.getpid()}: one ticket, {buyers} buyers — see how many bought it")
