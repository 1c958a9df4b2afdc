#ifndef SECMON_CPREFETCH_H
#define SECMON_CPREFETCH_H

/// Asks the CPU to start loading the cache line at `address` (for reading), without waiting for
/// it: for loops that visit memory in an order the hardware prefetcher cannot guess, such as
/// records gathered in sorted order from an arena filled in arrival order.
static inline void secmon_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
