"""compose.yaml as a swarm stack: the topology stays written once, and this says what a swarm needs instead.

- one swarm service per node (server, client1, client2, worker1…), pinned to its machine, so that a node's
  name, machine and restarts mean what they mean under Compose; each keeps its service's name as a network
  alias (`client` resolves to both clients) and takes its node's name as hostname;
- an attachable overlay network (VXLAN between machines), with the tasks' own addresses (dnsrr);
- the per-lab keys as swarm secrets, at the paths compose.yaml mounts them;
- no health check (swarm would replace a paused node as unhealthy; readiness is the boot line anyway),
  and no restart by swarm: a killed node stays down until the lesson restarts it.
"""
import copy
import os
import re

import yaml

from orchestrator import labels

VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
VERSION = "3.8"


def interpolate(value, variables):
    """${NAME}, ${NAME:-default} and ${NAME:?error} in every string of value, from variables."""
    if isinstance(value, str):
        def one(match):
            default = re.match(r"\$\{\w+:?-(.*)\}", match.group())
            return variables.get(match[1]) or (default[1] if default else "")
        return VARIABLE.sub(one, value)
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    return value


def secret_name(path):
    """execd.key → execd"""
    return path.rsplit("/", 1)[-1].split(".")[0]


def stack(compose_text, project, variables, placement, secrets_dir):
    """The stack file (a dict) of compose.yaml for lab `project`: placement is [(name, service, number,
    machine_id)], one per node; variables fill compose.yaml's ${…}; keys are files under secrets_dir."""
    compose = interpolate(yaml.safe_load(compose_text), variables)
    services, secrets = {}, {}
    for name, service, number, machine_id in placement:
        spec = {k: copy.deepcopy(v) for k, v in compose["services"][service].items()
                if k not in ("healthcheck", "networks", "volumes")}
        spec["hostname"] = name
        spec["labels"] = {**spec.get("labels", {}), labels.SERVICE: service, labels.NUMBER: str(number)}
        spec["networks"] = {network: {"aliases": [service]} for network in compose["services"][service]["networks"]}
        spec["volumes"], spec["secrets"] = [], []
        for volume in compose["services"][service].get("volumes", []):
            source, target = volume.split(":")[:2]
            if source.startswith(f"{secrets_dir}/") and not os.path.isdir(source):  # a key, not a folder kept there
                secrets[secret_name(source)] = {"file": source, "name": f"{project}_{secret_name(source)}"}
                spec["secrets"].append({"source": secret_name(source), "target": target, "mode": 0o444})
            else:
                spec["volumes"].append(volume)
        spec["deploy"] = {"endpoint_mode": "dnsrr", "restart_policy": {"condition": "none"},
                          "placement": {"constraints": [f"node.id == {machine_id}"]}}
        services[name] = spec
    networks = {name: {"driver": "overlay", "attachable": True,
                       **({"ipam": network["ipam"]} if network.get("ipam") else {})}
                for name, network in compose["networks"].items()}
    return {"version": VERSION, "services": services, "networks": networks, "secrets": secrets}


def dump(stack_dict):
    return yaml.safe_dump(stack_dict, sort_keys=False)
