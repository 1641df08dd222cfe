#!/bin/sh
# Offline base: debootstrap a minimal bookworm with the node packages into a tarball for `docker import`.
# Usage: mkbase-offline.sh MIRROR OUT.tar [PACKAGES]   (run as root; the mirror comes from the host's apt
# sources; PACKAGES defaults to packages.txt beside this script, /dev/null gives a bare minbase: CI's
# stand-in for debian:bookworm-slim, on which the online recipe is built and compared)
set -eu
mirror=$1 out=$2
here=$(dirname "$0")
packages=${3:-$here/packages.txt}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
include=$(grep -v -e '^#' -e '^$' "$packages" | paste -sd, - || true)
debootstrap --variant=minbase ${include:+--include="$include"} bookworm "$root" "$mirror"
# no caches or docs; no SSH host keys: each lab generates its own
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb "$root"/usr/share/doc/* \
       "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/usr/share/info/* "$root"/etc/ssh/ssh_host_*
tar -C "$root" --numeric-owner -cf "$out" .
