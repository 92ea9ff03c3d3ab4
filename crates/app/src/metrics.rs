//! The Metrics port: what the use cases count, for whoever exports it. Labels are fixed words,
//! never a person, phone number or code.

/// Counters and timings the use cases report.
pub trait Metrics: Send + Sync {
    /// A sign-in's outcome: `signed_in`, `code_required`, `setup_required`, `wrong_password`,
    /// `throttled`, `locked`, `unavailable` or `error`.
    fn sign_in(&self, outcome: &'static str);
    /// A code sent (`sent`) or not delivered (`failed`), by channel (`sms`, `voice`).
    fn code_sent(&self, channel: &'static str, outcome: &'static str);
    /// A code entered: `accepted`, `wrong`, `expired` or `locked`.
    fn verification(&self, outcome: &'static str);
    /// A person's two-factor step was locked.
    fn lock(&self);
    /// How long the provider took to take a message.
    fn delivery_seconds(&self, channel: &'static str, seconds: f64);
}

/// Counts nothing (tests and the console).
pub struct NoMetrics;

impl Metrics for NoMetrics {
    fn sign_in(&self, _: &'static str) {}
    fn code_sent(&self, _: &'static str, _: &'static str) {}
    fn verification(&self, _: &'static str) {}
    fn lock(&self) {}
    fn delivery_seconds(&self, _: &'static str, _: f64) {}
}
