//! The features of latch's web layer, one folder each: its routes, its API handlers and its
//! pages with their views. Shared plumbing is in `crate::http`.

pub(crate) mod audit;
pub(crate) mod dev_outbox;
pub(crate) mod first_run;
pub(crate) mod invitations;
pub(crate) mod oidc;
pub(crate) mod practice_settings;
pub(crate) mod profile;
pub(crate) mod recovery;
pub(crate) mod sign_in;
pub(crate) mod team;
pub(crate) mod two_factor;
pub(crate) mod webhooks;
