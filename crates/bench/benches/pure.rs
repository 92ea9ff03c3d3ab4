//! Micro-benchmarks of the pure parts on every sign-in's path, so a regression shows up:
//! making and checking a code, reading a phone number, hashing a token, reading the
//! remembered-device cookie. `cargo bench -p latch-bench`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use latch_app::crypto::{Keys, constant_time_eq, random_u32, token_hash};
use latch_domain::code::OneTimeCode;
use latch_domain::device::BrowserDevices;
use latch_domain::phone::PhoneNumber;

fn codes(c: &mut Criterion) {
    let keys = Keys::derive(&[7u8; 32]);
    let challenge = "0123456789abcdef0123456789abcdef";
    c.bench_function("code: generate and hash", |b| {
        b.iter(|| {
            let code = OneTimeCode::generate(random_u32);
            keys.code_hash(black_box(challenge), code.digits())
        })
    });
    let stored = keys.code_hash(challenge, "41592653");
    c.bench_function("code: parse what was typed and check it", |b| {
        b.iter(|| {
            let typed = OneTimeCode::parse(black_box("4159 2653")).expect("8 digits");
            constant_time_eq(&keys.code_hash(challenge, typed.digits()), &stored)
        })
    });
}

fn phones(c: &mut Criterion) {
    c.bench_function("phone: parse a national US number", |b| {
        b.iter(|| PhoneNumber::parse(black_box("(212) 555-0123"), Some("US")))
    });
    c.bench_function("phone: parse an E.164 UK number", |b| {
        b.iter(|| PhoneNumber::parse(black_box("+44 20 7946 0000"), None))
    });
    c.bench_function("phone: read a stored number", |b| {
        b.iter(|| PhoneNumber::from_stored(black_box("+12125550123")))
    });
}

fn tokens(c: &mut Criterion) {
    let token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    c.bench_function("token: hash a session token", |b| {
        b.iter(|| token_hash(black_box(token)))
    });
    let keys = Keys::derive(&[7u8; 32]);
    let cookie = (0..20)
        .map(|i| {
            format!(
                "{}~{token}",
                keys.device_tag(&latch_app::PersonId::from_stored(format!("person-{i}")))
            )
        })
        .collect::<Vec<_>>()
        .join(".");
    let wanted = keys.device_tag(&latch_app::PersonId::from_stored("person-7"));
    c.bench_function(
        "device: read a full front-desk cookie and find one person",
        |b| {
            b.iter(|| {
                BrowserDevices::parse(black_box(&cookie))
                    .token_for(&wanted)
                    .map(token_hash)
            })
        },
    );
}

criterion_group!(benches, codes, phones, tokens);
criterion_main!(benches);
