#!/usr/bin/env bash
# Installs what Snapflow needs on a fresh Debian machine: the host tools its SSM documents and
# storage backends call (rsync, mount tools, btrfs-progs for the btrfs backend), ssh and sshd for SSH
# hosts and their test harness (iproute2 for its network namespaces), and the npm packages.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
# mkfs.btrfs, losetup and modprobe live in sbin, which a non-login root shell may lack.
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

needed=()
command -v rsync >/dev/null || needed+=(rsync)
command -v mountpoint >/dev/null || needed+=(util-linux)
command -v losetup >/dev/null || needed+=(mount)
command -v mkfs.btrfs >/dev/null || needed+=(btrfs-progs)
command -v modprobe >/dev/null || needed+=(kmod)
# SSH hosts: the runner needs ssh; the test harness runs an sshd per network namespace.
command -v ssh >/dev/null || needed+=(openssh-client)
[ -x /usr/sbin/sshd ] || needed+=(openssh-server)
command -v ip >/dev/null || needed+=(iproute2)

if [ ${#needed[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing ${needed[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
  elif ! command -v rsync >/dev/null; then
    echo "setup: rsync is missing; install it (e.g. sudo apt-get install rsync) and run again." >&2
    exit 1
  else
    echo "setup: not root, so not installing ${needed[*]}; the engine will use the dir backend."
  fi
fi

# Stock Debian kernels build btrfs as a module; the engine looks for it in /proc/filesystems.
if [ "$(id -u)" -eq 0 ] && ! grep -qw btrfs /proc/filesystems; then
  modprobe btrfs 2>/dev/null || echo "setup: btrfs is not available in this kernel; the engine will use the dir backend."
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
