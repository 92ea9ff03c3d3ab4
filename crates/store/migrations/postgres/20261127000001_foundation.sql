-- latch's foundation: the installation, practices, people, sessions, password throttles and the
-- audit trail. Times are integer unix seconds, as in the SQLite twin of this file.

-- One row: whether the first practice exists, and the nonce the setup token is derived from.
create table installation (
    id bigint primary key check (id = 1),
    setup_nonce text not null,
    set_up_at bigint
);

create table practices (
    id text primary key,
    name text not null,
    country text not null,
    require_two_factor text not null default 'off'
        constraint practices_require_two_factor_check
        check (require_two_factor in ('off', 'staff', 'staff_and_clients')),
    remember_device_days bigint not null default 365
        constraint practices_remember_device_days_check check (remember_device_days between 0 and 365),
    sign_out_after_idle_minutes bigint not null default 15
        constraint practices_idle_minutes_check check (sign_out_after_idle_minutes between 5 and 120),
    -- ISO 3166-1 alpha-2 codes, comma-separated: read whole, never queried by country.
    allowed_countries text not null,
    daily_send_budget bigint not null default 500
        constraint practices_daily_send_budget_check check (daily_send_budget between 1 and 100000),
    created_at bigint not null
);

create table people (
    id text primary key,
    practice_id text not null references practices (id) on delete cascade,
    email text not null,
    -- Lower-cased: emails are unique across the whole installation, whatever their case.
    email_normalized text not null constraint people_email_unique unique,
    name text not null,
    role text not null constraint people_role_check check (role in ('owner', 'manager', 'staff', 'client')),
    password_hash text not null,
    -- Two-factor, filled when the person turns it on.
    two_factor_channel text constraint people_two_factor_channel_check check (two_factor_channel in ('sms', 'voice')),
    two_factor_phone text,
    two_factor_extension text,
    -- Consecutive wrong codes across codes, sessions and nodes, and the lock they cause.
    code_failures bigint not null default 0,
    two_factor_locked_until bigint,
    two_factor_locked_for_good boolean not null default false,
    last_sign_in_at bigint,
    created_at bigint not null
);
create index people_practice_role on people (practice_id, role);

create table sessions (
    -- The public id people see in their session list; the cookie carries a separate token.
    id text primary key,
    -- SHA-256 of the cookie token: a leaked database holds no usable cookie.
    token_hash text not null constraint sessions_token_hash_unique unique,
    person_id text not null references people (id) on delete cascade,
    state text not null
        constraint sessions_state_check
        check (state in ('signed_in', 'two_factor_required', 'two_factor_setup_required')),
    created_at bigint not null,
    last_seen_at bigint not null,
    reauthenticated_until bigint,
    ip text not null,
    label text not null
);
create index sessions_person on sessions (person_id);
create index sessions_last_seen on sessions (last_seen_at);

-- Consecutive wrong passwords per email address, known or not, so an unknown address is
-- throttled exactly like a known one.
create table password_failures (
    email_normalized text primary key,
    failures bigint not null,
    retry_at bigint,
    last_failed_at bigint not null
);

-- Fixed-window counters shared by every node (failed passwords per client address, and later
-- the send limits), each bumped by one atomic statement.
create table rate_windows (
    key text primary key,
    window_started_at bigint not null,
    window_ends_at bigint not null,
    count bigint not null
);
create index rate_windows_ends on rate_windows (window_ends_at);

-- Append-only: latch never updates or deletes an audit event.
create table audit_events (
    id bigint generated always as identity primary key,
    practice_id text not null references practices (id) on delete cascade,
    at bigint not null,
    kind text not null,
    actor_id text,
    subject_id text,
    ip text,
    user_agent text,
    detail text not null
);
create index audit_events_practice on audit_events (practice_id, id);
create index audit_events_subject on audit_events (practice_id, subject_id, id);
