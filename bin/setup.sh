#!/usr/bin/env bash
# Installs what Snapflow needs on a fresh Debian machine: the host tools its SSM documents and
# storage backends call (rsync, btrfs-progs, mount tools, sshd for SSH hosts) and the npm packages.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

needed=()
command -v rsync >/dev/null || needed+=(rsync)
command -v mkfs.btrfs >/dev/null || needed+=(btrfs-progs)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || needed+=(openssh-server)
command -v ssh >/dev/null || needed+=(openssh-client)
command -v ip >/dev/null || needed+=(iproute2)
command -v losetup >/dev/null || needed+=(mount)
command -v mountpoint >/dev/null || needed+=(util-linux)

if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${needed[*]}; run as root, or install them with your package manager." >&2
    exit 1
  fi
  echo "setup: installing ${needed[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
