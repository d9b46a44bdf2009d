//! What this machine's memory gives a command that touches a few random cache lines: the
//! floor under the book at many instruments (issue 21), where a command's book, level,
//! order and id cell were last touched thousands of commands before.
//!
//! ```text
//! cargo run --release -p ringbook --example memory_floor -- [LINES] [AHEAD] [MIB...]
//! ```
//!
//! For each working set of `MIB` mebibytes (default 2, 16, 64 and 256), a loop of 4,000,000
//! commands reads and writes `LINES` (default 6) random 64-byte lines a command, prefetched
//! `AHEAD` commands before (default 8; 0: no prefetch), and does no other work. It prints the
//! best of three passes in nanoseconds a command and a line. Against the book: at 8 books
//! a command's lines sit in the caches (the 2 MiB row); at 10,000 books among about 190 MB
//! of books and orders (the 256 MiB row).

use std::time::Instant;

/// Commands a pass.
const COMMANDS: usize = 4_000_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |at: usize, default: usize| -> usize {
        match args.get(at) {
            None => default,
            Some(text) => text.parse().unwrap_or_else(|_| {
                eprintln!(
                    "memory_floor: argument {} is {text:?}, not a number\n\
                     usage: memory_floor [LINES] [AHEAD] [MIB...]",
                    at + 1
                );
                std::process::exit(2)
            }),
        }
    };
    let lines = number(0, 6).clamp(1, 64);
    let ahead = number(1, 8);
    let sizes: Vec<usize> = if args.len() > 2 {
        (2..args.len()).map(|at| number(at, 0).max(1)).collect()
    } else {
        vec![2, 16, 64, 256]
    };
    for mib in sizes {
        let (per_command, per_line) = measure(mib, lines, ahead);
        println!(
            "working set {mib} MiB, {lines} lines a command, prefetch {ahead} ahead: \
             {per_command:.1} ns a command, {per_line:.2} ns a line"
        );
    }
}

/// The best of three passes over a `mib` MiB working set: nanoseconds a command and a line.
fn measure(mib: usize, lines: usize, ahead: usize) -> (f64, f64) {
    let words = mib * 1024 * 1024 / 8;
    let line_count = words / 8;
    let mut memory = vec![1u64; words];
    // Line numbers from xorshift64: the same on every run.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let targets: Vec<u32> = (0..COMMANDS * lines)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % line_count as u64) as u32
        })
        .collect();
    let mut best = f64::MAX;
    let mut sum = 0u64;
    for _ in 0..3 {
        let start = Instant::now();
        for command in 0..COMMANDS {
            if ahead > 0 && command + ahead < COMMANDS {
                let first = (command + ahead) * lines;
                for &line in &targets[first..first + lines] {
                    prefetch(&memory[line as usize * 8]);
                }
            }
            let first = command * lines;
            for &line in &targets[first..first + lines] {
                let word = &mut memory[line as usize * 8];
                sum = sum.wrapping_add(*word);
                *word = sum;
            }
        }
        let nanos = start.elapsed().as_nanos() as f64 / COMMANDS as f64;
        best = best.min(nanos);
    }
    std::hint::black_box(sum);
    (best, best / lines as f64)
}

/// Starts loading the line of `word` into the caches.
#[inline(always)]
#[allow(unsafe_code)]
fn prefetch(word: &u64) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the caches; it reads nothing the program sees and
    // cannot fault, and `word` is a valid reference besides. SSE is part of x86_64.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(word).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = word;
}
