-- Messages the provider took, so its delivery reports can be told to the right practice's
-- audit trail. Only ids: no number, no text.
create table deliveries (
    provider_id text primary key,
    practice_id text not null references practices (id) on delete cascade,
    person_id text,
    channel text not null,
    sent_at bigint not null
);
create index deliveries_sent_at on deliveries (sent_at);
