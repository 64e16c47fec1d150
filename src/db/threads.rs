//! The threads that run database work: one per pooled connection, made once.
//!
//! Every closure given to [`super::Db`] runs on one of these, holding a turn at the pool, so
//! at most as many closures run as there are threads. They used to run on the async
//! runtime's blocking pool, which starts a new thread whenever none is idle at the instant a
//! closure is sent: a thread that has just dropped its turn is not idle yet, so under load
//! the pool kept starting threads (about 60 on 2 cores, queueing for the allocator's two
//! arenas) and letting them expire. A closure that panics is caught here: its caller gets an
//! error, the thread goes on.
//!
//! The queue is a list under a mutex with a condition variable: a closure sent wakes one idle
//! thread, and a thread that finishes takes the next closure without sleeping. (A channel's
//! receiver shared behind a mutex woke two threads a closure: the one waiting in `recv`, then
//! the next one waiting for the mutex, only to wait in `recv` in its turn. On 2 virtual cores
//! a wake-up is a context switch, and they were a third of the server's time on a thread page.)

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

type Job = Box<dyn FnOnce() + Send>;

/// The closures waiting for a thread, and whether the last handle is gone.
#[derive(Default)]
struct Queue {
    state: Mutex<State>,
    ready: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock: a panic cannot poison it, but never fail on it either.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next closure; `None` once the handles are gone and nothing is left to run.
    fn next(&self) -> Option<Job> {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// Closes the queue when the last [`Threads`] handle is dropped.
struct Handle(Arc<Queue>);

impl Drop for Handle {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.ready.notify_all();
    }
}

/// A handle to the threads; they end when the last handle is dropped (after the closures
/// already sent).
#[derive(Clone)]
pub struct Threads {
    queue: Arc<Handle>,
}

/// A closure that never finished (it panicked).
#[derive(Debug)]
pub struct Panicked;

impl Threads {
    pub fn new(count: usize) -> std::io::Result<Threads> {
        let queue = Arc::new(Queue::default());
        for i in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("tribune-db-{i}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Threads {
            queue: Arc::new(Handle(queue)),
        })
    }

    /// Runs `f` on a database thread; its result, or [`Panicked`].
    pub async fn run<T, F>(&self, f: F) -> Result<T, Panicked>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, result) = tokio::sync::oneshot::channel();
        self.spawn(move || {
            let _ = answer.send(f());
        });
        result.await.map_err(|_| Panicked)
    }

    /// Runs `f` on a database thread, not waiting for it.
    pub fn spawn(&self, f: impl FnOnce() + Send + 'static) {
        let queue = &self.queue.0;
        queue.lock().jobs.push_back(Box::new(f));
        queue.ready.notify_one();
    }
}

fn work(queue: &Queue) {
    while let Some(job) = queue.next() {
        if catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a database task panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn runs_work_and_survives_a_panic() {
        let threads = Threads::new(1).unwrap();
        assert_eq!(threads.run(|| 6 * 7).await.unwrap(), 42);
        assert!(threads.run(|| panic!("boom")).await.is_err());
        assert_eq!(threads.run(|| "still here").await.unwrap(), "still here");
    }

    #[actix_web::test]
    async fn every_thread_takes_work_and_all_of_it_is_done() {
        let threads = Threads::new(4).unwrap();
        let runs = (0..200u64).map(|n| threads.run(move || n * 2));
        let results = futures_util::future::join_all(runs).await;
        let sum: u64 = results.into_iter().map(|r| r.unwrap()).sum();
        assert_eq!(sum, 199 * 200);
    }

    #[test]
    fn the_threads_end_after_the_last_handle_and_the_work_sent() {
        let (done, finished) = std::sync::mpsc::channel();
        let threads = Threads::new(2).unwrap();
        let queue = Arc::downgrade(&threads.queue.0);
        for _ in 0..10 {
            let done = done.clone();
            threads.spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(1));
                let _ = done.send(());
            });
        }
        drop((threads, done));
        assert_eq!(
            finished.iter().count(),
            10,
            "the work sent before the drop is done"
        );
        // The threads hold the queue until they end.
        for _ in 0..100 {
            if queue.upgrade().is_none() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the threads did not end");
    }
}
