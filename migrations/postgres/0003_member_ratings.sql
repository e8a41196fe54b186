-- iRacing ratings per licence category, as the iracing-members sync job writes them (and the demo
-- seed invents them). safety_rating is the number shown next to the class, e.g. A 3.41.
CREATE TABLE member_ratings (
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    category      TEXT NOT NULL CHECK (category IN ('oval', 'sports_car', 'formula_car', 'dirt_oval', 'dirt_road')),
    irating       BIGINT NOT NULL,
    safety_rating DOUBLE PRECISION NOT NULL,
    license_class TEXT NOT NULL CHECK (license_class IN ('R', 'D', 'C', 'B', 'A', 'P')),
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, category)
);
