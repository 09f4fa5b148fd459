//! Splitting one stage's work over the machine's cores with scoped threads: no pool, no
//! global state, the results in input order. Stages stay plain functions; this only makes
//! their loops over hundreds of thousands of credentials use every core.

use std::ops::Range;

/// Below this many items a single thread is faster than starting others.
pub(crate) const MIN_PER_THREAD: usize = 4_096;

/// Runs `work` on contiguous parts of `0..len`, one per core, and returns the results in
/// order.
pub fn ranges<T: Send>(len: usize, work: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    ranges_of(len, MIN_PER_THREAD, work)
}

/// [`ranges`] for items costly enough that `min` of them are worth a thread (whole files,
/// rather than credentials).
pub fn ranges_of<T: Send>(
    len: usize,
    min: usize,
    work: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(len / min.max(1)).max(1);
    if parts == 1 {
        return vec![work(0..len)];
    }
    let size = len.div_ceil(parts);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|p| {
                let range = (p * size).min(len)..((p + 1) * size).min(len);
                scope.spawn(move || work(range))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Appends `work(i)` for each `i` in `0..len` to `out`, in order, computed on every core
/// straight into `out`'s own room: no list per part to copy from, and `out` grows once, before
/// the work allocates anything (at scale, 175,000 adoptions of 264 bytes each and what they
/// hold; a list per part was 46 MB more at the plan's peak).
pub(crate) fn extend<T: Send + Default>(
    out: &mut Vec<T>,
    len: usize,
    work: impl Fn(usize) -> T + Sync,
) {
    let start = out.len();
    out.reserve_exact(len);
    out.resize_with(start + len, T::default);
    each_mut(&mut out[start..], |i, slot| *slot = work(i));
}

/// Runs `work(i, item)` on each item of `items` (its index and itself), on every core, in
/// contiguous parts of decreasing size taken by whichever core is free (see [`guided`]): the
/// work per item is often uneven along the list (findings of one kind gathered at its end).
pub(crate) fn each_mut<T: Send>(items: &mut [T], work: impl Fn(usize, &mut T) + Sync) {
    let len = items.len();
    let run = |first: usize, chunk: &mut [T]| {
        for (k, item) in chunk.iter_mut().enumerate() {
            work(first + k, item);
        }
    };
    if len < 2 * MIN_PER_THREAD {
        return run(0, items);
    }
    let mut parts = Vec::new();
    let (mut rest, mut first) = (items, 0);
    for size in guided_sizes(len, MIN_PER_THREAD / 4) {
        let (part, tail) = rest.split_at_mut(size);
        parts.push((first, part));
        first += size;
        rest = tail;
    }
    each_taken(parts, |(first, part)| run(first, part));
}

/// Splits `items` into contiguous parts, one per core (at least `min` items each), runs
/// `work` on each part on its own thread, and returns the results in order. For work that
/// consumes its items.
pub fn parts<T: Send, R: Send>(
    mut items: Vec<T>,
    min: usize,
    work: impl Fn(Vec<T>) -> R + Sync,
) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let count = cores.min(items.len() / min.max(1)).max(1);
    if count == 1 {
        return vec![work(items)];
    }
    let size = items.len().div_ceil(count);
    let mut split = Vec::with_capacity(count);
    while items.len() > size {
        let rest = items.split_off(size);
        split.push(std::mem::replace(&mut items, rest));
    }
    split.push(items);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = split
            .into_iter()
            .map(|part| scope.spawn(move || work(part)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Runs `work` on each of `items` on every core, a thread taking the next item whenever it is
/// done with one, and returns the results in the items' order. For a few items of uneven cost
/// (or threads of uneven speed: cores shared with other work), where contiguous parts per core
/// can end far apart.
pub(crate) fn each_taken<T: Send, R: Send>(items: Vec<T>, work: impl Fn(T) -> R + Sync) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(items.len());
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let count = items.len();
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    let next = AtomicUsize::new(0);
    let (work, slots, next) = (&work, &slots, &next);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            break mine;
                        }
                        // Each slot is taken once: its lock is never contended.
                        let item = slots[i].lock().ok().and_then(|mut slot| slot.take());
                        if let Some(item) = item {
                            mine.push((i, work(item)));
                        }
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// Runs `work(i)` for each `i` in `0..count` on every core, a thread taking the next index
/// whenever it is done with one, and passes each result to `take` on the calling thread in
/// order, as soon as it and those before it are done. At most `ahead` results wait for `take`,
/// so a long output is never held whole. For pipelines whose last step is sequential (hashing,
/// writing) while the work before it is not. Stops at the first error `take` returns.
pub(crate) fn streamed<R: Send, E>(
    count: usize,
    ahead: usize,
    work: impl Fn(usize) -> R + Sync,
    mut take: impl FnMut(R) -> Result<(), E>,
) -> Result<(), E> {
    use std::collections::BTreeMap;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
    struct State<R> {
        done: BTreeMap<usize, R>,
        taken: usize,
        /// Set when `take` failed or a worker panicked: nothing more is waited for.
        stop: bool,
    }
    /// Stops the others if its worker panics, so the caller does not wait for a result
    /// that never comes; the panic itself is passed on when the scope ends.
    struct OnPanic<'a, R>(&'a Mutex<State<R>>, &'a Condvar);
    impl<R> Drop for OnPanic<'_, R> {
        fn drop(&mut self) {
            if std::thread::panicking() {
                self.0.lock().unwrap_or_else(PoisonError::into_inner).stop = true;
                self.1.notify_all();
            }
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(count);
    if threads <= 1 {
        return (0..count).try_for_each(|i| take(work(i)));
    }
    let ahead = ahead.max(threads);
    let state = Mutex::new(State {
        done: BTreeMap::new(),
        taken: 0,
        stop: false,
    });
    let changed = Condvar::new();
    let lock = || state.lock().unwrap_or_else(PoisonError::into_inner);
    fn wait<'g, R>(changed: &Condvar, guard: MutexGuard<'g, State<R>>) -> MutexGuard<'g, State<R>> {
        changed.wait(guard).unwrap_or_else(PoisonError::into_inner)
    }
    let next = AtomicUsize::new(0);
    let (work, next, state_ref, changed_ref) = (&work, &next, &state, &changed);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(move || {
                let _stop_others = OnPanic(state_ref, changed_ref);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= count {
                        return;
                    }
                    let mut guard = lock();
                    while i >= guard.taken + ahead && !guard.stop {
                        guard = wait(changed_ref, guard);
                    }
                    if guard.stop {
                        return;
                    }
                    drop(guard);
                    let result = work(i);
                    lock().done.insert(i, result);
                    changed_ref.notify_all();
                }
            });
        }
        let mut outcome = Ok(());
        for i in 0..count {
            let mut guard = lock();
            let result = loop {
                if let Some(result) = guard.done.remove(&i) {
                    break Some(result);
                }
                if guard.stop {
                    break None;
                }
                guard = wait(&changed, guard);
            };
            guard.taken = i + 1;
            drop(guard);
            changed.notify_all();
            let Some(result) = result else { break };
            if let Err(e) = take(result) {
                outcome = Err(e);
                break;
            }
        }
        lock().stop = true;
        changed.notify_all();
        outcome
    })
}

/// `items` in parts of decreasing size for [`each_taken`]: each half a core's share of what
/// is left, down to `min`. Large parts first keep the overhead low; small ones last let the
/// cores finish together, even when they are shared with other work.
pub(crate) fn guided<T>(items: Vec<T>, min: usize) -> Vec<Vec<T>> {
    let sizes = guided_sizes(items.len(), min);
    let mut rest = items.into_iter();
    sizes
        .into_iter()
        .map(|size| rest.by_ref().take(size).collect())
        .collect()
}

/// The sizes of [`guided`]'s parts of `len` items.
fn guided_sizes(len: usize, min: usize) -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut left = len;
    let mut sizes = Vec::new();
    while left > 0 {
        let size = (left / (2 * cores)).max(min.max(1)).min(left);
        sizes.push(size);
        left -= size;
    }
    sizes
}

/// Runs `a` and `b` at the same time.
pub fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    std::thread::scope(|scope| {
        let first = scope.spawn(a);
        let second = b();
        (
            first
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e)),
            second,
        )
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn items_taken_by_whichever_thread_is_free_come_back_in_order() {
        for n in [0, 1, 2, 3, 17] {
            let items: Vec<usize> = (0..n).collect();
            // Uneven costs: early items slow, so later ones finish first.
            let got = super::each_taken(items, |i| {
                std::thread::sleep(std::time::Duration::from_millis(((n - i) % 4) as u64));
                i * 10
            });
            assert_eq!(got, (0..n).map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn streamed_results_are_taken_in_order_with_few_waiting() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        for n in [0, 1, 2, 3, 40] {
            let started = AtomicUsize::new(0);
            let mut got = Vec::new();
            let outcome: Result<(), ()> = super::streamed(
                n,
                4,
                |i| {
                    started.fetch_add(1, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(((n - i) % 3) as u64));
                    i * 10
                },
                |r| {
                    // Never more than `ahead` (4) past what was taken, plus those at work.
                    assert!(started.load(Ordering::SeqCst) <= r / 10 + 4 + 2);
                    got.push(r);
                    Ok(())
                },
            );
            assert_eq!(outcome, Ok(()));
            assert_eq!(got, (0..n).map(|i| i * 10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn each_mut_gives_every_item_its_own_index_once() {
        for n in [0, 1, 5_000, 100_003] {
            let mut items = vec![usize::MAX; n];
            super::each_mut(&mut items, |i, item| *item = i);
            assert!(items.iter().enumerate().all(|(i, item)| *item == i));
        }
    }

    #[test]
    fn guided_parts_shrink_and_keep_every_item_in_order() {
        for n in [0, 1, 7, 100, 10_000] {
            let parts = super::guided((0..n).collect::<Vec<usize>>(), 10);
            assert_eq!(
                super::guided((0..n).collect::<Vec<usize>>(), 0)
                    .concat()
                    .len(),
                n
            );
            assert!(
                parts
                    .windows(2)
                    .all(|w| w[0].len() >= w[1].len() || w[1].len() == 10)
            );
            assert!(parts.iter().all(|p| !p.is_empty()));
            assert_eq!(parts.concat(), (0..n).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_panic_in_streamed_work_is_passed_on_rather_than_waited_for() {
        // Without the stop on panic the caller would wait for result 3 forever.
        let outcome = std::panic::catch_unwind(|| {
            super::streamed(
                100,
                2,
                |i| {
                    assert!(i != 3, "work 3 fails");
                    i
                },
                |_| Ok::<(), ()>(()),
            )
        });
        assert!(outcome.is_err());
    }

    #[test]
    fn streamed_stops_at_the_first_error_taken() {
        let mut taken = 0;
        let outcome = super::streamed(
            1_000,
            4,
            |i| i,
            |i| {
                taken += 1;
                if i == 5 { Err(i) } else { Ok(()) }
            },
        );
        assert_eq!((outcome, taken), (Err(5), 6));
    }

    #[test]
    fn covers_every_item_once_in_order() {
        for len in [0, 1, 5000, 100_003] {
            let parts = super::ranges(len, |r| r.collect::<Vec<_>>());
            let all: Vec<usize> = parts.into_iter().flatten().collect();
            assert_eq!(all, (0..len).collect::<Vec<_>>());
        }
        assert_eq!(super::join(|| 1, || 2), (1, 2));
    }

    #[test]
    fn extend_appends_every_item_once_in_order() {
        for len in [0, 1, 5000, 100_003] {
            let mut out = vec![usize::MAX];
            super::extend(&mut out, len, |i| i * 2);
            assert_eq!(out[0], usize::MAX);
            assert_eq!(out[1..], (0..len).map(|i| i * 2).collect::<Vec<_>>());
            assert_eq!(out.capacity(), len + 1);
        }
    }
}
