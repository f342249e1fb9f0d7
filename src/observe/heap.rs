//! The heap, where the test target counts it: [`crate::count_allocations!`] declares
//! stats_alloc's instrumented system allocator as the global allocator, and this reads its
//! counts.

/// Bytes live on the heap now; `None` where the target does not count allocations (nothing was
/// ever counted: the instrumented allocator is not the global one).
pub(crate) fn live_bytes() -> Option<usize> {
    let stats = stats_alloc::INSTRUMENTED_SYSTEM.stats();
    (stats.allocations > 0).then(|| {
        stats
            .bytes_allocated
            .saturating_sub(stats.bytes_deallocated)
    })
}
