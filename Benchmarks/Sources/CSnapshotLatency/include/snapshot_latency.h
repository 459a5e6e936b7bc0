#ifndef C_SNAPSHOT_LATENCY_H
#define C_SNAPSHOT_LATENCY_H

// What the SnapshotLatency harness needs from C and Swift's Glibc module does not expose (it needs
// _GNU_SOURCE or has no libc wrapper): thread ids, thread names, per-thread scheduling and I/O
// classes, and sync_file_range. Only the harness's own prototypes use the scheduling calls.

#include <stdint.h>

/// The calling thread's kernel id.
int32_t snapshot_latency_gettid(void);

/// A small number the harness keeps per thread (thread-local; -1 until set): which engine thread
/// the calling thread is, worked out once at its first file system call.
int snapshot_latency_thread_tag(void);
void snapshot_latency_set_thread_tag(int tag);

/// Sets the calling thread's kernel name (at most 15 bytes are kept). Returns 0, or -1.
int snapshot_latency_set_thread_name(const char *name);

/// The nice value of thread `tid` (0: the calling thread); INT32_MIN when it cannot be read.
int32_t snapshot_latency_thread_nice(int32_t tid);

/// Another thread-local number: which write policy the calling thread last applied (-1: none).
int snapshot_latency_thread_policy(void);
void snapshot_latency_set_thread_policy(int policy);

/// Moves the calling thread to SCHED_IDLE (runs only when nothing else wants the processor), or
/// back to SCHED_OTHER (its nice value is kept either way). Returns 0, or -1 with errno set.
int snapshot_latency_set_sched_idle(int idle);

/// Puts the calling thread in the idle I/O class, or back to none (its nice value decides)
/// (ioprio_set). Returns 0, or -1 with errno set.
int snapshot_latency_set_io_idle(int idle);

/// sync_file_range(2) with SYNC_FILE_RANGE_WRITE (start writeback of the range) and, when `wait`
/// is non-zero, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER as well (return once the
/// range's writeback has ended). Returns 0, or -1 with errno set.
int snapshot_latency_sync_file_range(int fd, int64_t offset, int64_t length, int wait);

#endif
