//! CPU time by pipeline stage: each thread's time on a CPU and waiting for one, read from
//! Linux's per-thread scheduler statistics (`/proc/self/task/<tid>/schedstat`), and its
//! page faults (`/proc/self/task/<tid>/stat`).
//!
//! The kernel brings a running thread's figures up to date at scheduler ticks and
//! switches, so each can lag by a tick (1 to 4 ms): over a measured part of a tenth of a
//! second or more, a few percent at most.
//!
//! A throughput figure on a shared, oversubscribed machine mixes the engine's own cost
//! with everything else the machine does. CPU time per command, split by stage, is the
//! engine's cost alone: it says which stage saturates, and it compares two designs more
//! steadily than their wall-clock rates do.

use std::collections::BTreeMap;
use std::fs;
use std::time::Duration;

/// One thread's figures in a [`ThreadSample`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Counts {
    /// ns on a CPU.
    cpu: u64,
    /// ns runnable but waiting for a CPU.
    wait: u64,
    /// Times scheduled onto a CPU.
    slices: u64,
    /// Minor page faults: first touches of memory the kernel had to map (and zero).
    faults: u64,
}

/// One sample of every thread of this process.
#[derive(Clone, Debug, Default)]
pub struct ThreadSample {
    /// (thread id, name, its figures).
    threads: Vec<(u32, String, Counts)>,
}

/// What the threads of one stage (threads named alike) did between two samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCpu {
    /// The thread name with any `-N` suffix taken off: `rb-book` for `rb-book-0` and
    /// `rb-book-1`, `baseline-book` for the baseline's books.
    pub stage: String,
    /// How many threads ran in the stage.
    pub threads: usize,
    /// Their time on a CPU.
    pub cpu: Duration,
    /// Their time runnable but waiting for a CPU (the machine was oversubscribed).
    pub runqueue: Duration,
    /// How many times they were put on a CPU: each wake-up from a sleep, each return
    /// after a yield or a preemption. A pipeline stage that sleeps and is woken for every
    /// few commands spends its CPU on switching rather than on the commands.
    pub slices: u64,
    /// Their minor page faults: each a first touch of a page the kernel maps and zeroes
    /// (a few microseconds each on a virtual machine), so a stage whose memory still grows
    /// in the measured part pays for it there.
    pub faults: u64,
}

impl ThreadSample {
    /// Samples every thread of this process; `None` where the statistics are not there
    /// (not Linux, or a kernel without scheduler statistics).
    pub fn take() -> Option<ThreadSample> {
        let mut threads = Vec::new();
        for entry in fs::read_dir("/proc/self/task").ok()? {
            let Ok(entry) = entry else { continue };
            let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
                continue;
            };
            // A thread that ends between the listing and the reads is skipped.
            let (Ok(name), Ok(stat)) = (
                fs::read_to_string(entry.path().join("comm")),
                fs::read_to_string(entry.path().join("schedstat")),
            ) else {
                continue;
            };
            let mut fields = stat.split_ascii_whitespace().map(str::parse::<u64>);
            if let (Some(Ok(cpu)), Some(Ok(wait)), Some(Ok(slices))) =
                (fields.next(), fields.next(), fields.next())
            {
                let faults = fs::read_to_string(entry.path().join("stat"))
                    .ok()
                    .and_then(|stat| minor_faults(&stat))
                    .unwrap_or(0);
                let counts = Counts {
                    cpu,
                    wait,
                    slices,
                    faults,
                };
                threads.push((tid, name.trim_end().to_string(), counts));
            }
        }
        (!threads.is_empty()).then_some(ThreadSample { threads })
    }

    /// Per stage, what its threads did since `earlier` (a thread started since then counts
    /// from zero), in stage-name order; stages that used no CPU are left out.
    #[must_use]
    pub fn since(&self, earlier: &ThreadSample) -> Vec<StageCpu> {
        let mut stages: BTreeMap<String, StageCpu> = BTreeMap::new();
        for (tid, name, now) in &self.threads {
            let zero = Counts::default();
            let then = earlier
                .threads
                .iter()
                .find(|(t, n, _)| t == tid && n == name)
                .map_or(&zero, |(_, _, counts)| counts);
            let stage = stage_of(name);
            let entry = stages.entry(stage.to_string()).or_insert(StageCpu {
                stage: stage.to_string(),
                threads: 0,
                cpu: Duration::ZERO,
                runqueue: Duration::ZERO,
                slices: 0,
                faults: 0,
            });
            entry.threads += 1;
            entry.cpu += Duration::from_nanos(now.cpu.saturating_sub(then.cpu));
            entry.runqueue += Duration::from_nanos(now.wait.saturating_sub(then.wait));
            entry.slices += now.slices.saturating_sub(then.slices);
            entry.faults += now.faults.saturating_sub(then.faults);
        }
        stages.into_values().filter(|s| !s.cpu.is_zero()).collect()
    }
}

/// The minor faults of a thread's `stat` line (proc(5): the tenth field, `minflt`). The
/// second field, the name in parentheses, may hold spaces and parentheses, so the fields
/// are counted from its last `)`.
fn minor_faults(stat: &str) -> Option<u64> {
    let (_, after_name) = stat.rsplit_once(')')?;
    // After the name: state, ppid, pgrp, session, tty_nr, tpgid, flags, minflt.
    after_name.split_ascii_whitespace().nth(7)?.parse().ok()
}

/// The stage a thread belongs to: its name without a trailing `-N`.
fn stage_of(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stage, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => stage,
        _ => name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_threads_share_a_stage() {
        assert_eq!(stage_of("rb-book-0"), "rb-book");
        assert_eq!(stage_of("baseline-book-12"), "baseline-book");
        assert_eq!(stage_of("rb-sequencer"), "rb-sequencer");
        assert_eq!(stage_of("rb-"), "rb-");
        assert_eq!(stage_of("x-1a"), "x-1a");
    }

    #[test]
    fn stages_sum_their_threads_deltas() {
        let sample = |threads: &[(u32, &str, u64, u64, u64, u64)]| ThreadSample {
            threads: threads
                .iter()
                .map(|&(t, n, cpu, wait, slices, faults)| {
                    let counts = Counts {
                        cpu,
                        wait,
                        slices,
                        faults,
                    };
                    (t, n.to_string(), counts)
                })
                .collect(),
        };
        let before = sample(&[
            (1, "rb-book-0", 100, 10, 7, 1000),
            (2, "rb-book-1", 50, 0, 1, 20),
        ]);
        let after = sample(&[
            (1, "rb-book-0", 400, 30, 9, 1500),
            (2, "rb-book-1", 150, 5, 4, 20),
            (3, "rb-events", 70, 1, 3, 12),
            (4, "idle", 0, 0, 0, 0),
        ]);
        let stages = after.since(&before);
        assert_eq!(
            stages,
            vec![
                StageCpu {
                    stage: "rb-book".into(),
                    threads: 2,
                    cpu: Duration::from_nanos(400),
                    runqueue: Duration::from_nanos(25),
                    slices: 5,
                    faults: 500,
                },
                StageCpu {
                    stage: "rb-events".into(),
                    threads: 1,
                    cpu: Duration::from_nanos(70),
                    runqueue: Duration::from_nanos(1),
                    slices: 3,
                    faults: 12,
                },
            ]
        );
    }

    #[test]
    fn minor_faults_are_counted_past_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (rb eng) (1)) S 1 4242 4242 0 -1 4194368 9876 0 3 0 12 4";
        assert_eq!(minor_faults(stat), Some(9876));
        assert_eq!(minor_faults("4242 (x) S 1 2"), None);
        assert_eq!(minor_faults("no name"), None);
    }

    #[test]
    fn this_threads_first_touches_are_counted_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let before = ThreadSample::take().expect("stat on Linux");
        // 64 MiB touched a page at a time: fresh pages from the kernel, each a minor fault
        // (at most 32 huge pages where they are on, still more than none).
        let mut memory = vec![0u8; 64 << 20];
        for page in memory.chunks_mut(4096) {
            page[0] = 1;
        }
        std::hint::black_box(&memory);
        let after = ThreadSample::take().expect("stat on Linux");
        let faults: u64 = after.since(&before).iter().map(|s| s.faults).sum();
        assert!(faults >= 32, "64 MiB first touched: {faults} faults");
    }

    #[test]
    fn this_thread_is_sampled_on_linux() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let before = ThreadSample::take().expect("schedstat on Linux");
        // Spin past several scheduler ticks: a running thread's figure is brought up to
        // date at ticks and switches, not at every read.
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(60) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(1));
        }
        let after = ThreadSample::take().expect("schedstat on Linux");
        let stages = after.since(&before);
        assert!(
            stages.iter().any(|s| s.cpu > Duration::ZERO),
            "the spinning thread used CPU: {stages:?}"
        );
    }
}
