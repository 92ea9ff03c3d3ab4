#!/usr/bin/env bash
# PostgreSQL's own ceiling for a code verification, without latch: pgbench sends the statements
# latch sends for row 4 of latch-bench (two reads, then the unit), in the shapes BENCHMARKS.md
# compares, and prints each shape's rate and the cores' time it took.
# Usage: run.sh postgres://USER:PASSWORD@HOST:PORT  (a user who may create databases)
set -euo pipefail
url=${1:?a PostgreSQL URL whose user may create databases}
here=$(cd "$(dirname "$0")" && pwd)
db=latch_pgbench_$$
work=$(mktemp -d)
trap 'psql -q "$url/postgres" -c "drop database if exists $db" >/dev/null; rm -rf "$work"' EXIT
psql -q "$url/postgres" -c "create database $db"
for migration in "$here"/../../store/migrations/postgres/*.sql; do
  psql -q -v ON_ERROR_STOP=1 "$url/$db" -f "$migration" >/dev/null
done
psql -q -v ON_ERROR_STOP=1 "$url/$db" -f "$here/seed.sql" >/dev/null

reads="\\set n random(1, 400000)
\\set p random(1, 3000)
select s.id, s.person_id, s.state, s.created_at, s.last_seen_at, s.reauthenticated_until, s.pending_until, s.ip, s.label, s.second_factor, s.new_browser, p.id, p.practice_id, p.email, p.name, p.role, p.password_hash, p.two_factor_channel, p.two_factor_phone, p.two_factor_extension, p.code_failures, p.two_factor_locked_until, p.two_factor_locked_for_good, p.last_sign_in_at, p.previous_sign_in_at, p.created_at, p.email_verified, p.deactivated_at, p.preferred_method, p.phone_added_at, p.phone_used_at, exists (select 1 from two_factor_methods m where m.person_id = p.id and m.kind = 'totp') as has_totp, exists (select 1 from two_factor_methods m where m.person_id = p.id and m.kind = 'passkey') as has_passkey, pr.id, pr.name, pr.country, pr.require_two_factor, pr.remember_device_days, pr.sign_out_after_idle_minutes, pr.allowed_countries, pr.daily_send_budget, pr.time_zone, pr.created_at, pr.methods_allowed from sessions s join people p on p.id = s.person_id join practices pr on pr.id = p.practice_id where p.deactivated_at is null and s.token_hash = md5('t' || :n) || md5('u' || :n);
select id, session_id, person_id, purpose, phone, extension, channel, method, code_hash, expires_at, attempts, sends, last_sent_at, created_at from challenges where session_id = 's' || :n and purpose = 'sign_in';"
people="update people set code_failures = 0, two_factor_locked_until = null, previous_sign_in_at = last_sign_in_at, last_sign_in_at = 5, phone_used_at = 5 where id = 'p' || :p and not two_factor_locked_for_good and (two_factor_locked_until is null or two_factor_locked_until <= 5)"
session="update sessions set token_hash = md5('v' || :n || random()), state = 'signed_in', last_seen_at = 5, pending_until = null, second_factor = 'sms' where id = 's' || :n"
audit="insert into audit_events (practice_id, at, kind, actor_id, subject_id, ip, user_agent, detail) values ('pr1', 5, 'code_verified', 'p' || :p, 'p' || :p, '127.0.0.1', 'bench', 'sign_in'), ('pr1', 5, 'signed_in', 'p' || :p, 'p' || :p, '127.0.0.1', 'bench', 'password and code')"
give_back="update rate_windows set count = case when count > 1 then count - 1 else 0 end where key = 'address:127.0.0.1' or key = 'address:127.0.0.1'"

# Today's shape: ten round trips, the last write the shared address window's give-back.
unit="begin;
update challenges set attempts = attempts + 1 where id = 'c' || :n and attempts < 5 and expires_at > 5 returning code_hash, attempts;
$people;
delete from challenges where id = 'c' || :n;
$session;
$audit;"
printf '%s\n%s\n%s;\ncommit;\n' "$reads" "$unit" "$give_back" > "$work/today.sql"
printf '%s\n%s\ncommit;\n' "$reads" "$unit" > "$work/today-without-give-back.sql"
# The unit's writes as one statement: no begin, no commit, one round trip.
writes="with ch as (delete from challenges where id = 'c' || :n and attempts < 5 and expires_at > 5 returning code_hash), pe as ($people and exists (select 1 from ch) returning id), se as ($session and exists (select 1 from pe) returning id), au as ($audit)"
printf '%s\n%s, gb as (%s) select 1;\n' "$reads" "$writes" "$give_back" > "$work/one-statement.sql"
printf '%s\n%s select 1;\n' "$reads" "$writes" > "$work/one-statement-without-give-back.sql"

busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }
ticks=$(getconf CLK_TCK)
for round in 1 2; do
  for shape in today today-without-give-back one-statement one-statement-without-give-back; do
    read -r b0 i0 < <(busy)
    tps=$(pgbench -n -M prepared -T 10 -c 8 -j 2 -f "$work/$shape.sql" "$url/$db" 2>/dev/null | awk '/^tps/ {print $3}')
    read -r b1 i1 < <(busy)
    awk -v s="$shape" -v r="$round" -v t="$tps" -v b=$(( b1 - b0 )) -v i=$(( i1 - i0 )) -v hz="$ticks" \
      'BEGIN { printf "round %d  %-32s %6.0f a second, cores %3.0f %% busy, %5.0f µs of them each\n", r, s, t, 100 * b / (b + i), 1e6 * b / hz / (t * 10) }'
  done
done
