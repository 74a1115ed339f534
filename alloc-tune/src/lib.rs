//! glibc malloc's tuning, the one place Tollgate calls into the C library.
//!
//! glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB):
//! after the first argon2 password check (a 19 MiB buffer), blocks of that size come from the
//! per-thread arenas instead, and freeing them returns nothing to the system. [`fix_mmap_threshold`]
//! pins the threshold, so large blocks are always mapped on their own and unmapped when freed.
//! Small freed blocks still sit in the arenas' free lists after a burst; [`trim`] hands their
//! whole free pages back.
//!
//! Elsewhere (musl, other allocators) both are no-ops that report `false`.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod glibc {
    use std::os::raw::c_int;

    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
        fn malloc_trim(pad: usize) -> c_int;
    }

    /// `M_MMAP_THRESHOLD` in glibc's `<malloc.h>`.
    const M_MMAP_THRESHOLD: c_int = -3;

    pub fn fix_mmap_threshold(bytes: c_int) -> bool {
        // SAFETY: mallopt takes two integers and touches only the allocator's own settings;
        // glibc serialises it against concurrent allocations. No pointer crosses the boundary.
        unsafe { mallopt(M_MMAP_THRESHOLD, bytes) == 1 }
    }

    pub fn trim() -> bool {
        // SAFETY: malloc_trim takes an integer and only releases free pages the allocator owns;
        // it locks each arena while it walks it. No pointer crosses the boundary.
        unsafe { malloc_trim(0) == 1 }
    }
}

/// Pins glibc's mmap threshold at `bytes` (at most 32 MiB): blocks of that size or more are
/// mapped on their own and returned to the system when freed. Whether it was applied.
pub fn fix_mmap_threshold(bytes: usize) -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let Ok(bytes) = std::os::raw::c_int::try_from(bytes) else {
            return false;
        };
        glibc::fix_mmap_threshold(bytes)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        let _ = bytes;
        false
    }
}

/// Returns the whole free pages of every malloc arena to the system. Whether any were.
pub fn trim() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        glibc::trim()
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    /// With the threshold pinned, a large block freed after glibc would have raised its
    /// threshold still goes back to the system.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn large_blocks_are_returned_once_the_threshold_is_pinned() {
        assert!(fix_mmap_threshold(128 * 1024));
        for _ in 0..3 {
            let before = rss_kib();
            let block = vec![1u8; 24 << 20];
            assert!(
                rss_kib() >= before + 20 * 1024,
                "the block is resident while held"
            );
            drop(std::hint::black_box(block));
            let after = rss_kib();
            assert!(
                after < before + 4 * 1024,
                "freed 24 MiB block still resident: {before} KiB before, {after} KiB after"
            );
        }
        // Calling it is harmless whether or not there is anything to release.
        let _ = trim();
    }
}
