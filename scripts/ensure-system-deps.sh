#!/usr/bin/env bash
# Installs the Debian packages Corral's runtime and its tests use, only when missing.
# Runs as root on Debian 12 (see README). Idempotent and quiet when nothing is missing.
set -euo pipefail

# Runtime parts: tini (--init), util-linux (unshare), iproute2, gcc + libc6-dev (the exec helper).
# nftables: egress NAT and published ports.
# Test/bench parts: busybox-static (test rootfs), umoci + skopeo (build test images),
# runc (the reference in the benchmark), docker-registry (a real registry to pull from),
# apache2-utils (htpasswd -B: the password file of the test registry behind Basic auth),
# mmdebstrap (a real Debian image: device nodes, file capabilities), attr + libcap2-bin
# (setfattr, setcap, getcap: xattrs in test layers), chromium (the browser tests in e2e/,
# driven by playwright-core), postgresql (the web's tests on PostgreSQL: each starts a private
# cluster of its own; the system one is never started), redis-server (several web processes
# through socket.io's Redis adapter: the cluster test and the fleet benchmark start their own).
packages=(util-linux tini iproute2 nftables gcc libc6-dev busybox-static umoci skopeo runc docker-registry apache2-utils mmdebstrap attr libcap2-bin chromium postgresql redis-server)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "corral: missing Debian packages (${missing[*]}); run as root or: apt-get install ${missing[*]}" >&2
  exit 1
fi
echo "corral: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
