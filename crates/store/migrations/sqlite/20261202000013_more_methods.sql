-- More two-factor methods beside the phone: authenticator apps and passkeys, recovery codes,
-- and the enrolments waiting to be confirmed.

-- The method a sign-in asks for first, as the person chose it; none: the domain's order.
alter table people add column preferred_method text;
-- When the phone method was set up and last answered a sign-in, for the list of methods.
alter table people add column phone_added_at bigint;
alter table people add column phone_used_at bigint;
update people set phone_added_at = created_at where two_factor_phone is not null;

-- The methods people of the practice may add, in `MethodKind::ALL`'s order.
alter table practices add column methods_allowed text not null default 'passkey,totp,sms,voice';

-- A person's authenticator apps and passkeys.
create table two_factor_methods (
    id text primary key,
    person_id text not null references people (id) on delete cascade,
    kind text not null constraint two_factor_methods_kind_check check (kind in ('totp', 'passkey')),
    label text not null,
    -- An app's secret, sealed to the method's id; a passkey's credential as the library keeps it.
    sealed_secret text not null,
    -- An app's last time step accepted: a step is never accepted twice.
    last_step bigint,
    -- A passkey's credential id (base64url): one person's, once.
    credential_id text constraint two_factor_methods_credential_unique unique,
    created_at bigint not null,
    last_used_at bigint
);
create index two_factor_methods_person on two_factor_methods (person_id, kind);

-- Recovery codes, keyed hashes only; a used one keeps its row until the set is replaced.
create table recovery_codes (
    person_id text not null references people (id) on delete cascade,
    code_hash text not null,
    created_at bigint not null,
    used_at bigint,
    primary key (person_id, code_hash)
);

-- A method begun in a session and not yet confirmed (an app's secret, a passkey's ceremony),
-- sealed; confirming takes it once, and it is gone with its session or at `expires_at`.
create table method_enrolments (
    session_id text not null references sessions (id) on delete cascade,
    kind text not null,
    sealed_state text not null,
    expires_at bigint not null,
    primary key (session_id, kind)
);
create index method_enrolments_expires on method_enrolments (expires_at);
