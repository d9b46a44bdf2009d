//! Memory populated ahead of its first use, on a thread of its own (issue 21).
//!
//! The first write to a page of fresh memory is a page fault: the kernel maps a zeroed
//! page. On a virtual machine that costs 1.5 to 6 microseconds a page (the hypervisor backs
//! the page too), against a few nanoseconds for the write itself. At 10,000 books the
//! engine's state grows while it runs (every young book builds its depth), and its thread
//! took 12.4 faults a 1,000 commands in `ringbook bench --instruments 10000` (0.3 at 8
//! books): 20 to 70 ns a command, by the fault's cost at the time.
//!
//! A structure that knows where it grows next (the shared slab of order slots: always at
//! its end) asks for that range here before it gets there, and the populating thread faults
//! the pages in with `madvise(MADV_POPULATE_WRITE)` (Linux 5.14): the same mapping a write
//! makes, without writing, so the range's bytes are never changed and the caller's thread
//! finds the pages mapped. Elsewhere (another system, an older kernel) asking does nothing
//! and the caller's writes fault as before.

/// Starts populating the pages of `len` bytes from `start` on the populating thread
/// (started by the first request). Returns at once; the range is populated some time
/// later, or never (not on Linux, a kernel without `MADV_POPULATE_WRITE`, a thread that
/// could not be started).
///
/// Sound whatever the range holds by then: populating maps pages as a write would and
/// changes no byte, so a range the caller has freed or moved since (a buffer reallocated
/// by the time the request is served) only gets pages mapped, and a range with no mapping
/// left is refused by the kernel.
pub(crate) fn populate_later(start: *const u8, len: usize) {
    #[cfg(target_os = "linux")]
    linux::request(start as usize, len);
    #[cfg(not(target_os = "linux"))]
    let _ = (start, len);
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    use crossbeam_channel::{Sender, unbounded};

    /// The populating thread's queue of `(start, len)` ranges; `None` when the thread
    /// could not be started.
    static QUEUE: OnceLock<Option<Sender<(usize, usize)>>> = OnceLock::new();

    /// Set when the kernel refused the advice as unknown (before Linux 5.14): requests
    /// are dropped from then on.
    static UNSUPPORTED: AtomicBool = AtomicBool::new(false);

    /// Queues `len` bytes from `start` for the populating thread.
    pub(super) fn request(start: usize, len: usize) {
        if len == 0 || UNSUPPORTED.load(Ordering::Relaxed) {
            return;
        }
        let queue = QUEUE.get_or_init(|| {
            let (sender, receiver) = unbounded::<(usize, usize)>();
            std::thread::Builder::new()
                .name("rb-prefault".into())
                .spawn(move || {
                    for (start, len) in receiver {
                        populate(start, len);
                    }
                })
                .ok()
                .map(|_| sender)
        });
        if let Some(queue) = queue {
            // The receiver lives as long as the process: a send cannot fail.
            let _ = queue.send((start, len));
        }
    }

    /// Faults in the pages that hold `len` bytes from `start`.
    pub(super) fn populate(start: usize, len: usize) {
        // SAFETY: sysconf reads a constant of the system; no memory is touched.
        #[allow(unsafe_code)]
        let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
            size if size > 0 => size as usize,
            _ => 4096,
        };
        let first = start & !(page - 1);
        let Some(end) = start.checked_add(len) else {
            return;
        };
        // SAFETY: MADV_POPULATE_WRITE faults in the pages of the mappings in the range as
        // writes would, without writing: no byte of this process changes, whatever the range
        // holds now (the module's doc). A range with an unmapped gap fails with ENOMEM, a
        // read-only or special mapping with EINVAL, EFAULT or EPERM: the call has no other
        // effect, and the result is only read to stop asking a kernel that lacks the advice.
        #[allow(unsafe_code)]
        let result = unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                end - first,
                libc::MADV_POPULATE_WRITE,
            )
        };
        if result != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL)
            && !supported()
        {
            UNSUPPORTED.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the kernel knows `MADV_POPULATE_WRITE`: asked of one page of a fresh
    /// anonymous mapping (an EINVAL above may also mean a mapping it does not apply to).
    pub(super) fn supported() -> bool {
        // SAFETY: a fresh private anonymous mapping of one page, advised and unmapped here;
        // nothing else refers to it.
        #[allow(unsafe_code)]
        unsafe {
            let page = 4096;
            let map = libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if map == libc::MAP_FAILED {
                return true;
            }
            let known = libc::madvise(map, page, libc::MADV_POPULATE_WRITE) == 0;
            libc::munmap(map, page);
            known
        }
    }
}

#[cfg(test)]
mod tests {
    use super::populate_later;

    #[test]
    fn populating_changes_no_byte_and_takes_any_range() {
        let mut buffer = vec![7u8; 3 << 20];
        buffer[12_345] = 9;
        populate_later(buffer.as_ptr(), buffer.len());
        // A range that is not page-aligned, an empty one, one that runs past the end of
        // the address space (dropped before the kernel is asked).
        populate_later(buffer[100..].as_ptr(), 10);
        populate_later(buffer.as_ptr(), 0);
        populate_later(usize::MAX as *const u8, 1 << 20);
        // Give the thread time to serve them while this one reads.
        for _ in 0..50 {
            assert!(
                buffer
                    .iter()
                    .enumerate()
                    .all(|(i, &b)| b == if i == 12_345 { 9 } else { 7 })
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_populated_range_is_written_without_faults() {
        use super::linux::{populate, supported};

        if !supported() {
            return; // before Linux 5.14: nothing to populate with
        }
        let faults = || -> u64 {
            let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
            let (_, after) = stat.rsplit_once(')').unwrap();
            after
                .split_ascii_whitespace()
                .nth(7)
                .unwrap()
                .parse()
                .unwrap()
        };
        // 16 MiB of fresh, untouched memory (calloc maps it without touching it): written a
        // page at a time, unpopulated, each page faults (or each huge page, where the kernel
        // gives them).
        let mut cold = vec![0u8; 16 << 20];
        let before = faults();
        for page in cold.chunks_mut(4096) {
            page[0] = 1;
        }
        let unpopulated = faults() - before;
        // The same, populated first (here, on this thread: what the populating thread does).
        let mut warm = vec![0u8; 16 << 20];
        populate(warm.as_ptr() as usize + 1, warm.len() - 1);
        let before = faults();
        for page in warm.chunks_mut(4096) {
            page[0] = 1;
        }
        let populated = faults() - before;
        assert!(
            populated * 4 < unpopulated.max(4),
            "{populated} faults writing a populated 16 MiB range, {unpopulated} unpopulated"
        );
        assert!(cold.iter().step_by(4096).all(|&b| b == 1));
        assert!(warm.iter().step_by(4096).all(|&b| b == 1));
    }
}
