//! Per-client-address rate limits on the unauthenticated endpoints that cost a password hash or
//! reveal whether an e-mail exists. In memory, per instance (GCRA via `governor`).

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::solapi::error::ApiError;

pub struct Limits {
    existence: DefaultKeyedRateLimiter<IpAddr>,
    signup: DefaultKeyedRateLimiter<IpAddr>,
    login: DefaultKeyedRateLimiter<IpAddr>,
}

fn per_minute(n: u32) -> DefaultKeyedRateLimiter<IpAddr> {
    RateLimiter::keyed(Quota::per_minute(
        NonZeroU32::new(n.max(1)).expect("at least one"),
    ))
}

fn check(l: &DefaultKeyedRateLimiter<IpAddr>, ip: IpAddr) -> Result<(), ApiError> {
    l.check_key(&ip).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::rate_limited(wait.as_secs() + 1)
    })
}

impl Limits {
    /// `per_minute`: attempts a client address may make per minute on each group of endpoints
    /// (the e-mail existence check gets a third of it).
    pub fn new(per_minute_auth: u32) -> Self {
        Limits {
            existence: per_minute(per_minute_auth / 3),
            signup: per_minute(per_minute_auth),
            login: per_minute(per_minute_auth),
        }
    }

    pub fn check_existence(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.existence, ip)
    }

    /// Sign-up, sign-up through an invitation, password-reset requests.
    pub fn check_signup(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.signup, ip)
    }

    pub fn check_login(&self, ip: IpAddr) -> Result<(), ApiError> {
        check(&self.login, ip)
    }

    /// Forgets idle clients (called periodically so memory stays bounded).
    pub fn shrink(&self) {
        for l in [&self.existence, &self.signup, &self.login] {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}
