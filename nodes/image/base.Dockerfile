# Online base: the same bookworm userland as the offline recipe (mkbase-offline.sh), from the registry.
# DEBIAN: debian:bookworm-slim from a registry, or CI's local stand-in for it (Images.online_base).
ARG DEBIAN=debian:bookworm-slim
FROM ${DEBIAN}
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
 && grep -v -e '^#' -e '^$' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/share/doc/* /usr/share/man/* \
           /usr/share/locale/* /usr/share/info/* /tmp/packages.txt /etc/ssh/ssh_host_*
ENV LANG=C.UTF-8
