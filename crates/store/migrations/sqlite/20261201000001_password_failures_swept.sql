-- Password failures are swept a day after the last one; the sweep finds them by this index.
create index password_failures_last_failed_at on password_failures (last_failed_at);
