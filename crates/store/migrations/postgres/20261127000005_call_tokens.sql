-- Voice calls over HTTPS first ask the person to press a key, so an answering machine never
-- hears the code; Twilio then fetches the code with a one-time token. Only the token's hash
-- is kept, and the code sealed under a key derived from the server key and that token: the
-- database alone holds no code.
create table call_tokens (
    token_hash text primary key,
    sealed_code text not null,
    expires_at bigint not null
);
create index call_tokens_expires on call_tokens (expires_at);
