//! The web layer's shared plumbing: extractors, forms and their flash, cookies, errors, the layout, the shared
//! JSON shapes, the pages' pickers, health, guards, metrics and the OpenAPI document.

pub(crate) mod cookies;
pub(crate) mod error;
pub(crate) mod extract;
pub(crate) mod flash;
pub(crate) mod forms;
pub(crate) mod guard;
pub(crate) mod health;
pub(crate) mod json;
pub(crate) mod layout;
pub(crate) mod metrics;
pub(crate) mod openapi;
pub(crate) mod pickers;
pub(crate) mod proxies;
pub(crate) mod schema;
