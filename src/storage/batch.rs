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
//!
//! Jobs of one [`Bulk`] kind (`Db::grouped_bulk`) are written together: the batch hands all
//! its items of that kind to one call, which writes each table's rows with one multi-row
//! statement instead of one statement per item. On the careful path each runs alone, as a
//! batch of one.

use std::any::{Any, TypeId};
use std::sync::Arc;

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

type Item = Arc<dyn Any + Send + Sync>;
type WriteMany = for<'t> fn(&'t mut Tx, Vec<Item>) -> BoxFuture<'t, Result<Vec<Value>>>;

/// A kind of write whose items one batch writes together (see the module documentation).
pub trait Bulk: 'static {
    type Item: Send + Sync + 'static;
    type Out: Send + 'static;
    /// Writes `items` in `tx` and answers one `Out` per item, in their order. An `Err` fails
    /// them all (the batch then runs each alone); an item refused without any write answers
    /// its refusal inside its `Out`. May be called more than once for the same items; only
    /// the call whose transaction commits counts.
    fn write(tx: &mut Tx, items: Vec<Arc<Self::Item>>) -> BoxFuture<'_, Result<Vec<Self::Out>>>;
}

fn write_erased<B: Bulk>(tx: &mut Tx, items: Vec<Item>) -> BoxFuture<'_, Result<Vec<Value>>> {
    let items: Vec<Arc<B::Item>> = items
        .into_iter()
        .filter_map(|i| i.downcast::<B::Item>().ok())
        .collect();
    Box::pin(async move {
        let outs = B::write(tx, items).await?;
        Ok(outs.into_iter().map(|v| Box::new(v) as Value).collect())
    })
}

enum Work {
    One(Run),
    Many {
        kind: TypeId,
        item: Item,
        write: WriteMany,
    },
}

impl Work {
    /// The job on its own.
    async fn alone(&self, tx: &mut Tx) -> Result<Value> {
        match self {
            Work::One(run) => run(tx).await,
            Work::Many { item, write, .. } => {
                let mut out = write(tx, vec![item.clone()]).await?;
                match (out.pop(), out.is_empty()) {
                    (Some(v), true) => Ok(v),
                    _ => Err(Error::Internal(anyhow::anyhow!(
                        "a bulk write answered the wrong number of items"
                    ))),
                }
            }
        }
    }
}

struct Job {
    work: Work,
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
        self.send(Work::One(run), answer, replied).await
    }

    /// Writes `item` together with the other items of kind `B` waiting at that moment (see
    /// [`Bulk`]), and answers once their transaction has committed.
    pub async fn grouped_bulk<B: Bulk>(&self, item: B::Item) -> Result<B::Out> {
        let (reply, replied) = oneshot::channel::<Result<B::Out>>();
        let answer: Answer = Box::new(move |r: Result<Value>| {
            let r = r.map(|v| match v.downcast::<B::Out>() {
                Ok(v) => *v,
                Err(_) => unreachable!("a bulk write answers with its kind's type"),
            });
            let _ = reply.send(r);
        });
        let work = Work::Many {
            kind: TypeId::of::<B>(),
            item: Arc::new(item),
            write: write_erased::<B>,
        };
        self.send(work, answer, replied).await
    }

    async fn send<T>(
        &self,
        work: Work,
        answer: Answer,
        replied: oneshot::Receiver<Result<T>>,
    ) -> Result<T> {
        self.batcher()
            .0
            .send(Job { work, answer })
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
        let (n, started) = (batch.len(), std::time::Instant::now());
        let batch = match fast(&writer, batch).await {
            Ok(()) => {
                tracing::debug!(
                    jobs = n,
                    us = started.elapsed().as_micros() as u64,
                    "group commit"
                );
                continue;
            }
            Err(batch) => batch,
        };
        careful(&writer, batch).await;
        tracing::debug!(
            jobs = n,
            us = started.elapsed().as_micros() as u64,
            "group commit, careful"
        );
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
    let mut values: Vec<Option<Value>> = batch.iter().map(|_| None).collect();
    // Single jobs in order, then each bulk kind with all its items, in order of first arrival.
    let mut kinds: Vec<(TypeId, WriteMany, Vec<usize>)> = Vec::new();
    for (i, job) in batch.iter().enumerate() {
        match &job.work {
            Work::One(run) => match run(&mut tx).await {
                Ok(v) => values[i] = Some(v),
                Err(_) => {
                    let _ = tx.rollback().await;
                    return Err(batch);
                }
            },
            Work::Many { kind, write, .. } => match kinds.iter_mut().find(|k| k.0 == *kind) {
                Some(k) => k.2.push(i),
                None => kinds.push((*kind, *write, vec![i])),
            },
        }
    }
    for (_, write, indexes) in kinds {
        let items: Vec<Item> = indexes
            .iter()
            .filter_map(|&i| match &batch[i].work {
                Work::Many { item, .. } => Some(item.clone()),
                Work::One(_) => None,
            })
            .collect();
        match write(&mut tx, items).await {
            Ok(outs) if outs.len() == indexes.len() => {
                for (i, v) in indexes.into_iter().zip(outs) {
                    values[i] = Some(v);
                }
            }
            _ => {
                let _ = tx.rollback().await;
                return Err(batch);
            }
        }
    }
    match tx.commit().await {
        Ok(()) => {
            for (job, v) in batch.into_iter().zip(values) {
                match v {
                    Some(v) => (job.answer)(Ok(v)),
                    None => (job.answer)(Err(failed_commit("a job was not run"))),
                }
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
        let outcome = job.work.alone(&mut tx).await;
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
