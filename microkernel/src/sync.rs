//! The kernel's one lock: a spin lock that keeps interrupts off while held.
//!
//! Every kernel lock is an [`IrqMutex`]. Holding one with interrupts off
//! means an interrupt handler (which may take locks too) can never spin on
//! a lock its own CPU holds, and the timer can never preempt a thread in the
//! middle of a critical section. The guard restores the interrupt flag the
//! CPU had before locking, so nested locks compose.

use core::ops::{Deref, DerefMut};

use spin::{Mutex, MutexGuard};

use crate::arch;

/// A spin lock that disables interrupts while held.
pub struct IrqMutex<T> {
    inner: Mutex<T>,
}

impl<T> IrqMutex<T> {
    /// A new, unlocked mutex.
    pub const fn new(value: T) -> Self {
        IrqMutex {
            inner: Mutex::new(value),
        }
    }

    /// Disables interrupts, then takes the lock.
    pub fn lock(&self) -> IrqGuard<'_, T> {
        let were_enabled = arch::interrupts_enabled();
        arch::disable_interrupts();
        IrqGuard {
            guard: Some(self.inner.lock()),
            restore: were_enabled,
        }
    }
}

/// Access to an [`IrqMutex`]'s value; unlocking restores the interrupt flag.
pub struct IrqGuard<'a, T> {
    guard: Option<MutexGuard<'a, T>>,
    restore: bool,
}

impl<T> IrqGuard<'_, T> {
    /// Releases the lock but leaves interrupts off; returns whether they
    /// were on before the lock was taken (the caller restores them). The
    /// scheduler uses this to switch threads with interrupts off.
    pub fn unlock_keep_irqs_off(mut self) -> bool {
        self.guard = None;
        let restore = self.restore;
        self.restore = false;
        restore
    }
}

impl<T> Deref for IrqGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // The guard is only `None` inside `unlock_keep_irqs_off`, which
        // consumes `self`.
        self.guard.as_deref().unwrap_or_else(|| unreachable!())
    }
}

impl<T> DerefMut for IrqGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_deref_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<T> Drop for IrqGuard<'_, T> {
    fn drop(&mut self) {
        self.guard = None;
        if self.restore {
            arch::enable_interrupts();
        }
    }
}
