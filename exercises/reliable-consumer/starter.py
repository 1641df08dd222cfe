"""reliable-consumer: consume the lab's reliable queue without losing a task.  python3 starter.py HOST PORT
reliable-consumer：消费实验环境里的可靠队列，一个任务也不丢。运行：python3 starter.py HOST PORT

Protocol (see README.md): connect a BaseManager subclass with `reliable` registered to HOST:PORT with the
authkey in /run/socklab/queue.key; `manager.reliable()` is the queue: get_many(batch, timeout) gives
[(lease_id, item)] ([] when nothing came), ack(lease_ids) completes them. For each item sleep 5 ms (the
work), then print `done ITEM`. Stop once idle for 3 s.
协议（见 README.zh-CN.md）：用一个注册了 `reliable` 的 BaseManager 子类，以 /run/socklab/queue.key 里的 authkey
连接 HOST:PORT；`manager.reliable()` 就是队列：get_many(batch, timeout) 返回 [(lease_id, item)]（什么都没等到时
返回 []），ack(lease_ids) 确认它们已经完成。每个数据先 sleep 5 ms（干活），再打印 `done ITEM`。空闲 3 s 后停止。
"""
import sys
from multiprocessing.managers import BaseManager


class Broker(BaseManager):
    pass


Broker.register("reliable")


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    with open("/run/socklab/queue.key", "rb") as f:
        broker = Broker(address=(host, port), authkey=f.read().strip())
    broker.connect()
    queue = broker.reliable()
    # TODO: take tasks, do them, print `done ITEM`, acknowledge them (when?), stop after 3 s without work
    # TODO：取任务，干活，打印 `done ITEM`，确认它们（什么时候确认？），没有活干 3 s 后停止


if __name__ == "__main__":
    main()
