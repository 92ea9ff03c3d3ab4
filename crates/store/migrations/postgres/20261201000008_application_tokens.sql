-- Access and refresh tokens given to applications, kept as their SHA-256. Each belongs to the
-- grant of one authorization code (`grant_id`, that code's hash), so a code used twice revokes
-- all it gave, and to one latch session, whose end ends them.
create table application_tokens (
    token_hash text primary key,
    kind text not null constraint application_tokens_kind_check check (kind in ('access', 'refresh')),
    grant_id text not null,
    application_id text not null references applications (id) on delete cascade,
    session_id text not null,
    person_id text not null references people (id) on delete cascade,
    scopes text not null,
    created_at bigint not null,
    expires_at bigint not null
);
create index application_tokens_grant on application_tokens (grant_id);
create index application_tokens_session on application_tokens (session_id);
create index application_tokens_expires on application_tokens (expires_at);
