-- The team's whole life: invitations, a changed email, and people who leave.

-- An address counts as verified once a link sent to it was followed (an invitation, a reset,
-- an email change).
alter table people add column email_verified boolean not null default false;
-- A deactivated person keeps their row and audit history but cannot sign in.
alter table people add column deactivated_at bigint;

-- A sign-in begun from a browser where the person had not signed in before: once it is
-- finished, they are told by email.
alter table sessions add column new_browser boolean not null default false;

-- Open invitations: accepting one makes the person and deletes it, revoking deletes it. One
-- open invitation an address, across the installation, as people's emails are unique.
create table invitations (
    id text primary key,
    practice_id text not null references practices (id) on delete cascade,
    email text not null,
    email_normalized text not null constraint invitations_email_unique unique,
    name text not null,
    role text not null constraint invitations_role_check check (role in ('owner', 'manager', 'staff', 'client')),
    invited_by text references people (id) on delete set null,
    -- SHA-256 of the link's token.
    token_hash text not null constraint invitations_token_unique unique,
    created_at bigint not null,
    expires_at bigint not null
);
create index invitations_practice on invitations (practice_id, created_at);
create index invitations_expires on invitations (expires_at);
create index invitations_invited_by on invitations (invited_by);

-- A person's one pending change of email: the link goes to the new address.
create table email_changes (
    person_id text primary key references people (id) on delete cascade,
    new_email text not null,
    new_email_normalized text not null,
    token_hash text not null constraint email_changes_token_unique unique,
    created_at bigint not null,
    expires_at bigint not null
);
create index email_changes_expires on email_changes (expires_at);
