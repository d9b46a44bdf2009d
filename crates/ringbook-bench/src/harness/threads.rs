//! CPU time by pipeline stage: each thread's time on a CPU and waiting for one, read from
//! Linux's per-thread scheduler statistics (`/proc/self/task/<tid>/schedstat`).
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

/// One sample of every thread of this process.
#[derive(Clone, Debug, Default)]
pub struct ThreadSample {
    /// (thread id, name, ns on a CPU, ns runnable but waiting for one, times scheduled
    /// onto a CPU).
    threads: Vec<(u32, String, u64, u64, u64)>,
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
                threads.push((tid, name.trim_end().to_string(), cpu, wait, slices));
            }
        }
        (!threads.is_empty()).then_some(ThreadSample { threads })
    }

    /// Per stage, what its threads did since `earlier` (a thread started since then counts
    /// from zero), in stage-name order; stages that used no CPU are left out.
    #[must_use]
    pub fn since(&self, earlier: &ThreadSample) -> Vec<StageCpu> {
        let mut stages: BTreeMap<String, StageCpu> = BTreeMap::new();
        for (tid, name, cpu, wait, slices) in &self.threads {
            let (cpu0, wait0, slices0) = earlier
                .threads
                .iter()
                .find(|(t, n, ..)| t == tid && n == name)
                .map_or((0, 0, 0), |&(_, _, c, w, s)| (c, w, s));
            let stage = stage_of(name);
            let entry = stages.entry(stage.to_string()).or_insert(StageCpu {
                stage: stage.to_string(),
                threads: 0,
                cpu: Duration::ZERO,
                runqueue: Duration::ZERO,
                slices: 0,
            });
            entry.threads += 1;
            entry.cpu += Duration::from_nanos(cpu.saturating_sub(cpu0));
            entry.runqueue += Duration::from_nanos(wait.saturating_sub(wait0));
            entry.slices += slices.saturating_sub(slices0);
        }
        stages.into_values().filter(|s| !s.cpu.is_zero()).collect()
    }
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
        let sample = |threads: &[(u32, &str, u64, u64, u64)]| ThreadSample {
            threads: threads
                .iter()
                .map(|&(t, n, c, w, s)| (t, n.to_string(), c, w, s))
                .collect(),
        };
        let before = sample(&[(1, "rb-book-0", 100, 10, 7), (2, "rb-book-1", 50, 0, 1)]);
        let after = sample(&[
            (1, "rb-book-0", 400, 30, 9),
            (2, "rb-book-1", 150, 5, 4),
            (3, "rb-events", 70, 1, 3),
            (4, "idle", 0, 0, 0),
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
                },
                StageCpu {
                    stage: "rb-events".into(),
                    threads: 1,
                    cpu: Duration::from_nanos(70),
                    runqueue: Duration::from_nanos(1),
                    slices: 3,
                },
            ]
        );
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
