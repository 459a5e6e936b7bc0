#ifndef C_TALLY_SYSTEM_H
#define C_TALLY_SYSTEM_H

// The few things Tally needs from C: CRC-32C with the processor's instruction, and system calls
// that Swift's Glibc module does not expose (they need _GNU_SOURCE).

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// CRC-32C (Castagnoli, polynomial 0x1EDC6F41 reflected 0x82F63B78) of `length` bytes at `data`,
/// continuing from `crc` (0 to start). The result is the finished checksum (pre- and post-inverted,
/// as in iSCSI and ext4), so chaining passes the previous result as `crc`.
/// Uses the SSE 4.2 crc32 instruction when the processor has it, a table otherwise.
uint32_t tally_crc32c(uint32_t crc, const void *data, size_t length);

/// tally_crc32c computed with the table whatever the processor, so that tests can check that both
/// ways agree on a machine that has the instruction.
uint32_t tally_crc32c_table(uint32_t crc, const void *data, size_t length);

/// Whether tally_crc32c uses the hardware instruction on this machine.
int tally_crc32c_is_hardware(void);

/// fallocate(2): returns 0, or -1 with errno set.
int tally_fallocate(int fd, int mode, int64_t offset, int64_t length);

/// A small number naming what the calling thread does for Tally (0: nothing in particular), kept
/// in thread-local storage; engine threads set it so that work is never handed to them that would
/// delay what they exist for.
int tally_thread_role(void);

/// Sets the calling thread's role (see tally_thread_role).
void tally_set_thread_role(int role);

/// Raises the calling thread's nice value by `increment` (lowers its priority), leaving the
/// process's other threads as they are: for background work that must yield the processor to the
/// writer. Returns 0, or -1 with errno set.
int tally_lower_thread_priority(int increment);

/// The peer credentials SO_PEERCRED reports on a Unix socket: `struct ucred` of <sys/socket.h>,
/// which glibc declares only with _GNU_SOURCE; the same layout (checked in system.c).
struct tally_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

#endif
