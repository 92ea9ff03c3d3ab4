-- Email: the queue every node drains, the development email outbox, and password reset links.

-- Emails waiting to go out, each sealed under a key derived from the server key (the links
-- they carry are no more readable here than their tokens), claimed by one node at a time and
-- retried with a growing wait while the mail server does not take them.
create table mail_queue (
    id integer primary key autoincrement,
    sealed text not null,
    due_at bigint not null,
    attempts bigint not null default 0,
    created_at bigint not null
);
create index mail_queue_due on mail_queue (due_at);

-- Development only: every email as it would have gone out.
create table email_outbox (
    id integer primary key autoincrement,
    to_address text not null,
    to_normalized text not null,
    subject text not null,
    text_body text not null,
    html_body text not null,
    link text,
    sent_at bigint not null
);
create index email_outbox_to on email_outbox (to_normalized, id);

-- A person's one working reset link: a new one replaces it, so an earlier link stops working.
create table password_resets (
    person_id text primary key references people (id) on delete cascade,
    -- SHA-256 of the link's token.
    token_hash text not null constraint password_resets_token_unique unique,
    created_at bigint not null,
    expires_at bigint not null
);
create index password_resets_expires on password_resets (expires_at);
