"""entity article rollup: an entity's articles counted ahead, by publication bounds and by facet

The histogram and the facets of one entity's articles (`GET /v1/articles/histogram?entity=`,
`GET /v1/articles/facets?entity=`) counted every article naming the entity at each request:
at 100,000 articles the most named entity is in 60,000 of them, and its facets took 430 ms,
its histogram 60 ms. These tables hold the counts, kept by triggers in the transaction of
every write that changes them (API, seed loader, bulk import alike):

    article_facet_key       what each article counts for: one row per (article, field, key)
    entity_article_rollup   per entity, how many of its articles count for each (field, key)

with the fields and their keys:

    published   `earliest/latest`, the days (UTC) the publication time may fall on, `latest`
                empty when open (a `range`); '' when undated (api/articles/aggregates.py)
    source      the source's id          language   the language, lowercased
    entity      an entity it names (an ambiguous mention names none)
    event       an event it reports      dispute    a dispute it is about (api/articles/links.py)

An article's keys are made again when a transaction that changed a row deciding them (the
article, its mentions, its evidence, the events, statements and disputes that evidence
reaches) commits: each statement's trigger notes the articles it reached
(`article_rollup_pending`), and a deferred trigger refreshes them once, at commit. The rollup
takes the difference, so an edit that changes no key writes nothing there. The difference is
written in one statement, in key order, just before the commit: two transactions never wait on
each other's counts in opposite orders, and a popular entity's counts are held for the commit
only, not from the transaction's first write. `SET CONSTRAINTS rollup_flush IMMEDIATE`
refreshes at the end of each statement instead (the tests, whose transactions never commit,
do). A count that falls to zero stays as a row with zero (readers skip them). No CHECK keeps
counts from going below zero: PostgreSQL checks the row an upsert proposes (here a negative
difference) before it finds the row it updates.

`SET LOCAL newsgraph.article_rollup = 'deferred'` makes the triggers skip: the bulk import
refreshes the articles a batch touched once, at the end of the batch's transaction, rather
than at each of its COPY statements.

Revision ID: 8b3f6d2a7c41
Revises: 4d7a2c9e1b58
Create Date: 2026-12-06 20:00:00.000000

"""

from collections.abc import Sequence

from alembic import op

revision: str = "8b3f6d2a7c41"
down_revision: str | None = "4d7a2c9e1b58"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The last day a publication time's precision leaves open, after its first: as
# api/articles/aggregates.py's `_LAST_DAY` (a `range` keeps only its start: open).
_SPANS = {
    "day": None,
    "month": "1 month",
    "season": "3 months",
    "year": "1 year",
    "decade": "10 years",
    "century": "100 years",
}
_LAST_DAY = "CASE a.published_precision::text {} END".format(
    " ".join(
        f"WHEN '{precision}' THEN "
        + ("x.day" if span is None else f"(x.day + interval '{span} -1 day')::date")
        for precision, span in _SPANS.items()
    )
)

# PL/pgSQL rather than SQL: a session plans its query once, not at every call (1 ms of the 2 a
# one-article refresh took).
_KEYS = f"""
CREATE FUNCTION newsgraph_article_facet_keys(ids uuid[])
RETURNS TABLE (article_id uuid, field text, key text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT a.id, 'published',
           CASE WHEN a.published_at IS NULL THEN ''
                ELSE x.day::text || '/' || coalesce(({_LAST_DAY})::text, '') END
    FROM article a, LATERAL (SELECT (a.published_at AT TIME ZONE 'UTC')::date AS day) x
    WHERE a.id = ANY(ids)
    UNION ALL
    SELECT a.id, 'source', a.source_id::text FROM article a WHERE a.id = ANY(ids)
    UNION ALL
    SELECT a.id, 'language', lower(a.language) FROM article a WHERE a.id = ANY(ids)
    UNION ALL
    (
        -- The events an article reports (api/articles/links.py: article_events).
        WITH reported AS (
            SELECT v.article_id, v.event_id FROM evidence v
            WHERE v.article_id = ANY(ids) AND v.event_id IS NOT NULL
            UNION
            SELECT v.article_id, p.event_id
            FROM evidence v JOIN event_participant p ON p.id = v.event_participant_id
            WHERE v.article_id = ANY(ids)
            UNION
            SELECT v.article_id, s.event_id
            FROM evidence v JOIN statement s ON s.id = v.statement_id
            WHERE v.article_id = ANY(ids) AND s.event_id IS NOT NULL
        )
        SELECT m.article_id, 'entity', m.entity_id::text FROM mention m
        WHERE m.article_id = ANY(ids) AND m.entity_id IS NOT NULL
        UNION
        SELECT r.article_id, 'event', r.event_id::text FROM reported r
        UNION
        SELECT r.article_id, 'dispute', l.dispute_id::text
        FROM reported r JOIN dispute_event l ON l.event_id = r.event_id
        UNION
        SELECT v.article_id, 'dispute', v.dispute_id::text FROM evidence v
        WHERE v.article_id = ANY(ids) AND v.dispute_id IS NOT NULL
        UNION
        SELECT v.article_id, 'dispute', p.dispute_id::text
        FROM evidence v JOIN dispute_party p ON p.id = v.dispute_party_id
        WHERE v.article_id = ANY(ids)
        UNION
        SELECT v.article_id, 'dispute', t.dispute_id::text
        FROM evidence v JOIN dispute_territory t ON t.id = v.dispute_territory_id
        WHERE v.article_id = ANY(ids)
    );
END;
$$;
"""  # noqa: S608 (the migration's own constants)
# The articles that report any of `events`, as `reported` above finds them: whose keys a
# change of the events' disputes changes.
_REPORTING = """
CREATE FUNCTION newsgraph_articles_reporting(events uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE AS $$
    SELECT v.article_id FROM evidence v WHERE v.event_id = ANY(events)
    UNION
    SELECT v.article_id FROM evidence v
    JOIN event_participant p ON p.id = v.event_participant_id WHERE p.event_id = ANY(events)
    UNION
    SELECT v.article_id FROM evidence v
    JOIN statement s ON s.id = v.statement_id WHERE s.event_id = ANY(events)
$$;
"""

_REFRESH = """
CREATE FUNCTION newsgraph_refresh_article_rollup(ids uuid[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0
       OR current_setting('newsgraph.article_rollup', true) = 'deferred' THEN
        RETURN;
    END IF;
    -- One refresh of an article at a time: a second waits for the first to commit, then reads
    -- the keys it left (each statement of this function takes a new snapshot).
    PERFORM 1 FROM article WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE;
    WITH old AS MATERIALIZED (
        SELECT k.article_id, k.field, k.key FROM article_facet_key k WHERE k.article_id = ANY(ids)
    ), new AS MATERIALIZED (
        SELECT k.article_id, k.field, k.key FROM newsgraph_article_facet_keys(ids) k
    ), gone AS (
        DELETE FROM article_facet_key k
        USING (SELECT * FROM old EXCEPT SELECT * FROM new) g
        WHERE k.article_id = g.article_id AND k.field = g.field AND k.key = g.key
    ), came AS (
        INSERT INTO article_facet_key (article_id, field, key)
        SELECT * FROM new EXCEPT SELECT * FROM old
    ), changes AS (
        SELECT e.key::uuid AS entity_id, o.field, o.key, -1 AS n
        FROM old e JOIN old o ON o.article_id = e.article_id WHERE e.field = 'entity'
        UNION ALL
        SELECT e.key::uuid, o.field, o.key, 1
        FROM new e JOIN new o ON o.article_id = e.article_id WHERE e.field = 'entity'
    )
    INSERT INTO entity_article_rollup AS r (entity_id, field, key, articles)
    SELECT entity_id, field, key, sum(n) FROM changes
    GROUP BY entity_id, field, key HAVING sum(n) <> 0
    ORDER BY entity_id, field, key
    ON CONFLICT (entity_id, field, key) DO UPDATE SET articles = r.articles + excluded.articles;
END;
$$;
"""

# For each table whose rows decide an article's keys: the articles a statement's rows reach,
# before (`old_rows`) and after (`new_rows`) it. Its triggers pass only the transition tables
# their event has; PL/pgSQL plans a query when it first runs it, so a branch that is not taken
# never reads a table its trigger lacks.
_REACHED = {
    "article": "SELECT id FROM {rows}",
    "mention": "SELECT article_id FROM {rows}",
    "evidence": "SELECT article_id FROM {rows}",
    "event_participant": (
        "SELECT v.article_id FROM evidence v JOIN {rows} r ON v.event_participant_id = r.id"
    ),
    "statement": "SELECT v.article_id FROM evidence v JOIN {rows} r ON v.statement_id = r.id",
    "dispute_party": (
        "SELECT v.article_id FROM evidence v JOIN {rows} r ON v.dispute_party_id = r.id"
    ),
    "dispute_territory": (
        "SELECT v.article_id FROM evidence v JOIN {rows} r ON v.dispute_territory_id = r.id"
    ),
    "dispute_event": ("SELECT newsgraph_articles_reporting(ARRAY(SELECT event_id FROM {rows}))"),
}
# Rows of these tables change no article's keys until evidence cites them, and evidence has
# its own triggers: their inserts need none.
_UPDATE_AND_DELETE_ONLY = {"event_participant", "statement", "dispute_party", "dispute_territory"}


def _trigger_function(table: str) -> str:
    reached = _REACHED[table]
    return f"""
CREATE FUNCTION newsgraph_rollup_{table}() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reached uuid[];
BEGIN
    IF current_setting('newsgraph.article_rollup', true) = 'deferred' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        reached := ARRAY(SELECT DISTINCT x FROM ({reached.format(rows="new_rows")}) AS t(x));
    ELSIF TG_OP = 'DELETE' THEN
        reached := ARRAY(SELECT DISTINCT x FROM ({reached.format(rows="old_rows")}) AS t(x));
    ELSE
        reached := ARRAY(SELECT DISTINCT x FROM ({reached.format(rows="old_rows")}
                                                 UNION {reached.format(rows="new_rows")}) AS t(x));
    END IF;
    IF cardinality(reached) > 0 THEN
        INSERT INTO article_rollup_pending (articles) VALUES (reached);
    END IF;
    RETURN NULL;
END;
$$;
"""  # noqa: S608 (the migration's own constants)


# At commit, the articles the transaction's statements reached, refreshed once: the rollup's
# rows are written (and locked) in one statement, in key order, just before the commit, not
# at each statement and held from there to the commit.
_FLUSH = """
CREATE FUNCTION newsgraph_flush_article_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    reached uuid[];
BEGIN
    WITH flushed AS (DELETE FROM article_rollup_pending RETURNING articles)
    SELECT array_agg(DISTINCT a) INTO reached FROM flushed, unnest(flushed.articles) AS a;
    PERFORM newsgraph_refresh_article_rollup(reached);
    RETURN NULL;
END;
$$;
"""


def _triggers(table: str) -> list[str]:
    events = [
        ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("DELETE", "OLD TABLE AS old_rows"),
    ]
    if table not in _UPDATE_AND_DELETE_ONLY:
        events.insert(0, ("INSERT", "NEW TABLE AS new_rows"))
    return [
        f"CREATE TRIGGER rollup_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {transition} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION newsgraph_rollup_{table}()"
        for event, transition in events
    ]


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE article_facet_key (
            article_id uuid NOT NULL,
            field text NOT NULL,
            key text NOT NULL,
            PRIMARY KEY (article_id, field, key)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE entity_article_rollup (
            entity_id uuid NOT NULL,
            field text NOT NULL,
            key text NOT NULL,
            articles integer NOT NULL,
            PRIMARY KEY (entity_id, field, key)
        )
        """
    )
    # A facet's values in its order, largest counts first, then by key (api/shared/facets.py):
    # its first values are the index's first entries.
    op.execute(
        "CREATE INDEX ix_entity_article_rollup_top "
        "ON entity_article_rollup (entity_id, field, articles DESC, key) WHERE articles > 0"
    )
    # What the transaction's statements reached, until its commit: written and read by the
    # writing transaction alone (a row is deleted when its transaction flushes it).
    op.execute("CREATE TABLE article_rollup_pending (articles uuid[] NOT NULL)")
    op.execute(_KEYS)
    op.execute(_REPORTING)
    op.execute(_REFRESH)
    op.execute(_FLUSH)
    # Deferred: it fires at commit, once per pending row; the first empties the table.
    op.execute(
        "CREATE CONSTRAINT TRIGGER rollup_flush AFTER INSERT ON article_rollup_pending "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        "EXECUTE FUNCTION newsgraph_flush_article_rollup()"
    )
    for table in _REACHED:
        op.execute(_trigger_function(table))
        for trigger in _triggers(table):
            op.execute(trigger)
    # The articles already there, counted once: 26 s at 100,000 articles, longer than the
    # statement timeout the migrations otherwise run under.
    op.execute("SET LOCAL statement_timeout = 0")
    op.execute("SELECT newsgraph_refresh_article_rollup(ARRAY(SELECT id FROM article))")


def downgrade() -> None:
    for table in _REACHED:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS rollup_{event} ON {table}")
        op.execute(f"DROP FUNCTION newsgraph_rollup_{table}()")
    op.execute("DROP TABLE article_rollup_pending")
    op.execute("DROP FUNCTION newsgraph_flush_article_rollup()")
    op.execute("DROP FUNCTION newsgraph_refresh_article_rollup(uuid[])")
    op.execute("DROP FUNCTION newsgraph_articles_reporting(uuid[])")
    op.execute("DROP FUNCTION newsgraph_article_facet_keys(uuid[])")
    op.execute("DROP TABLE entity_article_rollup")
    op.execute("DROP TABLE article_facet_key")
