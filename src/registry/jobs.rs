//! Progress of running imports, kept in memory (the import itself is one transaction).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Progress {
    pub total: u64,
    pub done: u64,
    pub finished: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Jobs {
    inner: Arc<Mutex<HashMap<i64, Progress>>>,
}

impl Jobs {
    pub fn set(&self, id: i64, p: Progress) {
        self.inner.lock().expect("jobs lock").insert(id, p);
    }
    pub fn get(&self, id: i64) -> Option<Progress> {
        self.inner.lock().expect("jobs lock").get(&id).cloned()
    }
}
