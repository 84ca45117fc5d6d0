//! Authentication: Authorization headers → [`crate::core::Actor`].

pub mod hmac;
