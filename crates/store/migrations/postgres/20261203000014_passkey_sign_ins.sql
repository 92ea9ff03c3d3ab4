-- A passkey sign-in begun and not yet answered: its ceremony state, sealed, taken once by the
-- answer on whichever node it reaches. `key` names whose it is: a session waiting for its
-- second step (`session:<id>`), or a browser signing in with a passkey alone
-- (`browser:<hash of its cookie token>`).
create table passkey_sign_ins (
    key text primary key,
    sealed_state text not null,
    expires_at bigint not null
);
create index passkey_sign_ins_expires on passkey_sign_ins (expires_at);
