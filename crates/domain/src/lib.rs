//! latch's pure rules: who may do what, what a valid email, name, password or setting is, and
//! when sessions and throttles end. No I/O, no async, no clock: callers pass `now`.
#![forbid(unsafe_code)]

pub mod application;
pub mod audit;
pub mod authorization;
pub mod code;
pub mod country;
mod country_list;
pub mod device;
pub mod email;
pub mod mail;
pub mod message;
pub mod method;
pub mod password;
pub mod person;
pub mod phone;
pub mod practice;
pub mod role;
pub mod session;
pub mod throttle;
pub mod time;
pub mod totp;
pub mod two_factor;
pub mod user_agent;
pub mod verification;
pub mod zone;
mod zone_list;

pub use email::Email;
pub use role::{Permission, Role};
pub use time::Timestamp;
