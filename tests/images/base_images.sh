#!/usr/bin/env bash
# Make local stand-ins for the base images the job Dockerfiles name, for machines that can reach
# no image registry (CI here): a busybox root for alpine, a Debian root with python3 and pip for
# python. The stand-ins offer what the Dockerfiles use (sh, python, pip, /tmp); they are not the
# real images. A python stand-in made before the report image needed pip is made again.
# Needs root, a running Docker engine, busybox-static and debootstrap.
set -euo pipefail
docker=${DOCKER:-/usr/bin/docker}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

base_of() { awk 'toupper($1) == "FROM" { print $2; exit }' "$root/containers/$1/Dockerfile"; }
have() { "$docker" image inspect "$1" >/dev/null 2>&1; }

alpine=$(base_of hello-world)
if ! have "$alpine"; then
  mkdir -p "$work/busybox/bin" "$work/busybox/etc" "$work/busybox/tmp" "$work/busybox/usr/local/bin"
  chmod 1777 "$work/busybox/tmp"
  cp /bin/busybox "$work/busybox/bin/busybox"
  for applet in sh echo cat ls id sleep; do ln -s busybox "$work/busybox/bin/$applet"; done
  echo 'nobody:x:65534:65534:nobody:/:/bin/sh' > "$work/busybox/etc/passwd"
  tar -C "$work/busybox" -c . | "$docker" import - "$alpine"
fi

python=$(base_of report)
if ! have "$python" || ! "$docker" run --rm "$python" python -m pip --version >/dev/null 2>&1; then
  # The machine's own Debian release and mirror, as apt is set up here.
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  debootstrap --variant=minbase --include=python3,python3-pip "$suite" "$work/python" >/dev/null
  ln -s /usr/bin/python3 "$work/python/usr/local/bin/python"
  rm -rf "$work/python/var/cache/apt/archives/"*.deb "$work/python/usr/share/doc" \
    "$work/python/usr/share/man" "$work/python/usr/share/locale"
  tar -C "$work/python" -c . | "$docker" import - "$python"
fi
echo "base images ready: $alpine $python"
