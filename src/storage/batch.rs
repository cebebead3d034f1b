//! Group commit: many small write transactions share one commit.
//!
//! A durable commit costs one `fsync` (a few milliseconds on this class of disk), so one
//! transaction per request caps intake at a few hundred requests a second however fast the
//! rest is. Jobs sent here queue for one writer task, which runs every job waiting at that
//! moment inside one transaction and commits once. Nobody is answered before the commit that
//! holds their write has returned, so an acknowledged write is on disk exactly as with a
//! transaction of its own.
//!
//! Jobs rarely fail (their callers validate first), so a batch first runs plainly. If a job
//! fails, the whole transaction is rolled back and the batch runs again with each job in its
//! own savepoint, so the failing job is undone alone and the others are committed. (Savepoints
//! on the fast path would cost every job its pages copied to the sub-journal.) This is why a
//! job is `Fn`, not `FnOnce`: it may run twice, and only the run that commits counts.
//!
//! A job must do only database work on its `Tx` (no waiting on other requests, no network),
//! since every job of its batch waits for it.

use std::any::Any;

use futures_core::future::BoxFuture;
use sqlx::AnyPool;
use tokio::sync::{mpsc, oneshot};

use super::{Db, Tx};
use crate::error::{Error, Result};

/// Most jobs in one commit: bounds the time the first of them waits for the last.
pub const MAX_BATCH: usize = 256;
/// Jobs waiting beyond this make senders wait (backpressure instead of unbounded memory).
const QUEUE: usize = 4096;

type Value = Box<dyn Any + Send>;
type Run = Box<dyn for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<Value>> + Send + Sync>;
type Answer = Box<dyn FnOnce(Result<Value>) + Send + Sync>;

struct Job {
    run: Run,
    answer: Answer,
}

#[derive(Clone)]
pub(super) struct Sender(mpsc::Sender<Job>);

impl Sender {
    /// Starts the writer task over the writer pool. The task holds the pool, not the [`Db`],
    /// so it ends when the last handle (and with it this sender) is dropped.
    pub(super) fn start(writer: AnyPool) -> Sender {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(writer, rx));
        Sender(tx)
    }
}

impl Db {
    /// Runs `job` inside a transaction shared with other jobs (see the module documentation)
    /// and answers once that transaction has committed. `job` may be called more than once;
    /// only the call whose transaction commits has effect.
    pub async fn grouped<T, F>(&self, job: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'t> Fn(&'t mut Tx) -> BoxFuture<'t, Result<T>> + Send + Sync + 'static,
    {
        let (reply, replied) = oneshot::channel::<Result<T>>();
        let run: Run = Box::new(move |tx: &mut Tx| {
            let fut = job(tx);
            Box::pin(async move { fut.await.map(|v| Box::new(v) as Value) })
        });
        let answer: Answer = Box::new(move |r: Result<Value>| {
            let r = r.map(|v| match v.downcast::<T>() {
                Ok(v) => *v,
                Err(_) => unreachable!("a job answers with the type it was sent with"),
            });
            let _ = reply.send(r);
        });
        self.batcher()
            .0
            .send(Job { run, answer })
            .await
            .map_err(|_| stopped())?;
        replied.await.map_err(|_| stopped())?
    }
}

fn stopped() -> Error {
    Error::Internal(anyhow::anyhow!("the group-commit writer has stopped"))
}

fn failed_commit(e: &str) -> Error {
    Error::Internal(anyhow::anyhow!("group commit failed: {e}"))
}

async fn run(writer: AnyPool, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    loop {
        if rx.recv_many(&mut jobs, MAX_BATCH).await == 0 {
            return;
        }
        let batch: Vec<Job> = std::mem::take(&mut jobs);
        let batch = match fast(&writer, batch).await {
            Ok(()) => continue,
            Err(batch) => batch,
        };
        careful(&writer, batch).await;
    }
}

/// Every job in one plain transaction. Answers them all and returns `Ok` when every job
/// succeeded and the commit did; hands the batch back, unanswered, when a job failed.
async fn fast(writer: &AnyPool, batch: Vec<Job>) -> std::result::Result<(), Vec<Job>> {
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            tracing::error!(error = %msg, "group commit could not begin");
            for job in batch {
                (job.answer)(Err(failed_commit(&msg)));
            }
            return Ok(());
        }
    };
    let mut values = Vec::with_capacity(batch.len());
    for job in &batch {
        match (job.run)(&mut tx).await {
            Ok(v) => values.push(v),
            Err(_) => {
                let _ = tx.rollback().await;
                return Err(batch);
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
            for (job, v) in batch.into_iter().zip(values) {
                (job.answer)(Ok(v));
            }
        }
        Err(e) => {
            let msg = e.to_string();
            tracing::error!(error = %msg, jobs = batch.len(), "group commit failed");
            for job in batch {
                (job.answer)(Err(failed_commit(&msg)));
            }
        }
    }
    Ok(())
}

/// The batch again, each job in its own savepoint: a failing job is rolled back alone and
/// answered with its error, the rest are committed together.
async fn careful(writer: &AnyPool, batch: Vec<Job>) {
    let mut tx = match writer.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let msg = e.to_string();
            for job in batch {
                (job.answer)(Err(failed_commit(&msg)));
            }
            return;
        }
    };
    let mut outcomes: Vec<Result<Value>> = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for job in &batch {
        if let Some(e) = &broken {
            outcomes.push(Err(failed_commit(e)));
            continue;
        }
        if let Err(e) = sqlx::query("SAVEPOINT rb_job").execute(&mut *tx).await {
            broken = Some(e.to_string());
            outcomes.push(Err(failed_commit(&e.to_string())));
            continue;
        }
        let outcome = (job.run)(&mut tx).await;
        let mut ended = Ok(());
        if outcome.is_err() {
            ended = sqlx::query("ROLLBACK TO SAVEPOINT rb_job")
                .execute(&mut *tx)
                .await
                .map(|_| ());
        }
        if ended.is_ok() {
            ended = sqlx::query("RELEASE SAVEPOINT rb_job")
                .execute(&mut *tx)
                .await
                .map(|_| ());
        }
        if let Err(e) = ended {
            broken = Some(e.to_string());
        }
        outcomes.push(outcome);
    }
    let commit = match broken {
        Some(e) => {
            let _ = tx.rollback().await;
            Err(e)
        }
        None => tx.commit().await.map_err(|e| e.to_string()),
    };
    if let Err(e) = &commit {
        tracing::error!(error = %e, jobs = batch.len(), "group commit failed");
    }
    for (job, outcome) in batch.into_iter().zip(outcomes) {
        let reply = match (&commit, outcome) {
            (_, Err(e)) => Err(e),
            (Ok(()), Ok(v)) => Ok(v),
            (Err(e), Ok(_)) => Err(failed_commit(e)),
        };
        (job.answer)(reply);
    }
}
