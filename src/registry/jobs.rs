//! Progress and reports of imports, kept in memory (the import itself is one transaction).
//! A job also keeps its upload for a while, so a dry run can be followed by the real import
//! of the same file without uploading it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::import::{FileFormat, Report};
use crate::i18n::Text;

/// How far a job is.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Progress {
    pub total: u64,
    pub done: u64,
    pub finished: bool,
}

/// The uploaded file, kept for the real import after a dry run.
#[derive(Debug)]
pub struct Upload {
    pub bytes: Vec<u8>,
    pub format: FileFormat,
    pub file_name: String,
}

/// One import, running or finished.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: i64,
    pub subdistrict_id: i64,
    pub user_id: i64,
    pub node_id: i64,
    pub node_name: String,
    pub dry_run: bool,
    pub created_at: i64,
    pub progress: Progress,
    /// What the job is doing now, for the progress page.
    pub phase: Text,
    pub report: Option<Arc<Report>>,
    /// Set when the import failed for a reason other than bad rows.
    pub failure: Option<Text>,
    pub upload: Option<Arc<Upload>>,
}

impl Job {
    pub fn new(
        subdistrict_id: i64,
        user_id: i64,
        node_id: i64,
        node_name: &str,
        dry_run: bool,
        upload: Arc<Upload>,
    ) -> Job {
        Job {
            id: crate::storage::next_id(),
            subdistrict_id,
            user_id,
            node_id,
            node_name: node_name.to_string(),
            dry_run,
            created_at: crate::clock::now_ms(),
            progress: Progress::default(),
            phase: Text::new("排队中", "queued"),
            report: None,
            failure: None,
            upload: Some(upload),
        }
    }

    pub fn finished(&self) -> bool {
        self.progress.finished
    }
}

/// Jobs kept at most; the oldest finished ones go first.
const MAX_JOBS: usize = 100;
/// Uploads are dropped from finished jobs after this long (ms).
const UPLOAD_TTL_MS: i64 = 2 * 3600 * 1000;

#[derive(Debug, Clone, Default)]
pub struct Jobs {
    inner: Arc<Mutex<HashMap<i64, Job>>>,
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Job>> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a job (pruning old ones) and returns its id.
    pub fn insert(&self, job: Job) -> i64 {
        let id = job.id;
        let mut m = self.lock();
        let now = crate::clock::now_ms();
        for j in m.values_mut() {
            if j.finished() && now - j.created_at > UPLOAD_TTL_MS {
                j.upload = None;
            }
        }
        while m.len() >= MAX_JOBS {
            let oldest = m
                .values()
                .filter(|j| j.finished())
                .min_by_key(|j| j.created_at)
                .map(|j| j.id);
            match oldest {
                Some(o) => {
                    m.remove(&o);
                }
                None => break,
            }
        }
        m.insert(id, job);
        id
    }

    pub fn get(&self, id: i64) -> Option<Job> {
        self.lock().get(&id).cloned()
    }

    /// The job, if it belongs to this user of this subdistrict.
    pub fn get_for(&self, id: i64, subdistrict_id: i64, user_id: i64) -> Option<Job> {
        self.get(id)
            .filter(|j| j.subdistrict_id == subdistrict_id && j.user_id == user_id)
    }

    pub fn set_progress(&self, id: i64, phase: Text, done: u64, total: u64) {
        if let Some(j) = self.lock().get_mut(&id) {
            j.phase = phase;
            j.progress.done = done;
            j.progress.total = total;
        }
    }

    pub fn finish(&self, id: i64, result: Result<Report, Text>) {
        if let Some(j) = self.lock().get_mut(&id) {
            j.progress.finished = true;
            j.progress.done = j.progress.total;
            match result {
                Ok(r) => {
                    // A file that wrote nothing is not needed again unless it was a good dry run.
                    if !(r.ok && r.dry_run) {
                        j.upload = None;
                    }
                    j.report = Some(Arc::new(r));
                }
                Err(t) => {
                    j.failure = Some(t);
                    j.upload = None;
                }
            }
        }
    }

    /// Jobs of one user, newest first.
    pub fn of_user(&self, subdistrict_id: i64, user_id: i64) -> Vec<Job> {
        let mut v: Vec<Job> = self
            .lock()
            .values()
            .filter(|j| j.subdistrict_id == subdistrict_id && j.user_id == user_id)
            .cloned()
            .collect();
        v.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        v
    }
}
