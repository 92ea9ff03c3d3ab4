-- Two-factor: codes waiting for their sign-in or setup, remembered browsers, and the
-- development outbox. Times are integer unix seconds, as in the PostgreSQL twin of this file.

-- A session waiting for its code (or for a required setup) lives until this time.
alter table sessions add column pending_until bigint;

-- One code at a time per sign-in or setup: a resend replaces the code in place, so the older
-- code dies with it. Only a keyed hash of the code is kept.
create table challenges (
    id text primary key,
    session_id text not null references sessions (id) on delete cascade,
    person_id text not null references people (id) on delete cascade,
    purpose text not null constraint challenges_purpose_check check (purpose in ('sign_in', 'setup')),
    phone text not null,
    extension text,
    channel text not null constraint challenges_channel_check check (channel in ('sms', 'voice')),
    code_hash text not null,
    expires_at bigint not null,
    attempts bigint not null default 0,
    sends bigint not null default 1,
    last_sent_at bigint not null,
    consumed_at bigint,
    created_at bigint not null,
    constraint challenges_session_purpose_unique unique (session_id, purpose)
);
create index challenges_person on challenges (person_id);
create index challenges_expires on challenges (expires_at);

-- Browsers a person chose to remember: only the hash of the cookie token is kept.
create table remembered_devices (
    id text primary key,
    token_hash text not null constraint remembered_devices_token_hash_unique unique,
    person_id text not null references people (id) on delete cascade,
    label text not null,
    created_at bigint not null,
    last_used_at bigint not null,
    expires_at bigint not null
);
create index remembered_devices_person on remembered_devices (person_id);
create index remembered_devices_expires on remembered_devices (expires_at);

-- Development only: every text and call, as the phone would have received it.
create table outbox (
    id integer primary key autoincrement,
    to_phone text not null,
    channel text not null,
    body text not null,
    code text,
    sent_at bigint not null
);
create index outbox_to_phone on outbox (to_phone, id);
