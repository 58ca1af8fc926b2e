//! The bounded queue of scan ids between the upload handler and the workers. A submit reserves
//! a place before its upload is read, so a full queue answers 503 without reading the body.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    ids: VecDeque<String>,
    reserved: usize,
    closed: bool,
}

pub struct Queue {
    limit: usize,
    state: Mutex<State>,
    ready: Condvar,
}

/// A place in the queue for an upload still arriving; given back when dropped unused.
pub struct Reservation<'a> {
    queue: &'a Queue,
    used: bool,
}

impl Queue {
    pub fn new(limit: usize) -> Queue {
        Queue {
            limit,
            state: Mutex::new(State::default()),
            ready: Condvar::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place, unless `limit` scans are already queued or arriving.
    pub fn reserve(&self) -> Option<Reservation<'_>> {
        let mut state = self.state();
        if state.ids.len() + state.reserved >= self.limit {
            return None;
        }
        state.reserved += 1;
        Some(Reservation {
            queue: self,
            used: false,
        })
    }

    /// Queues a scan found unfinished at start, whatever the limit.
    pub fn push_unfinished(&self, id: String) {
        self.state().ids.push_back(id);
        self.ready.notify_one();
    }

    /// The next id, waiting for one; None once closed.
    pub fn pop(&self) -> Option<String> {
        let mut state = self.state();
        loop {
            if state.closed {
                return None;
            }
            if let Some(id) = state.ids.pop_front() {
                return Some(id);
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Wakes every worker to stop (ids still queued stay `queued` in the database).
    pub fn close(&self) {
        self.state().closed = true;
        self.ready.notify_all();
    }

    pub fn len(&self) -> usize {
        self.state().ids.len()
    }
}

impl Reservation<'_> {
    /// Turns the place into a queued scan.
    pub fn push(mut self, id: String) {
        let mut state = self.queue.state();
        state.reserved -= 1;
        state.ids.push_back(id);
        self.used = true;
        drop(state);
        self.queue.ready.notify_one();
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.used {
            self.queue.state().reserved -= 1;
        }
    }
}
