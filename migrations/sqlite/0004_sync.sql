-- The sync pipeline: job runs (the sync log admins watch), what the iRacing and Garage61 jobs keep,
-- subscription-audit findings, and the team's service-account tokens (ciphertexts, like
-- linked_accounts). Times are Unix milliseconds (UTC) unless a column says otherwise.

CREATE TABLE sync_runs (
    id             INTEGER PRIMARY KEY,
    job            TEXT NOT NULL,
    run_trigger    TEXT NOT NULL CHECK (run_trigger IN ('schedule', 'catch_up', 'manual', 'external')),
    node           TEXT NOT NULL DEFAULT '',
    scheduled_for  INTEGER,
    started_at     INTEGER NOT NULL,
    ended_at       INTEGER,
    status         TEXT NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'ok', 'failed', 'timed_out')),
    items          INTEGER NOT NULL DEFAULT 0,
    upstream_calls INTEGER NOT NULL DEFAULT 0,
    cache_hits     INTEGER NOT NULL DEFAULT 0,
    progress_done  INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    note           TEXT NOT NULL DEFAULT '',
    error_code     TEXT,
    error_text     TEXT
) STRICT;
CREATE INDEX sync_runs_by_job ON sync_runs (job, started_at DESC);
CREATE INDEX sync_runs_by_start ON sync_runs (started_at DESC);

-- iRating per category and day (member/chart_data, chart_type 1), for the profile chart.
CREATE TABLE irating_history (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    day      TEXT NOT NULL,  -- YYYY-MM-DD as iRacing sends it
    irating  INTEGER NOT NULL,
    PRIMARY KEY (user_id, category, day)
) STRICT;

-- Members' official results (stats/member_recent_races); posted_at marks what the results feed
-- (and, with the bot, Discord) has announced.
CREATE TABLE race_results (
    user_id           INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    subsession_id     INTEGER NOT NULL,
    series_id         INTEGER NOT NULL,
    series_name       TEXT NOT NULL,
    track_name        TEXT NOT NULL,
    car_id            INTEGER NOT NULL,
    started_at        INTEGER NOT NULL,
    start_position    INTEGER NOT NULL,
    finish_position   INTEGER NOT NULL,
    laps              INTEGER NOT NULL,
    incidents         INTEGER NOT NULL,
    irating_before    INTEGER NOT NULL,
    irating_after     INTEGER NOT NULL,
    strength_of_field INTEGER NOT NULL,
    posted_at         INTEGER,
    PRIMARY KEY (user_id, subsession_id)
) STRICT;
CREATE INDEX race_results_by_start ON race_results (started_at DESC);

-- The series schedule of the season's weeks (series/seasons) and the sessions of the week
-- (season/race_guide), for the weekly schedule page.
CREATE TABLE series_weeks (
    season_id     INTEGER NOT NULL,
    race_week     INTEGER NOT NULL,
    series_id     INTEGER NOT NULL,
    series_name   TEXT NOT NULL,
    category      TEXT NOT NULL,
    track_name    TEXT NOT NULL,
    week_start    TEXT NOT NULL,  -- YYYY-MM-DD
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (season_id, race_week)
) STRICT;
CREATE TABLE series_sessions (
    season_id   INTEGER NOT NULL,
    series_id   INTEGER NOT NULL,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    entry_count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (season_id, starts_at)
) STRICT;

-- The team's league sessions and their results (league/season_sessions, results/search_hosted),
-- read by cups and leagues.
CREATE TABLE league_sessions (
    league_id     INTEGER NOT NULL,
    season_id     INTEGER NOT NULL,
    session_id    INTEGER NOT NULL,
    subsession_id INTEGER,
    launch_at     INTEGER NOT NULL,
    track_name    TEXT NOT NULL DEFAULT '',
    has_results   INTEGER NOT NULL DEFAULT 0,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (league_id, season_id, session_id)
) STRICT;
CREATE TABLE league_results (
    subsession_id   INTEGER NOT NULL,
    cust_id         INTEGER NOT NULL,
    display_name    TEXT NOT NULL,
    finish_position INTEGER NOT NULL,
    laps            INTEGER NOT NULL,
    incidents       INTEGER NOT NULL,
    best_lap_ms     INTEGER,
    car_id          INTEGER NOT NULL,
    PRIMARY KEY (subsession_id, cust_id)
) STRICT;

-- Garage61 laps of members (incremental by startTime) and the cars each member drives
-- (iRacing car ids, for the planner's car-ownership checks).
CREATE TABLE garage61_laps (
    lap_id       TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    car_id       INTEGER NOT NULL,  -- iRacing car id (Garage61 platform_id)
    car_name     TEXT NOT NULL,
    track_name   TEXT NOT NULL,
    lap_time_ms  INTEGER NOT NULL,
    clean        INTEGER NOT NULL,
    session_type INTEGER NOT NULL,
    driven_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX garage61_laps_by_user ON garage61_laps (user_id, driven_at DESC);
CREATE TABLE member_cars (
    user_id        INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    car_id         INTEGER NOT NULL,  -- iRacing car id
    car_name       TEXT NOT NULL,
    laps           INTEGER NOT NULL,
    best_lap_ms    INTEGER,
    last_driven_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, car_id)
) STRICT;

-- subscription-audit findings, one row per member and kind while the problem lasts.
CREATE TABLE audit_findings (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,  -- iracing_token, iracing_inactive, garage61_token, garage61_plan, left_guild
    detail   TEXT NOT NULL DEFAULT '',
    found_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, kind)
) STRICT;

-- Tokens of the team's own accounts (the iRacing password_limited service account), persisted so a
-- restart does not log in again (iRacing allows few full logins per hour).
CREATE TABLE service_tokens (
    name               TEXT PRIMARY KEY,
    access_token       TEXT NOT NULL,  -- ciphertext
    refresh_token      TEXT,           -- ciphertext
    access_expires_at  INTEGER NOT NULL,
    refresh_expires_at INTEGER,
    scope              TEXT NOT NULL DEFAULT '',
    updated_at         INTEGER NOT NULL
) STRICT;
