//! Per-client-address rate limits on the unauthenticated endpoints that cost a password hash or
//! reveal whether an e-mail exists. On SQLite one process serves the database, so the counters
//! live in its memory (GCRA via `governor`); on PostgreSQL several instances share one database,
//! so they live there (a sliding window of one minute), and a client cannot multiply its
//! allowance by spreading requests over instances.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::core::CoreError;
use crate::store::{Backend, Db, guards};

/// One group of endpoints sharing an allowance per client address and minute.
enum Limit {
    Memory(DefaultKeyedRateLimiter<IpAddr>),
    Shared {
        db: Db,
        group: &'static str,
        per_minute: u32,
    },
}

const WINDOW: i64 = 60;

impl Limit {
    fn new(db: &Db, group: &'static str, per_minute: u32) -> Limit {
        let per_minute = per_minute.max(1);
        match db.backend {
            Backend::Sqlite => Limit::Memory(RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(per_minute).expect("at least one"),
            ))),
            Backend::Postgres => Limit::Shared {
                db: db.clone(),
                group,
                per_minute,
            },
        }
    }

    /// `CoreError::RateLimited` over the allowance; each face says it in its own way.
    async fn check(&self, ip: IpAddr) -> Result<(), CoreError> {
        match self {
            Limit::Memory(l) => l.check_key(&ip).map_err(|not_until| {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                CoreError::RateLimited {
                    retry_after_secs: wait.as_secs() + 1,
                }
            }),
            Limit::Shared {
                db,
                group,
                per_minute,
            } => {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let start = now - now.rem_euclid(WINDOW);
                let bucket = format!("{group}:{ip}");
                let counted = match db.relaxed().await {
                    Ok(mut conn) => guards::count_hit(&mut conn, &bucket, start, WINDOW).await,
                    Err(e) => Err(e),
                };
                let (current, previous) = counted.map_err(|e| CoreError::Internal(e.into()))?;
                match sliding_wait(current, previous, now - start, *per_minute) {
                    None => Ok(()),
                    Some(secs) => Err(CoreError::RateLimited {
                        retry_after_secs: secs,
                    }),
                }
            }
        }
    }
}

/// The sliding-window estimate: this window's hits plus the previous window's, weighted by how
/// much of it still overlaps the last minute. `None` within the limit; else seconds to wait.
fn sliding_wait(current: i64, previous: i64, elapsed: i64, limit: u32) -> Option<u64> {
    let (limit, remaining) = (f64::from(limit), (WINDOW - elapsed) as f64);
    let estimate = current as f64 + previous as f64 * remaining / WINDOW as f64;
    if estimate <= limit {
        return None;
    }
    let wait = if current as f64 > limit || previous == 0 {
        remaining
    } else {
        // The previous window's weight must fall by the excess.
        ((estimate - limit) * WINDOW as f64 / previous as f64).min(remaining)
    };
    Some(wait.ceil().max(1.0) as u64)
}

pub struct Limits {
    existence: Limit,
    signup: Limit,
    login: Limit,
}

impl Limits {
    /// `per_minute`: attempts a client address may make per minute on each group of endpoints
    /// (the e-mail existence check gets a third of it).
    pub fn new(db: &Db, per_minute_auth: u32) -> Self {
        Limits {
            existence: Limit::new(db, "existence", per_minute_auth / 3),
            signup: Limit::new(db, "signup", per_minute_auth),
            login: Limit::new(db, "login", per_minute_auth),
        }
    }

    pub async fn check_existence(&self, ip: IpAddr) -> Result<(), CoreError> {
        self.existence.check(ip).await
    }

    /// Sign-up, sign-up through an invitation, password-reset requests.
    pub async fn check_signup(&self, ip: IpAddr) -> Result<(), CoreError> {
        self.signup.check(ip).await
    }

    pub async fn check_login(&self, ip: IpAddr) -> Result<(), CoreError> {
        self.login.check(ip).await
    }

    /// Forgets idle clients of counters kept in memory, so memory stays bounded (the shared
    /// ones are purged with the rest of the expired shared state).
    pub fn shrink(&self) {
        for l in [&self.existence, &self.signup, &self.login] {
            if let Limit::Memory(l) = l {
                l.retain_recent();
                l.shrink_to_fit();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sliding_wait;

    #[test]
    fn the_sliding_window_counts_the_overlapping_part_of_the_previous_minute() {
        assert_eq!(sliding_wait(10, 0, 0, 10), None, "up to the limit passes");
        assert_eq!(
            sliding_wait(11, 0, 20, 10),
            Some(40),
            "over it in this window: wait for the next one"
        );
        assert_eq!(
            sliding_wait(5, 10, 30, 10),
            None,
            "half of the previous minute still counts: 5 + 5"
        );
        assert_eq!(
            sliding_wait(6, 10, 30, 10),
            Some(6),
            "6 + 5 is one too many; a tenth of the previous window (6 s) must pass"
        );
    }
}
