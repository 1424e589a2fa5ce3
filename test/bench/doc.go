// Package bench is the `make bench` suite: each benchmark mounts bin/ossmount
// against the in-process emulator, runs one workload through the mount and
// the same workload with a direct client on the same emulator, and adds a
// row (ratio, DESIGN.md target, OSS requests, peak RSS) to the table that
// TestMain prints at the end (and writes to $BENCH_OUT when set).
//
// Every benchmark does its work once whatever b.N is; run with -benchtime 1x
// (`make bench`). OSSMOUNT_BIN names the ossmount binary (built from source
// when unset); the emulator runs in-process so that the benchmarks can shape
// the network and read its request counters between runs. BENCH_OUT, if set,
// receives a copy of the table.
//
// A sequential read through a mount is stopped after 20 s and rated on the
// bytes read by then (the row says so), so that a mount without read-ahead
// cannot push `make bench` past 10 minutes. Where s3fs or rclone are
// installed, BenchmarkOtherMounts mounts the same emulator with them.
//
// Fairness: the buckets are public-read, so the direct clients send
// anonymous requests while the mount signs every request with an STS token
// and the emulator verifies that signature. That costs the mount a little
// CPU on both sides and never helps it, so a ratio here is, if anything,
// pessimistic for ossmount.
package bench
