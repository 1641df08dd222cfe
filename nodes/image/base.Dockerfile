# Online base: the same bookworm userland as the offline recipe (mkbase-offline.sh), from the registry.
FROM debian:bookworm-slim
COPY packages.txt /tmp/packages.txt
RUN apt-get update \
 && grep -v -e '^#' -e '^$' /tmp/packages.txt | xargs apt-get install -y --no-install-recommends \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /usr/share/doc/* /usr/share/man/* \
           /usr/share/locale/* /usr/share/info/* /tmp/packages.txt /etc/ssh/ssh_host_*
ENV LANG=C.UTF-8
