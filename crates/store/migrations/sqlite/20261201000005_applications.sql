-- The applications that sign people in through latch (OpenID Connect clients), registered by
-- the operator. Addresses are kept exactly as registered, one per line.
create table applications (
    id text primary key,
    name text not null,
    -- SHA-256 of the client secret; null for a public client (PKCE alone).
    secret_hash text,
    redirect_uris text not null,
    post_logout_redirect_uris text not null default '',
    backchannel_logout_uri text,
    created_at bigint not null
);

-- The keys tokens are signed with, shared by every node. The private half is sealed under a
-- key derived from LATCH_SECRET_KEY. `signing` is 1 for the one key that signs and null for
-- the retired, so its unique index lets two nodes starting at once make only one first key.
create table signing_keys (
    id text primary key,
    sealed_private_key text not null,
    public_n text not null,
    public_e text not null,
    created_at bigint not null,
    retired_at bigint,
    signing integer unique
);
