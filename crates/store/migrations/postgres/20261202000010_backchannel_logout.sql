-- Which applications a latch session signed in to: My Profile lists them, and when the
-- session ends each that registered a back-channel logout address is told.
create table application_sign_ins (
    session_id text not null,
    application_id text not null references applications (id) on delete cascade,
    person_id text not null references people (id) on delete cascade,
    signed_in_at bigint not null,
    primary key (session_id, application_id)
);
create index application_sign_ins_person on application_sign_ins (person_id);

-- Back-channel logouts waiting to be sent (Back-Channel Logout 1.0): queued in the same
-- statement group that ends the session, sent by whichever node claims them first, and
-- retried with a growing wait until the application answers.
create table backchannel_logouts (
    application_id text not null references applications (id) on delete cascade,
    session_id text not null,
    person_id text not null,
    due_at bigint not null,
    attempts bigint not null default 0,
    primary key (application_id, session_id)
);
create index backchannel_logouts_due on backchannel_logouts (due_at);
