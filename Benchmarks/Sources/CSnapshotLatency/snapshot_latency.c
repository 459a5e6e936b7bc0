#define _GNU_SOURCE
#include "snapshot_latency.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

int32_t snapshot_latency_gettid(void) {
    return (int32_t)syscall(SYS_gettid);
}

static __thread int thread_tag = -1;

int snapshot_latency_thread_tag(void) {
    return thread_tag;
}

void snapshot_latency_set_thread_tag(int tag) {
    thread_tag = tag;
}

static __thread int thread_policy = -1;

int snapshot_latency_thread_policy(void) {
    return thread_policy;
}

void snapshot_latency_set_thread_policy(int policy) {
    thread_policy = policy;
}

int snapshot_latency_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

int32_t snapshot_latency_thread_nice(int32_t tid) {
    errno = 0;
    int value = getpriority(PRIO_PROCESS, (id_t)(tid == 0 ? snapshot_latency_gettid() : tid));
    if (value == -1 && errno != 0) {
        return INT32_MIN;
    }
    return value;
}

int snapshot_latency_set_sched_idle(int idle) {
    struct sched_param parameter = {.sched_priority = 0};
    return sched_setscheduler(0, idle ? SCHED_IDLE : SCHED_OTHER, &parameter);
}

int snapshot_latency_set_io_idle(int idle) {
    // IOPRIO_WHO_PROCESS with id 0 is the calling thread; class 3 is idle, class 0 none
    // (linux/ioprio.h).
    const int who_process = 1;
    const int class_idle = 3;
    const int class_shift = 13;
    return (int)syscall(SYS_ioprio_set, who_process, 0, idle ? class_idle << class_shift : 0);
}

int snapshot_latency_sync_file_range(int fd, int64_t offset, int64_t length, int wait) {
    unsigned int flags = SYNC_FILE_RANGE_WRITE;
    if (wait) {
        flags |= SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WAIT_AFTER;
    }
    int result;
    do {
        result = sync_file_range(fd, offset, length, flags);
    } while (result == -1 && errno == EINTR);
    return result;
}
