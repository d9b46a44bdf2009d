//! What the pipeline needs to lay itself out, resolved by the manager from its own
//! configuration.

use super::wait::WaitStrategy;

/// The pipeline's layout: how many consumer threads, the rings' sizes, where threads are
/// pinned and how they wait. Every value is already validated.
#[derive(Clone, Debug)]
pub(crate) struct PipelineConfig {
    /// How idle pipeline threads wait: resolved already when nothing is pinned; when the
    /// threads are pinned, [`WaitStrategy::Auto`] is resolved per thread by
    /// [`PipelineConfig::wait_for`].
    pub(crate) wait_strategy: WaitStrategy,
    /// Book consumer threads (clamped to the number of books when the pipeline starts).
    pub(crate) consumers: usize,
    /// Cores to pin the threads to, in the order sequencer, book consumers, event manager,
    /// reused from the start when there are more threads; empty: no pinning.
    pub(crate) cores: Vec<usize>,
    /// Slots in each book's inbound ring.
    pub(crate) inbound_ring_size: usize,
    /// Slots in the outbound ring.
    pub(crate) outbound_ring_size: usize,
    /// The most commands a consumer takes from one book's ring before its next book.
    pub(crate) batch_size: usize,
    /// Every stage on one thread (resolved from [`Stages`](super::Stages) already).
    pub(crate) fused: bool,
}

impl PipelineConfig {
    /// The core thread `thread_index` is pinned to, if any.
    pub(crate) fn core_for(&self, thread_index: usize) -> Option<usize> {
        (!self.cores.is_empty()).then(|| self.cores[thread_index % self.cores.len()])
    }

    /// The core the fused engine thread is pinned to, if any: the one the first book
    /// consumer would have (the book is where the work is; the sequencer's core, first in
    /// the list, is often the callers').
    pub(crate) fn fused_core(&self) -> Option<usize> {
        self.core_for(1)
    }

    /// How the fused engine thread waits: [`WaitStrategy::Auto`] blocks, pinned or not.
    /// Unpinned, the stages were fused because the cores are short, and a spinning engine
    /// would take one from its callers. Pinned alone on a core, spinning would cost nothing
    /// else, but the engine then polls its ingress ring as fast as its callers publish and
    /// takes their cache lines at every publication: on the 2-core machine an open-loop
    /// sender collapsed to about 4.7 M commands/s at 75% and 90% of the sweep, while the
    /// blocking engine (a few spins, two yields, then a park) kept up at every rate with a
    /// p50 under 0.5 us (perf/LOG.md, "Fused stages").
    pub(crate) fn fused_wait(&self) -> WaitStrategy {
        match self.wait_strategy {
            WaitStrategy::Auto => WaitStrategy::BLOCK,
            chosen => chosen,
        }
    }

    /// How thread `thread_index` of `threads` (sequencer, book consumers, event manager)
    /// waits. Pinned, [`WaitStrategy::Auto`] is resolved against the thread's own core: a
    /// thread alone on its core spins, threads sharing one block. Any other strategy, or
    /// one already resolved, is the same for every thread.
    pub(crate) fn wait_for(&self, thread_index: usize, threads: usize) -> WaitStrategy {
        match (self.wait_strategy, self.core_for(thread_index)) {
            (WaitStrategy::Auto, Some(core)) => {
                let sharing = (0..threads)
                    .filter(|&t| self.core_for(t) == Some(core))
                    .count();
                WaitStrategy::Auto.resolve(sharing, 1)
            }
            (chosen, _) => chosen,
        }
    }
}
