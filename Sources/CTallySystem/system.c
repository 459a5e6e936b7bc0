#define _GNU_SOURCE
#include <fcntl.h>

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
