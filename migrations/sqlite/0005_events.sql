-- Team events (an endurance race, a league night) and who takes part: registrations as driver,
-- spotter or both, and the hours each registered member can be at the wheel or on the radio. The
-- race planner builds crews and stints on these tables.
-- Times in these three tables are Unix SECONDS (UTC), not the milliseconds used elsewhere: the
-- planner's arithmetic is in whole hours, and availability rows are hours (hour_start % 3600 = 0).

CREATE TABLE events (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: Discord posts name it
    name               TEXT NOT NULL,
    track              TEXT NOT NULL,
    car_class          TEXT NOT NULL DEFAULT '',
    starts_at          INTEGER NOT NULL,
    duration_min       INTEGER NOT NULL CHECK (duration_min BETWEEN 1 AND 2880),
    discord_channel_id TEXT,  -- where announcements go
    discord_role_id    TEXT,  -- the Discord role given to registered members
    created_by         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_start ON events (starts_at);

-- source: where the registration was last made or changed (the site or the bot's slash commands).
CREATE TABLE event_registrations (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('driver', 'spotter', 'both')),
    source     TEXT NOT NULL CHECK (source IN ('web', 'discord')),
    note       TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;
CREATE INDEX event_registrations_by_user ON event_registrations (user_id);

-- Availability belongs to a registration: withdrawing (or deleting the event or the member) removes it.
CREATE TABLE event_availability (
    event_id   INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    hour_start INTEGER NOT NULL CHECK (hour_start % 3600 = 0),
    PRIMARY KEY (event_id, user_id, hour_start),
    FOREIGN KEY (event_id, user_id) REFERENCES event_registrations (event_id, user_id) ON DELETE CASCADE
) STRICT;
