#ifndef HVAGENT_CCLOCK_H
#define HVAGENT_CCLOCK_H
#include <stdint.h>

/// Steps CLOCK_REALTIME by delta_ns atomically (adjtimex ADJ_SETOFFSET|ADJ_NANO).
/// Returns 0 or -errno.
int cclock_step(int64_t delta_ns);

/// Sets the kernel frequency correction in scaled ppm (ppm * 65536, ADJ_FREQUENCY).
/// Returns 0 or -errno.
int cclock_set_frequency(long scaled_ppm);

#endif
