//! HTTP tests against the real latch server on a random port, on SQLite and PostgreSQL.

mod support;

mod abandoned;
mod abuse;
mod accessibility;
mod account;
mod apache;
mod applications;
mod browser;
mod concurrency;
mod console;
mod demo;
mod faults;
mod fuzz;
mod guard;
mod input;
mod metrics;
mod nodes;
mod oidc;
mod oidc_logout;
mod openapi;
mod pages;
mod practice;
mod practices;
mod relying_parties;
mod required_setup;
mod secrets;
mod send_limits;
mod setup;
mod shapes;
mod sign_in;
mod team;
mod times;
mod twilio;
mod two_factor;
