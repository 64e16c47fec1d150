//! The threads that run database work: one per pooled connection, made once.
//!
//! Every closure given to [`super::Db`] runs on one of these, holding a turn at the pool, so
//! at most as many closures run as there are threads. They used to run on the async
//! runtime's blocking pool, which starts a new thread whenever none is idle at the instant a
//! closure is sent: a thread that has just dropped its turn is not idle yet, so under load
//! the pool kept starting threads (about 60 on 2 cores, queueing for the allocator's two
//! arenas) and letting them expire. A closure that panics is caught here: its caller gets an
//! error, the thread goes on.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the threads; they end when the last handle is dropped.
#[derive(Clone)]
pub struct Threads {
    jobs: Sender<Job>,
}

/// A closure that never finished (it panicked).
#[derive(Debug)]
pub struct Panicked;

impl Threads {
    pub fn new(count: usize) -> std::io::Result<Threads> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("tribune-db-{i}"))
                .spawn(move || work(&queue))?;
        }
        Ok(Threads { jobs })
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
        // The threads live as long as any handle, this one included: the send cannot fail.
        let _ = self.jobs.send(Box::new(f));
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
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
}
