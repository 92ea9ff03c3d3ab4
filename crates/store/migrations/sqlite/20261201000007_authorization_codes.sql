-- The codes an application exchanges for tokens: kept as their SHA-256, bound to the
-- application, the address, the PKCE challenge, the nonce and the latch session; 60 seconds,
-- redeemed once. A redeemed code stays until it expires, so a second use is known as one.
create table authorization_codes (
    code_hash text primary key,
    application_id text not null references applications (id) on delete cascade,
    session_id text not null,
    person_id text not null references people (id) on delete cascade,
    redirect_uri text not null,
    scopes text not null,
    nonce text,
    code_challenge text,
    created_at bigint not null,
    expires_at bigint not null,
    redeemed_at bigint
);
create index authorization_codes_expires on authorization_codes (expires_at);
