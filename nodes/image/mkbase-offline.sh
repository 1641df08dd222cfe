#!/bin/sh
# Offline base: debootstrap a minimal bookworm with the node packages into a tarball for `docker import`.
# Usage: mkbase-offline.sh MIRROR OUT.tar   (run as root; the mirror comes from the host's apt sources)
set -eu
mirror=$1 out=$2
here=$(dirname "$0")
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
include=$(grep -v -e '^#' -e '^$' "$here/packages.txt" | paste -sd, -)
debootstrap --variant=minbase --include="$include" bookworm "$root" "$mirror"
# no caches or docs; no SSH host keys: each lab generates its own
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/* \
       "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/* "$root"/etc/ssh/ssh_host_*
tar -C "$root" --numeric-owner -cf "$out" .
