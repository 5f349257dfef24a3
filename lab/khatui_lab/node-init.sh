#!/bin/sh
# khatui lab: becomes PID 1 of a lab node, then execs the host's systemd.
#
#   node-init.sh enter CGROUP NODE NODE_DIR LOWER   (run by the lab inside the node's network namespace)
#   node-init.sh boot NODE NODE_DIR LOWER           (run by `enter` as PID 1 of the new namespaces)
#
# LOWER is the overlays' lower layer: / (the host's own /etc, /usr...) or a bare lab's image.
#
# `enter` moves itself into the node's cgroup and unshares mount, pid, uts, ipc and cgroup
# namespaces (unshare's child is the node's PID 1; SIGKILL of it powers the node off). `boot` builds
# the node's file system view, in its private mount namespace only, then becomes (LOWER's) systemd.
# Paths are taken relative to NODE_DIR (the working folder) so that mounting the overlays over /home,
# /var, ... cannot hide the node's own layers, wherever the lab folder is.
set -eu

if [ "$1" = enter ]; then
  cgroup=$2
  echo $$ > "$cgroup/cgroup.procs"
  shift 2
  exec unshare --mount --pid --uts --ipc --cgroup --fork --kill-child=SIGKILL --propagation private \
    /bin/sh "$0" boot "$@"
fi

node=$2
cd "$3"
lower=${4%/}
hostname "$node"

# Mounts under /run are the host's (notably /run/netns/*, which would keep every other lab node's
# network namespace alive): detach them before /run becomes the node's own tmpfs.
for m in $(awk '$2 ~ "^/run/" {print $2}' /proc/self/mounts | sort -r); do
  umount -l "$m" 2>/dev/null || true
done

# A bare lab's image is bound (read-only) into NODE_DIR first and named relative to it, like the
# upper layers, so that the overlays mounted below cannot hide it.
if [ -n "$lower" ]; then
  mkdir -p lower
  mount --bind "$lower" lower
  mount -o remount,bind,ro lower
  lower=lower
fi
for d in etc usr var opt home srv; do
  mount -t overlay "khatui-lab-$d" -o "lowerdir=${lower:-}/$d,upperdir=upper/$d,workdir=work/$d" "/$d"
done
mount --bind root /root
mount --bind tmp /tmp
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run

# A minimal /dev of the node's own.
umount -l /dev
mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/full c 1 7
mknod -m 666 /dev/random c 1 8
mknod -m 666 /dev/urandom c 1 9
mknod -m 666 /dev/tty c 5 0
mkdir -m 0755 /dev/pts
mkdir -m 1777 /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr

# The node's own /proc (its pid namespace); /proc/sys read-only except the network part.
umount -l /proc
mount -t proc -o nosuid,nodev,noexec proc /proc
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys

# Read-only /sys (its network devices are the node's), with the node's own cgroup2 subtree.
umount -l /sys
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup

cd /
exec env -i container=khatui-lab PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /lib/systemd/systemd --log-target=console --show-status=no
