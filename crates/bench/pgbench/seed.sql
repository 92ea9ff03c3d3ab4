-- What latch-bench's code verification (row 4) finds in the database: one practice, 3,000 people,
-- 400,000 sessions waiting for their code, and the one address window every request shares.
insert into practices (id, name, country, allowed_countries, created_at) values ('pr1','Bench','US','US',0);
insert into people (id, practice_id, email, email_normalized, name, role, password_hash, two_factor_channel, two_factor_phone, created_at)
 select 'p'||i, 'pr1', 'p'||i||'@x.test', 'p'||i||'@x.test', 'P '||i, 'staff', 'x', 'sms', '+1555'||lpad(i::text,7,'0'), 0 from generate_series(1,3000) i;
insert into sessions (id, token_hash, person_id, state, created_at, last_seen_at, ip, label, pending_until)
 select 's'||i, md5('t'||i)||md5('u'||i), 'p'||(1+i%3000), 'two_factor_required', 0, 0, '127.0.0.1', 'bench', 4000000000 from generate_series(1,400000) i;
insert into challenges (id, session_id, person_id, purpose, phone, channel, code_hash, expires_at, last_sent_at, created_at)
 select 'c'||i, 's'||i, 'p'||(1+i%3000), 'sign_in', '+15550000001', 'sms', md5('c'||i)||md5('d'||i), 4000000000, 0, 0 from generate_series(1,400000) i;
insert into rate_windows (key, window_started_at, window_ends_at, count) values ('address:127.0.0.1', 0, 4000000000, 1000000);
analyze practices, people, sessions, challenges, rate_windows;
