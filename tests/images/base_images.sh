#!/usr/bin/env bash
# Make local stand-ins for the base images the job Dockerfiles name, for machines that can reach
# no image registry (CI here): a busybox root for alpine, a Debian root with python3 and pip for
# python. The stand-ins offer what the Dockerfiles use (sh, python, pip, /tmp); they are not the
# real images, and they do not pretend to be:
# - The Dockerfiles name each base as name:tag@sha256:<digest>. Docker resolves such a reference
#   locally only through an image's RepoDigests, which only a pull or a push records (an imported
#   image has none), and otherwise asks the registry: no local image can stand in for a pinned
#   base, so the tests build from a copy of the Dockerfile that names the stand-in instead.
# - Each stand-in is named stand-in.invalid/<path>:<tag> (.invalid never resolves: RFC 2606), and
#   labelled longjobs.stand-in-for=<the pinned reference>; one made for another pin is made again.
# - An image under the upstream name without a RepoDigest was not pulled: it is a stand-in made
#   by an earlier version of this script, and is untagged.
# Needs root, a running Docker engine, busybox-static and debootstrap.
set -euo pipefail
docker=${DOCKER:-/usr/bin/docker}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base_of() { awk 'toupper($1) == "FROM" { print $2; exit }' "$root/containers/$1/Dockerfile"; }
stand_in() { local name=${1%@*}; echo "stand-in.invalid/${name#*/}"; }
made_for() { "$docker" image inspect --format '{{index .Config.Labels "longjobs.stand-in-for"}}' "$1" 2>/dev/null; }
import_stand_in() { # <root folder> <pinned reference>
  tar -C "$1" -c . | "$docker" import \
    --change "LABEL longjobs.stand-in-for=$2" \
    --change "LABEL org.opencontainers.image.description=\"a local stand-in for $2, not that image\"" \
    - "$(stand_in "$2")" >/dev/null
}
untag_earlier_stand_in() {
  local name=${1%@*}
  if [ "$("$docker" image inspect --format '{{len .RepoDigests}}' "$name" 2>/dev/null)" = 0 ]; then
    "$docker" rmi "$name" >/dev/null
  fi
}

alpine=$(base_of hello-world)
untag_earlier_stand_in "$alpine"
if [ "$(made_for "$(stand_in "$alpine")")" != "$alpine" ]; then
  mkdir -p "$work/busybox/bin" "$work/busybox/etc" "$work/busybox/tmp" "$work/busybox/usr/local/bin"
  chmod 1777 "$work/busybox/tmp"
  cp /bin/busybox "$work/busybox/bin/busybox"
  for applet in sh echo cat ls id sleep; do ln -s busybox "$work/busybox/bin/$applet"; done
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' > "$work/busybox/etc/passwd"
  import_stand_in "$work/busybox" "$alpine"
fi

python=$(base_of report)
untag_earlier_stand_in "$python"
if [ "$(made_for "$(stand_in "$python")")" != "$python" ] \
  || ! "$docker" run --rm "$(stand_in "$python")" python -m pip --version >/dev/null 2>&1; then
  # The machine's own Debian release and mirror, as apt is set up here.
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  debootstrap --variant=minbase --include=python3,python3-pip "$suite" "$work/python" >/dev/null
  ln -s /usr/bin/python3 "$work/python/usr/local/bin/python"
  # What the official slim images leave out too (apt's package lists are a quarter of the root):
  # a smaller root is a shorter copy for each layer and container on the vfs storage driver.
  rm -rf "$work/python/var/cache/apt/archives/"*.deb "$work/python/var/lib/apt/lists/"* \
    "$work/python/usr/share/doc" "$work/python/usr/share/man" "$work/python/usr/share/locale"
  import_stand_in "$work/python" "$python"
fi
echo "stand-ins ready: $(stand_in "$alpine") for $alpine, $(stand_in "$python") for $python"
