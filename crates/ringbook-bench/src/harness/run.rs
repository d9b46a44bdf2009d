//! One benchmark run: build an engine, warm it up, drive the workload, collect the
//! throughput and the latency histogram.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use super::probe::{Probe, ProbeShared, Schedule, due_at};
use super::threads::{StageCpu, ThreadSample};
use super::workload::Workload;
use crate::baseline::BaselineManager;
use crate::nanos_since;

/// Open loop: the most commands the sender hands over in one `submit_batch` when it has
/// fallen behind the schedule (a socket read's worth for a gateway).
const CATCH_UP: usize = 64;
use ringbook::Command;
use ringbook::{
    Backpressure, ManagerConfig, OrderbookManagerError, OrderbookManagerService,
    OrderbookManagerServiceImpl,
};

/// Which engine a run drives.
// A few per run, never in a hot path: boxing the configuration would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum EngineKind {
    /// The ring pipeline with this configuration (its publish timeout is lifted: a
    /// benchmark waits out backpressure).
    Ringbook(ManagerConfig),
    /// The original design: a thread and channel per book, locks for routing and halts.
    Baseline,
}

impl EngineKind {
    /// `ringbook`, `ringbook+journal` (the pipeline journaling its input) or `baseline`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            EngineKind::Ringbook(config) if config.journal.is_some() => "ringbook+journal",
            EngineKind::Ringbook(_) => "ringbook",
            EngineKind::Baseline => "baseline",
        }
    }
}

/// How a run sends.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct RunOptions {
    /// Commands per second on a fixed schedule (open loop); `None`: as fast as the engine
    /// takes them (closed loop).
    pub rate: Option<f64>,
    /// Commands sent (and fully answered) before measuring starts.
    pub warmup: usize,
    /// Pin the sending thread to this core. On a small machine a sender spinning to hold
    /// its schedule otherwise shares a core with engine threads, and a thread woken onto
    /// that core can wait out the sender's whole time slice (milliseconds).
    pub sender_core: Option<usize>,
    /// The cores the baseline's threads are pinned to (round-robin), to give it the same
    /// cores as the pipeline; empty: not pinned.
    pub baseline_cores: Vec<usize>,
    /// Closed loop: commands handed to the engine's `submit_batch` at a time (the
    /// pipeline claims ring slots for a batch at once); 0 or 1: one `submit` each, as
    /// before. Ignored in open loop, which sends each command at its own time.
    pub batch: usize,
}

impl RunOptions {
    /// Sets the rate: commands per second on a fixed schedule; `None`: closed loop.
    #[must_use]
    pub fn with_rate(mut self, rate: Option<f64>) -> RunOptions {
        self.rate = rate;
        self
    }

    /// Sets how many commands are sent before measuring starts.
    #[must_use]
    pub fn with_warmup(mut self, warmup: usize) -> RunOptions {
        self.warmup = warmup;
        self
    }

    /// Sets the core the sending thread is pinned to; `None`: not pinned.
    #[must_use]
    pub fn with_sender_core(mut self, core: Option<usize>) -> RunOptions {
        self.sender_core = core;
        self
    }

    /// Sets how many commands the closed loop submits at a time (0 or 1: one at a time).
    #[must_use]
    pub fn with_batch(mut self, batch: usize) -> RunOptions {
        self.batch = batch;
        self
    }

    /// Sets the cores the baseline's threads are pinned to; empty: not pinned.
    #[must_use]
    pub fn with_baseline_cores(mut self, cores: Vec<usize>) -> RunOptions {
        self.baseline_cores = cores;
        self
    }
}

/// What one run measured.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// `ringbook`, `ringbook+journal` or `baseline`.
    pub engine: &'static str,
    /// Commands in the measured part.
    pub commands: u64,
    /// New orders whose latency was recorded (in closed loop, a sample of one new order in
    /// [`CLOSED_LOOP_SAMPLE`]).
    pub orders: u64,
    /// From the first measured send to the last event seen.
    pub elapsed: Duration,
    /// Measured commands per second, end to end.
    pub throughput_per_s: f64,
    /// Latency of each measured new order, ns, from its intended send time to its first
    /// event at the event manager.
    pub histogram: Histogram<u64>,
    /// CPU time of each stage (threads named alike) over the measured part, the sender
    /// included; empty where the system does not report it (see [`ThreadSample`]).
    pub stages: Vec<StageCpu>,
    /// The pipeline's full-ring waits over the whole run, warm-up included; `None` for
    /// the baseline, which has no rings.
    pub backpressure: Option<Backpressure>,
}

impl RunReport {
    /// `cpu` spread over the measured commands: ns per command.
    #[must_use]
    pub fn per_command(&self, cpu: Duration) -> f64 {
        cpu.as_nanos() as f64 / self.commands.max(1) as f64
    }

    /// CPU time per measured command of every stage together, ns.
    #[must_use]
    pub fn cpu_per_command(&self) -> f64 {
        self.per_command(self.stages.iter().map(|s| s.cpu).sum())
    }
}

/// In closed loop, one new order in this many is timed (those whose add index is a
/// multiple of it): reading the clock for every command would cost the sender more than a
/// third of its time (both engines alike), and a saturated engine's latency is its queue
/// length anyway. Open loop times every new order. A power of two, so the probe tells a
/// timed add by a mask.
pub const CLOSED_LOOP_SAMPLE: usize = 8;
const _: () = assert!(CLOSED_LOOP_SAMPLE.is_power_of_two());

/// Which new orders a run times: those whose add index is a multiple of this.
fn sample_stride(options: &RunOptions) -> usize {
    if options.rate.is_some() {
        1
    } else {
        CLOSED_LOOP_SAMPLE
    }
}

/// Drives `workload` through a fresh engine and measures it. `progress` is called now and
/// then with the number of commands sent so far.
///
/// # Errors
///
/// An engine that cannot be built or started, a send that fails other than by the caller's
/// own reject, an engine that loses an outcome (waits 60 s past the last send), or a
/// failure reported at stop.
pub fn run(
    workload: &Workload,
    engine: &EngineKind,
    options: &RunOptions,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<RunReport, OrderbookManagerError> {
    let total = workload.commands.len();
    let warmup = options.warmup.min(total);
    let stride = sample_stride(options);
    // One slot per timed add only: a dense array keeps the probe's reads of it few pages
    // apart (a slot per add, or per command, missed the TLB on most of them).
    // Open loop works the intended times out from the schedule instead (`Schedule`).
    let schedule = options.rate.map(|rate| Schedule {
        start_ns: Arc::new(AtomicU64::new(0)),
        step_ns: 1e9 / rate.max(1e-3),
        warmup,
        add_command: workload.add_command.iter().copied().collect(),
    });
    let timed_slots = if schedule.is_some() {
        0
    } else {
        workload.add_command.len().div_ceil(stride)
    };
    let intended: Arc<[AtomicU64]> = (0..timed_slots).map(|_| AtomicU64::new(0)).collect();
    let schedule_start = schedule.as_ref().map(|s| Arc::clone(&s.start_ns));
    let first_measured_add = workload
        .add_command
        .partition_point(|&index| (index as usize) < warmup);
    let base = Instant::now();
    let (probe, shared) = Probe::new(
        Arc::clone(&intended),
        schedule,
        workload.add_command.len(),
        first_measured_add,
        stride,
        base,
    );
    let plan = SendPlan {
        workload,
        options,
        intended: &intended,
        schedule_start: schedule_start.as_deref(),
        first_measured_add,
        stride,
        shared: &shared,
        base,
    };
    // Each engine's concrete type, so the sender's calls are direct (and inlined) for
    // both alike rather than through a `dyn` call.
    let (start_ns, samples, backpressure) = match engine {
        EngineKind::Ringbook(config) => {
            let mut config = config.clone();
            config.publish_timeout = None;
            let service =
                OrderbookManagerServiceImpl::builder(workload.instruments.iter().copied())
                    .config(config)
                    .subscriber(probe)
                    .build()?;
            let (start_ns, samples) = drive(&service, &plan, progress)?;
            (start_ns, samples, Some(service.backpressure()))
        }
        EngineKind::Baseline => {
            let service = BaselineManager::new(
                workload.instruments.iter().copied(),
                vec![Box::new(probe)],
                None,
            )
            .with_cores(options.baseline_cores.clone());
            let (start_ns, samples) = drive(&service, &plan, progress)?;
            (start_ns, samples, None)
        }
    };
    let end_ns = shared
        .last_event_ns
        .load(Ordering::Acquire)
        .max(start_ns + 1);
    let elapsed = Duration::from_nanos(end_ns - start_ns);
    let histogram = shared.histogram.lock().take().unwrap_or_else(|| {
        Histogram::new_with_bounds(1, 100_000_000_000, 3).expect("valid histogram bounds")
    });
    let commands = (total - warmup) as u64;
    let stages = match samples {
        Some((before, after)) => after.since(&before),
        None => Vec::new(),
    };
    Ok(RunReport {
        engine: engine.name(),
        commands,
        orders: histogram.len(),
        elapsed,
        throughput_per_s: commands as f64 / elapsed.as_secs_f64(),
        histogram,
        stages,
        backpressure,
    })
}

/// What the sender works from, besides the engine.
#[derive(Clone, Copy)]
struct SendPlan<'a> {
    workload: &'a Workload,
    options: &'a RunOptions,
    /// Each timed new order's intended send time, by add index over the sampling stride,
    /// ns since `base` (closed loop only).
    intended: &'a [AtomicU64],
    /// Open loop: where the measured part's start goes for the probe's [`Schedule`].
    schedule_start: Option<&'a AtomicU64>,
    /// The first add after the warm-up.
    first_measured_add: usize,
    /// Every `stride`-th add index is timed ([`sample_stride`]).
    stride: usize,
    shared: &'a ProbeShared,
    base: Instant,
}

/// The measurement's start, ns since the plan's base, and the process's threads sampled
/// at its start and end.
type Sent = (u64, Option<(ThreadSample, ThreadSample)>);

/// Starts `service`, sends the workload from a thread of its own (so it can be pinned
/// without pinning the caller) and stops it. Returns what [`send_all`] returns.
fn drive<S: OrderbookManagerService>(
    service: &S,
    plan: &SendPlan<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Sent, OrderbookManagerError> {
    let options = plan.options;
    service.start()?;
    let sent = thread::scope(|scope| {
        thread::Builder::new()
            .name("rb-bench-sender".into())
            .spawn_scoped(scope, || {
                if let Some(core) = options.sender_core {
                    core_affinity::set_for_current(core_affinity::CoreId { id: core });
                }
                send_all(service, plan, progress)
            })
            .map_err(|source| OrderbookManagerError::ThreadSpawn {
                thread: "rb-bench-sender".into(),
                source,
            })?
            .join()
            .unwrap_or_else(|payload| {
                Err(OrderbookManagerError::CloseOrderbookError {
                    thread: "rb-bench-sender".into(),
                    instruments: Vec::new(),
                    lost_commands: 0,
                    message: crate::panic_message(payload.as_ref()),
                })
            })
    })?;
    service.stop()?;
    Ok(sent)
}

/// Warms the engine up, then sends the measured commands (paced in open loop), and waits
/// until every outcome is seen. Returns the measurement's start, ns since `base`, and the
/// process's threads sampled at its start and end (while the engine still runs).
fn send_all<S: OrderbookManagerService>(
    service: &S,
    plan: &SendPlan<'_>,
    progress: &mut (dyn FnMut(u64) + Send),
) -> Result<Sent, OrderbookManagerError> {
    let SendPlan {
        workload,
        options,
        intended,
        schedule_start,
        first_measured_add,
        stride,
        shared,
        base,
    } = *plan;
    let total = workload.commands.len();
    let warmup = options.warmup.min(total);
    let now_ns = || nanos_since(base);
    let wait_for = |outcomes: u64| -> Result<(), OrderbookManagerError> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while shared.outcomes.load(Ordering::Acquire) < outcomes {
            if Instant::now() > deadline {
                return Err(OrderbookManagerError::CloseOrderbookError {
                    thread: "benchmark".into(),
                    instruments: Vec::new(),
                    lost_commands: outcomes - shared.outcomes.load(Ordering::Acquire),
                    message: "outcomes missing 60 s after the last send".into(),
                });
            }
            thread::sleep(Duration::from_micros(200));
        }
        Ok(())
    };

    for i in 0..warmup {
        send_one(service, workload.commands[i])?;
    }
    wait_for(warmup as u64)?;

    let before = ThreadSample::take();
    let start_ns = now_ns();
    if let Some(start) = schedule_start {
        start.store(start_ns, Ordering::Release);
    }
    let interval_ns = options.rate.map(|r| 1e9 / r.max(1e-3));
    // The timed adds: from the first measured one, every `stride`-th add index (the probe
    // picks them out by the same rule, without reading anything).
    let mut timed = first_measured_add.next_multiple_of(stride);
    let command_of = |add: usize| {
        workload
            .add_command
            .get(add)
            .map_or(usize::MAX, |&index| index as usize)
    };
    // Open loop's times are the probe's to work out: no store per new order.
    let mut next_timed = if schedule_start.is_some() {
        usize::MAX
    } else {
        command_of(timed)
    };
    let batch = if interval_ns.is_none() {
        options.batch.max(1)
    } else {
        1
    };
    if batch > 1 {
        // Closed loop in batches: a timed add's intended send time is its batch's.
        let mut i = warmup;
        while i < total {
            let end = total.min(i + batch);
            let at = now_ns().max(1);
            while next_timed < end {
                intended[timed / stride].store(at, Ordering::Relaxed);
                timed += stride;
                next_timed = command_of(timed);
            }
            send_batch(service, &workload.commands[i..end])?;
            if i / 65_536 != end / 65_536 {
                progress(end as u64);
            }
            i = end;
        }
    }
    let mut i = warmup;
    while batch == 1 && i < total {
        if let Some(step) = interval_ns {
            // Open loop: wait for this command's time, then take every command due by
            // the same clock reading (up to `CATCH_UP`). A sender behind the schedule so
            // hands them over in one `submit_batch`, as a gateway hands over a socket
            // read's worth; each keeps its intended send time (the probe works it out
            // from the schedule), so a late batch shows in the latencies.
            let now = pace_until(&now_ns, due_at(start_ns, i - warmup, step));
            let mut end = i + 1;
            while end < total && end - i < CATCH_UP && due_at(start_ns, end - warmup, step) <= now {
                end += 1;
            }
            if end - i > 1 {
                send_batch(service, &workload.commands[i..end])?;
                if i / 65_536 != end / 65_536 {
                    progress(end as u64);
                }
                i = end;
                continue;
            }
        }
        // Closed loop times its sampled adds here (open loop's are never `next_timed`).
        if i == next_timed {
            intended[timed / stride].store(now_ns().max(1), Ordering::Relaxed);
            timed += stride;
            next_timed = command_of(timed);
        }
        send_one(service, workload.commands[i])?;
        if i % 65_536 == 0 {
            progress(i as u64);
        }
        i += 1;
    }
    progress(total as u64);
    wait_for(total as u64)?;
    let after = ThreadSample::take();
    Ok((start_ns, before.zip(after)))
}

/// Sends one command; the caller's own rejects are outcomes like any other (they are in
/// the event stream), so only a failure of the engine is an error. Inlined into the send
/// loops, with the engine's `submit`: the sending thread shares a core with pipeline
/// stages when pinned, so the harness keeps its own work per command small.
#[inline(always)]
fn send_one<S: OrderbookManagerService>(
    service: &S,
    command: Command,
) -> Result<(), OrderbookManagerError> {
    match service.submit(command) {
        Err(e) if !e.is_rejected_command() => Err(e),
        _ => Ok(()),
    }
}

/// Sends a batch of commands with the engine's `submit_batch`: as [`send_one`] for each,
/// the first failure of the engine (not a reject) is the error.
#[inline(always)]
fn send_batch<S: OrderbookManagerService>(
    service: &S,
    commands: &[Command],
) -> Result<(), OrderbookManagerError> {
    let mut failure = None;
    service.submit_batch(commands, &mut |_, error| {
        if failure.is_none() && !error.is_rejected_command() {
            failure = Some(error);
        }
    });
    failure.map_or(Ok(()), Err)
}

/// Waits until `now_ns()` reaches `due`: sleeps while far, then spins, so the schedule
/// holds without burning a core between sparse sends. Returns the reading that reached it.
fn pace_until(now_ns: &dyn Fn() -> u64, due: u64) -> u64 {
    loop {
        let now = now_ns();
        if now >= due {
            return now;
        }
        let gap = due - now;
        if gap > 200_000 {
            thread::sleep(Duration::from_nanos(gap - 100_000));
        } else if gap > 20_000 {
            thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `workload` through `engine` and returns how many latencies were recorded.
    fn recorded(workload: &Workload, engine: &EngineKind, options: &RunOptions) -> u64 {
        let report = run(workload, engine, options, &mut |_| {}).expect("the run completes");
        assert_eq!(
            report.commands,
            (workload.commands.len() - options.warmup) as u64
        );
        assert_eq!(report.orders, report.histogram.len());
        report.orders
    }

    #[test]
    fn closed_loop_times_every_eighth_measured_add_and_open_loop_every_one() {
        let workload = Workload::generate(11, 4, 3_000);
        let warmup = 1_001;
        let first_measured = workload
            .add_command
            .partition_point(|&index| (index as usize) < warmup);
        let measured = workload.add_command.len() - first_measured;
        let sampled = (first_measured..workload.add_command.len())
            .filter(|add| add % CLOSED_LOOP_SAMPLE == 0)
            .count() as u64;
        assert!(sampled > 100 && sampled < measured as u64 / 4);
        let closed = RunOptions {
            warmup,
            ..RunOptions::default()
        };
        let open = RunOptions {
            rate: Some(2_000_000.0),
            ..closed.clone()
        };
        let batched = RunOptions {
            batch: 32,
            ..closed.clone()
        };
        // Every command due at once: the sender is behind from the start and hands the
        // commands over in catch-up batches.
        let behind = RunOptions {
            rate: Some(1e15),
            ..closed.clone()
        };
        let ringbook = EngineKind::Ringbook(ManagerConfig::default());
        for engine in [&ringbook, &EngineKind::Baseline] {
            assert_eq!(
                recorded(&workload, engine, &closed),
                sampled,
                "{}",
                engine.name()
            );
            assert_eq!(
                recorded(&workload, engine, &batched),
                sampled,
                "{} in batches",
                engine.name()
            );
            assert_eq!(
                recorded(&workload, engine, &open),
                measured as u64,
                "{}",
                engine.name()
            );
            assert_eq!(
                recorded(&workload, engine, &behind),
                measured as u64,
                "{} behind its schedule",
                engine.name()
            );
        }
    }
}
