//! Per-client-address budgets: failed authentications, and the requests that send an email
//! (signup, login, invitations). A spent budget is a 429 with `Retry-After`.
//!
//! Hand-written rather than taken from a rate-limiting crate: a failed-authentication
//! budget must be *looked at* before a request runs and *spent* only when it fails, and both
//! must follow the state's clock so that tests move time instead of sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::TooMany;

/// The address a request came from, as its TCP connection shows it. Requests handed to the
/// router without one (the router tests, unless they set it) are not limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// How much a client may do in one window of time.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    pub per_window: u32,
    pub window: TimeDelta,
}

/// The most client addresses tracked at once per budget. Past that, expired windows are
/// dropped; if every tracked address is still inside its window, a new address goes
/// untracked until one expires (memory stays bounded under a flood from many addresses).
const MAX_TRACKED: usize = 65_536;

/// A budget per client address, in fixed windows that start at a client's first use.
pub struct Limiter {
    budget: Budget,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: DateTime<Utc>,
    used: u32,
}

impl Limiter {
    pub fn new(budget: Budget) -> Self {
        Self {
            budget,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// `Err` with the seconds to wait if `addr` has spent its budget; spends nothing.
    /// Loopback clients (a reverse proxy on the same host, health checks) are never
    /// limited: behind a proxy, every client would share that one address.
    pub fn check(&self, addr: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        if self.exempt(addr) {
            return Ok(());
        }
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(&addr) {
            Some(w) if self.is_current(w, now) && w.used >= self.budget.per_window => {
                Err(self.retry_after(w, now))
            }
            _ => Ok(()),
        }
    }

    /// Spends one unit of `addr`'s budget; `Err` with the seconds to wait if none was left.
    pub fn spend(&self, addr: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        if self.exempt(addr) {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        if !windows.contains_key(&addr) && windows.len() >= MAX_TRACKED {
            windows.retain(|_, w| self.is_current(w, now));
            if windows.len() >= MAX_TRACKED {
                return Ok(());
            }
        }
        let w = windows.entry(addr).or_insert(Window {
            started: now,
            used: 0,
        });
        if !self.is_current(w, now) {
            *w = Window {
                started: now,
                used: 0,
            };
        }
        if w.used >= self.budget.per_window {
            return Err(self.retry_after(w, now));
        }
        w.used += 1;
        Ok(())
    }

    /// How many addresses are tracked (for tests of the memory bound).
    pub fn tracked(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Loopback clients, and every client when the budget is 0 (no limit).
    fn exempt(&self, addr: IpAddr) -> bool {
        addr.is_loopback() || self.budget.per_window == 0
    }

    fn is_current(&self, w: &Window, now: DateTime<Utc>) -> bool {
        now < w.started + self.budget.window
    }

    fn retry_after(&self, w: &Window, now: DateTime<Utc>) -> u64 {
        let left = (w.started + self.budget.window - now).num_seconds().max(1);
        u64::try_from(left).unwrap_or(1)
    }
}

/// The budgets every client address has.
pub struct ClientLimits {
    /// Failed authentications.
    pub auth_failures: Limiter,
    /// Requests that send an email: signup, login, invitations.
    pub emails: Limiter,
}

impl ClientLimits {
    pub fn new(auth_failures: Budget, emails: Budget) -> Self {
        Self {
            auth_failures: Limiter::new(auth_failures),
            emails: Limiter::new(emails),
        }
    }

    /// Spends one email from `client`'s budget, or refuses the request.
    pub fn spend_email(&self, client: Option<IpAddr>, now: DateTime<Utc>) -> Result<(), TooMany> {
        match client {
            Some(addr) => self
                .emails
                .spend(addr, now)
                .map_err(|retry_after| TooMany::Emails { retry_after }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    fn limiter(n: u32) -> Limiter {
        Limiter::new(Budget {
            per_window: n,
            window: TimeDelta::seconds(60),
        })
    }

    #[test]
    fn a_budget_is_spent_then_renewed_when_its_window_ends() {
        let l = limiter(3);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.8".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(a, t(0)), Ok(()));
            assert_eq!(l.spend(a, t(0)), Ok(()));
        }
        assert_eq!(l.check(a, t(10)), Err(50));
        assert_eq!(l.spend(a, t(10)), Err(50));
        assert_eq!(
            l.check(b, t(10)),
            Ok(()),
            "another address has its own budget"
        );
        assert_eq!(l.check(a, t(59)), Err(1));
        assert_eq!(l.check(a, t(60)), Ok(()));
        assert_eq!(l.spend(a, t(60)), Ok(()));
    }

    #[test]
    fn loopback_is_never_limited_and_zero_means_off() {
        let l = limiter(1);
        for addr in ["127.0.0.1", "::1"] {
            let addr: IpAddr = addr.parse().unwrap();
            for _ in 0..10 {
                assert_eq!(l.spend(addr, t(0)), Ok(()));
            }
        }
        let off = limiter(0);
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..10 {
            assert_eq!(off.spend(a, t(0)), Ok(()));
        }
        assert_eq!(l.tracked() + off.tracked(), 0);
    }

    #[test]
    fn memory_stays_bounded_under_many_addresses() {
        let l = limiter(1);
        for i in 0..(u32::try_from(MAX_TRACKED).unwrap() + 1_000) {
            let addr = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let _ = l.spend(addr, t(0));
        }
        assert_eq!(l.tracked(), MAX_TRACKED);
        // Once the windows have ended, new addresses push the old ones out.
        let late = IpAddr::from(std::net::Ipv4Addr::new(198, 51, 100, 1));
        assert_eq!(l.spend(late, t(61)), Ok(()));
        assert_eq!(l.tracked(), 1);
    }
}
