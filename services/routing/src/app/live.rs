//! A value the service replaces while running (the directory after an edit, the policy
//! after a load): readers take a cheap snapshot, a writer swaps in the next one. A
//! decision in flight keeps the snapshot it started with.

use std::sync::{Arc, RwLock};

/// A shared, replaceable snapshot.
pub struct Live<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Live<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Live<T> {
    pub fn new(value: T) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The value in force now.
    pub fn current(&self) -> Arc<T> {
        // A writer cannot panic while holding the lock (it only swaps an Arc), so a
        // poisoned lock still holds a whole value.
        self.0.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Puts `value` in force for every later reader.
    pub fn replace(&self, value: T) {
        *self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(value);
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Live<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Live").field(&self.current()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readers_keep_their_snapshot_and_later_readers_see_the_replacement() {
        let live = Live::new(1);
        let other = live.clone();
        let before = live.current();
        other.replace(2);
        assert_eq!(*before, 1);
        assert_eq!(*live.current(), 2);
    }
}
