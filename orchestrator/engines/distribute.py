"""The node image on every machine of a swarm, without a registry (save → load, machine by machine) or through
one (SOCKLAB_REGISTRY: pushed once, pulled by each machine's engine when its task starts)."""
import docker.errors

from orchestrator.engines import UNREACHABLE, unreachable
from orchestrator.errors import ImageBuildFailed
from orchestrator.i18n import _

CHUNK = 1 << 20


def streamed(builder, tag, machines, progress):
    """tag on every machine, as the builder holds it: copied where it is missing or names another image."""
    source = builder.images.get(tag)
    for machine in machines:
        try:
            if machine.client.images.get(tag).id == source.id:
                continue
        except docker.errors.ImageNotFound:
            pass
        except UNREACHABLE as exc:
            raise unreachable(machine.name, exc) from None
        copy(source, tag, builder, machine, progress)
    return tag


def copy(source, tag, builder, machine, progress):
    """Stream the image from the builder's engine into the machine's, with progress in MB."""
    size, sent = source.attrs.get("Size") or 1, 0

    def chunks():
        nonlocal sent
        for chunk in builder.api.get_image(tag, chunk_size=CHUNK):
            sent += len(chunk)
            progress(_("image {tag} → {machine}: {sent} of {size} MB").format(
                tag=tag, machine=machine.name, sent=sent >> 20, size=size >> 20))
            yield chunk
    try:
        for event in machine.client.api.load_image(chunks()):  # the engine loads while this is read
            if "error" in event:
                raise ImageBuildFailed(_("loading {tag} into {machine} failed: {error}").format(
                    tag=tag, machine=machine.name, error=event["error"]))
    except UNREACHABLE as exc:
        raise unreachable(machine.name, exc) from None


def pushed(builder, tag, registry, progress):
    """The image pushed to the registry, under the name every machine pulls it by."""
    remote = f"{registry}/{tag}"
    builder.images.get(tag).tag(remote)
    for event in builder.api.push(remote, stream=True, decode=True):
        if "error" in event:
            raise ImageBuildFailed(_("pushing {tag} to {registry} failed: {error}").format(
                tag=tag, registry=registry, error=event["error"]))
        if "status" in event:
            progress(_("image {tag} → {registry}: {status}").format(tag=tag, registry=registry,
                                                                  status=event["status"]))
    return remote
