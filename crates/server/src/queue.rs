//! The waiting side of the queue on one node. The queue itself is the database (`queued`
//! scans); this holds the places reserved by uploads still arriving, so a full queue answers
//! 503 before a body is read, and wakes this node's workers when a scan is queued here (workers
//! also look every poll interval, for scans queued through other nodes).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

#[derive(Default)]
struct State {
    reserved: usize,
    /// Scans queued here since a worker last looked.
    pushed: usize,
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

    /// A place, unless `limit` scans are already `waiting` (in the database) or arriving here.
    pub fn reserve(&self, waiting: usize) -> Option<Reservation<'_>> {
        let mut state = self.state();
        if waiting + state.reserved >= self.limit {
            return None;
        }
        state.reserved += 1;
        Some(Reservation {
            queue: self,
            used: false,
        })
    }

    /// Waits until a scan is queued here, `poll` passes or the queue closes; false once closed.
    pub fn wait(&self, poll: Duration) -> bool {
        let mut state = self.state();
        if state.pushed == 0 && !state.closed {
            state = self
                .ready
                .wait_timeout(state, poll)
                .map(|(state, _)| state)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        state.pushed = state.pushed.saturating_sub(1);
        !state.closed
    }

    /// Whether the queue was closed (workers stop; queued scans stay `queued`).
    pub fn closed(&self) -> bool {
        self.state().closed
    }

    pub fn close(&self) {
        self.state().closed = true;
        self.ready.notify_all();
    }
}

impl Reservation<'_> {
    /// The scan is in the database: the place is no longer needed, a worker is woken.
    pub fn pushed(mut self) {
        let mut state = self.queue.state();
        state.reserved -= 1;
        state.pushed += 1;
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
