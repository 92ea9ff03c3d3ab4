//! latch's use cases over ports: first run, sign-in, sessions, the person's own account, the
//! practice's team and its audit trail. No SQL, HTTP or provider type appears here.
#![forbid(unsafe_code)]

pub mod account;
pub mod applications;
pub mod audit;
pub mod authorize;
mod challenge;
pub mod clock;
pub mod crypto;
pub mod delivery;
pub mod devices;
pub mod error;
pub mod grants;
pub mod id_tokens;
pub mod ids;
pub mod invitations;
pub mod latch;
pub mod logouts;
pub mod mail;
pub mod methods;
pub mod metrics;
pub mod passkeys;
mod password_check;
pub mod passwords;
pub mod ports;
pub mod practice;
pub mod records;
pub mod recovery;
pub mod secret;
mod session;
pub mod setup;
pub mod sign_in;
pub mod signing;
pub mod team;
pub mod tokens;
pub mod two_factor;

pub use error::{AppError, CodeOf, Field, Reason, Refusal, Refusals, Refused, Throttle};
pub use ids::{PersonId, PracticeId, SessionId};
pub use latch::{Latch, LatchSettings};
pub use records::{Account, ClientInfo, Person, Practice};
pub use secret::Secret;
