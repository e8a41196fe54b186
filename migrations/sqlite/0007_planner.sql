-- The endurance race planner: an event's planner settings and plan state, its crews (cars) with their
-- drivers and spotters, the stints of each crew, admins' car overrides, what each member was last sent
-- when the plan was published, and each member's iCal feed generation. Also what a registration adds
-- for the planner: preferred hours, captain volunteers, "avoid my night".
-- Times are Unix SECONDS (UTC), as in the events tables.

CREATE TABLE event_plans (
    event_id            INTEGER PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    settings            TEXT NOT NULL,              -- JSON (planner::Settings)
    revision            INTEGER NOT NULL DEFAULT 0, -- bumped by every change; edits name the one they saw
    unassigned          TEXT NOT NULL DEFAULT '[]', -- JSON: stage 1's reasons for members left out
    published_revision  INTEGER,
    published_at        INTEGER,
    announce_request_id TEXT,                       -- the bridge request of the last announcement
    announce_message_id TEXT,                       -- its Discord message: edited in place on re-publish
    green_flag_at       INTEGER,                    -- race day: the real start
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE TABLE event_crews (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    crew       INTEGER NOT NULL CHECK (crew >= 0),  -- 0-based: "Car 1" is crew 0
    car_number TEXT NOT NULL DEFAULT '',
    captain_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    solve_error TEXT,  -- JSON {"code","args"}: why stage 2 could not plan this crew
    PRIMARY KEY (event_id, crew)
) STRICT;

CREATE TABLE event_crew_members (
    event_id INTEGER NOT NULL,
    crew     INTEGER NOT NULL,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL CHECK (kind IN ('driver', 'spotter')),
    PRIMARY KEY (event_id, user_id),
    FOREIGN KEY (event_id, crew) REFERENCES event_crews (event_id, crew) ON DELETE CASCADE
) STRICT;

CREATE TABLE event_stints (
    event_id     INTEGER NOT NULL,
    crew         INTEGER NOT NULL,
    stint        INTEGER NOT NULL CHECK (stint >= 0),
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    laps         INTEGER NOT NULL,
    driver_id    INTEGER REFERENCES users (id) ON DELETE SET NULL,
    spotter_id   INTEGER REFERENCES users (id) ON DELETE SET NULL,
    locked       INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    actual_start INTEGER,
    actual_end   INTEGER,
    PRIMARY KEY (event_id, crew, stint),
    FOREIGN KEY (event_id, crew) REFERENCES event_crews (event_id, crew) ON DELETE CASCADE
) STRICT;
CREATE INDEX event_stints_by_start ON event_stints (starts_at);

-- A member seated without Garage61 laps in the event's car, on an admin's word (who and when).
CREATE TABLE event_car_overrides (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    granted_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    granted_at INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;

-- What each member's last itinerary DM said (a digest): a re-publish messages only those it changes.
CREATE TABLE event_plan_sent (
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest   TEXT NOT NULL,
    sent_at  INTEGER NOT NULL,
    PRIMARY KEY (event_id, user_id)
) STRICT;

-- The iCal feed URL of a member carries HMAC(user, generation); a new generation revokes the old URL.
CREATE TABLE ical_feeds (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL DEFAULT 1
) STRICT;

ALTER TABLE event_availability ADD COLUMN preferred INTEGER NOT NULL DEFAULT 0 CHECK (preferred IN (0, 1));
ALTER TABLE event_registrations ADD COLUMN captain_volunteer INTEGER NOT NULL DEFAULT 0 CHECK (captain_volunteer IN (0, 1));
ALTER TABLE event_registrations ADD COLUMN avoid_night INTEGER NOT NULL DEFAULT 0 CHECK (avoid_night IN (0, 1));
