// Swift's Glibc module does not export <sys/timex.h>; these wrappers are the whole surface.
#include "cclock.h"
#include <errno.h>
#include <sys/timex.h>

int cclock_step(int64_t delta_ns) {
    struct timex tx = {0};
    int64_t sec = delta_ns / 1000000000;
    int64_t nsec = delta_ns % 1000000000;
    if (nsec < 0) { sec -= 1; nsec += 1000000000; }
    tx.modes = ADJ_SETOFFSET | ADJ_NANO;
    tx.time.tv_sec = (time_t)sec;
    tx.time.tv_usec = (suseconds_t)nsec;  /* nanoseconds with ADJ_NANO */
    return adjtimex(&tx) < 0 ? -errno : 0;
}

int cclock_set_frequency(long scaled_ppm) {
    struct timex tx = {0};
    tx.modes = ADJ_FREQUENCY;
    tx.freq = scaled_ppm;
    return adjtimex(&tx) < 0 ? -errno : 0;
}
