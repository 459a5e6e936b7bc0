#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "CTallySystem.h"

int tally_fallocate(int fd, int mode, int64_t offset, int64_t length) {
    return fallocate(fd, mode, (off_t)offset, (off_t)length);
}

static _Thread_local int thread_role = 0;

int tally_thread_role(void) {
    return thread_role;
}

void tally_set_thread_role(int role) {
    thread_role = role;
}

int tally_lower_thread_priority(int increment) {
    // On Linux, the nice value belongs to each thread: PRIO_PROCESS with a thread id sets only it.
    pid_t thread = (pid_t)syscall(SYS_gettid);
    errno = 0;
    int current = getpriority(PRIO_PROCESS, (id_t)thread);
    if (current == -1 && errno != 0) {
        return -1;
    }
    return setpriority(PRIO_PROCESS, (id_t)thread, current + increment);
}

#include <sys/socket.h>
#include <stddef.h>
_Static_assert(sizeof(struct tally_ucred) == sizeof(struct ucred), "struct tally_ucred matches struct ucred");
_Static_assert(offsetof(struct tally_ucred, uid) == offsetof(struct ucred, uid), "uid offset");
_Static_assert(offsetof(struct tally_ucred, gid) == offsetof(struct ucred, gid), "gid offset");
