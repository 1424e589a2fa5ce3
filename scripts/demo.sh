#!/usr/bin/env bash
# make demo: start the emulator with a sample bucket and a demo RAM user/role,
# mount it at ./mnt with temporary credentials (30-second tokens, so a renewal
# shows in the log within a minute), and clean everything up on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

state=.demo
mnt=${MNT:-$PWD/mnt}
mkdir -p "$state" "$mnt"
rm -f "$state/ready.json"

if ! command -v fusermount3 >/dev/null || [ ! -e /dev/fuse ]; then
  echo "demo: FUSE is not available (need /dev/fuse and fusermount3: apt-get install fuse3)" >&2
  exit 1
fi
if grep -qs " $mnt " /proc/self/mountinfo; then
  echo "demo: $mnt is already mounted; unmount it with: fusermount3 -u $mnt" >&2
  exit 1
fi

bin/ossemu --sample --token-lifetime 30s --ready-file "$state/ready.json" >"$state/ossemu.log" 2>&1 &
emu_pid=$!
mount_pid=
cleanup() {
  trap - INT TERM EXIT
  if [ -n "$mount_pid" ] && kill -0 "$mount_pid" 2>/dev/null; then
    kill -TERM "$mount_pid" 2>/dev/null || true
    wait "$mount_pid" 2>/dev/null || true
  fi
  if grep -qs " $mnt " /proc/self/mountinfo; then fusermount3 -u -z "$mnt" || true; fi
  kill "$emu_pid" 2>/dev/null || true
  wait "$emu_pid" 2>/dev/null || true
  echo "demo: unmounted $mnt and stopped the emulator"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

for _ in $(seq 100); do
  [ -s "$state/ready.json" ] && break
  kill -0 "$emu_pid" 2>/dev/null || { cat "$state/ossemu.log" >&2; exit 1; }
  sleep 0.1
done
[ -s "$state/ready.json" ] || { echo "demo: the emulator did not start" >&2; cat "$state/ossemu.log" >&2; exit 1; }
field() { tr ',{}' '\n\n\n' <"$state/ready.json" | sed -n "s/^ *\"$1\": *\"\\(.*\\)\" *\$/\\1/p" | head -1; }

export OSS_ENDPOINT=$(field oss_url)
export OSS_REGION=$(field region)
export ALIBABA_CLOUD_STS_ENDPOINT=$(field sts_url)
export ALIBABA_CLOUD_ACCESS_KEY_ID=$(field access_key_id)
export ALIBABA_CLOUD_ACCESS_KEY_SECRET=$(field demo_access_key_secret)
export ALIBABA_CLOUD_ROLE_ARN=$(field role_arn)
export ALIBABA_CLOUD_ECS_METADATA_DISABLED=true

cat <<MSG
demo: emulator at $OSS_ENDPOINT (STS $ALIBABA_CLOUD_STS_ENDPOINT)
demo: source credential: RAM user $ALIBABA_CLOUD_ACCESS_KEY_ID, assuming $ALIBABA_CLOUD_ROLE_ARN
demo: the session policy ossmount requests:
$(bin/ossmount policy demo)
MSG

bin/ossmount -f --path-style --log-level info demo "$mnt" &
mount_pid=$!
for _ in $(seq 100); do
  grep -qs " $mnt " /proc/self/mountinfo && break
  kill -0 "$mount_pid" 2>/dev/null || { echo "demo: ossmount failed (see above)" >&2; exit 1; }
  sleep 0.1
done

cat <<MSG

demo: bucket "demo" is mounted read-only at $mnt. In another terminal, try:
  ls -l $mnt
  find $mnt | head
  cat $mnt/README.txt
  md5sum $mnt/data/*
  touch $mnt/new-file        # read-only: EROFS
Tokens last 30 s here; watch for "token renewed" below. Press Ctrl-C to unmount and stop.
MSG
wait "$mount_pid"
