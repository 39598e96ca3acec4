"""Versioned schema migrations, applied in order; ``PRAGMA user_version`` holds the version."""

MIGRATIONS: list[str] = [
    # 1: the first night: participants, records with lineage, the audit log, resumable state.
    """
    CREATE TABLE participants (
        id TEXT PRIMARY KEY,
        device_key_hash TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        consent INTEGER NOT NULL DEFAULT 0,
        banned INTEGER NOT NULL DEFAULT 0,
        simulated INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        last_seen REAL NOT NULL
    );
    CREATE TABLE records (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('story','drawing','photo','clip','take','remix','comment')),
        status TEXT NOT NULL CHECK (status IN ('pending','approved','rejected','withdrawn')),
        participant_id TEXT REFERENCES participants(id),
        crew_author TEXT,
        text TEXT,
        media TEXT,
        prompt_id TEXT,
        reason TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        CHECK ((participant_id IS NULL) <> (crew_author IS NULL))
    );
    CREATE INDEX records_status ON records(status, created_at);
    CREATE INDEX records_participant ON records(participant_id, created_at);
    CREATE TABLE record_sources (
        record_id TEXT NOT NULL REFERENCES records(id),
        source_id TEXT NOT NULL REFERENCES records(id),
        role TEXT NOT NULL DEFAULT 'source',
        PRIMARY KEY (record_id, source_id)
    );
    CREATE TABLE audit (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        detail TEXT
    );
    CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
        BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
    CREATE TABLE state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """,
    # 2: moderation flags (profanity, the show's word list), a JSON list per record; and the author's
    # name as it was when the record was made, which is what the moderator approves (a later rename
    # must never reach a screen unmoderated).
    """
    ALTER TABLE records ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE records ADD COLUMN author_name TEXT;
    UPDATE records SET author_name = (SELECT name FROM participants p WHERE p.id = records.participant_id);
    """,
    # 3: curation and volunteering: one recommendation per participant and record; volunteers with
    # the consent text and version they agreed to, and when they withdrew it.
    """
    CREATE TABLE recommendations (
        record_id TEXT NOT NULL REFERENCES records(id),
        participant_id TEXT NOT NULL REFERENCES participants(id),
        created_at REAL NOT NULL,
        PRIMARY KEY (record_id, participant_id)
    );
    CREATE TABLE volunteers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        participant_id TEXT NOT NULL REFERENCES participants(id),
        story_id TEXT REFERENCES records(id),
        consent_version TEXT NOT NULL,
        consent_text TEXT NOT NULL,
        given_at REAL NOT NULL,
        withdrawn_at REAL
    );
    CREATE INDEX volunteers_participant ON volunteers(participant_id);
    """,
    # 4: takes. A take is a record (kind 'take', crew-authored, source: the story performed) plus what
    # only a take has: its rig, cue, performer, number, slate and the crew's non-destructive edits.
    """
    CREATE TABLE takes (
        record_id TEXT PRIMARY KEY REFERENCES records(id),
        rig TEXT NOT NULL,
        cue_id TEXT,
        story_id TEXT REFERENCES records(id),
        performer_id TEXT REFERENCES participants(id),
        number INTEGER NOT NULL,
        duration REAL,
        frames INTEGER,
        width INTEGER,
        height INTEGER,
        sha256 TEXT,
        slate TEXT NOT NULL DEFAULT '{}',
        in_point REAL,
        out_point REAL,
        circled INTEGER NOT NULL DEFAULT 0,
        deleted_at REAL,
        consent_withdrawn_at REAL,  -- the performer withdrew consent: hidden for good (a later consent is for new takes)
        created_at REAL NOT NULL
    );
    CREATE INDEX takes_story ON takes(story_id, number);
    CREATE INDEX takes_performer ON takes(performer_id);
    -- What every record query reads (models.RECORD_FROM): a take that was soft-deleted, or whose
    -- performer withdrew consent, reads as 'withdrawn', and so does a crew remix made from such a take
    -- or from any record that is no longer approved (a card keeps the withdrawn story's words in its
    -- picture), so no wall, feed or display can show it.
    -- A migration that adds a column to records must recreate this view.
    CREATE VIEW hidden_takes AS SELECT t.record_id AS id FROM takes t
        WHERE t.deleted_at IS NOT NULL OR t.consent_withdrawn_at IS NOT NULL;
    CREATE VIEW shown_records AS SELECT
        r.id, r.kind,
        CASE WHEN r.kind = 'take' AND r.id IN (SELECT id FROM hidden_takes) THEN 'withdrawn'
             WHEN r.kind = 'remix' AND EXISTS(SELECT 1 FROM record_sources s JOIN records src ON src.id = s.source_id
                                              WHERE s.record_id = r.id AND (src.status != 'approved'
                                                    OR s.source_id IN (SELECT id FROM hidden_takes))) THEN 'withdrawn'
             ELSE r.status END AS status,
        r.participant_id, r.crew_author, r.text, r.media, r.prompt_id, r.reason, r.created_at, r.updated_at,
        r.flags, r.author_name
    FROM records r;
    """,
    # 5: console sessions (host, moderator, crew). The signed cookie carries only a random session id; the
    # session lives here, so logout, expiry and a changed passphrase end it for every process that shares
    # the store. ``key`` is the sha256 of that id (a copy of the database logs nobody in); ``fingerprint``
    # is an HMAC of the role's passphrase at login, never the passphrase.
    """
    CREATE TABLE console_sessions (
        key TEXT PRIMARY KEY,
        role TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        address TEXT,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        revoked_at REAL,
        revoked_why TEXT
    );
    CREATE INDEX console_sessions_role ON console_sessions(role, revoked_at);
    """,
]
