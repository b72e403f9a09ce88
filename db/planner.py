"""What PostgreSQL's planner needs told that it cannot know by itself.

pg_trgm declares its operators as cheap as `=` (cost 1). Word similarity (`<%`, `%>`) compares
every trigram of the text with every trigram of each word, two orders of magnitude dearer, so
on a small table (2,000 entities) the planner read every row and computed it (9 ms) rather
than ask the trigram index (0.7 ms). Costed at 100, as PostgreSQL costs a function it cannot
see into, the index wins wherever it is cheaper. The migration `trigram operator costs` sets
this.

Its estimate is dear too. pg_trgm estimates `<%` with `matchingsel`, which computes word
similarity against every value of the column's statistics (its most common values and a
101-value histogram), for every `<%` in a statement, each time a request's statement is
planned, and the API plans each execution for its values (`plan_cache_mode`). That was
0.4 ms of planning for each of the two tables a name search reads, a sixth of the statement's
time at the 100k corpus, to refine an estimate that no plan we looked at depended on: the
trigram index answers `<%` on either table whatever the count. `contsel`, PostgreSQL's
constant estimate for containment operators (0.1% of the rows), takes none. The migration
`trigram operator estimates` sets this.

A restore from `pg_dump` loses both (an extension's objects are re-created with their
defaults), so `newsgraph restore` sets them again.
"""

WORD_SIMILARITY_COST = 100
WORD_SIMILARITY_ESTIMATE = "contsel"

# Only the owner of pg_trgm's objects (or a superuser) may change them; a role that is not is
# told so and the statement succeeds, plans as before: a slower name search, never a failed
# restore. A database without pg_trgm is left alone.
SET_TRIGRAM_PLANNING = f"""
DO $$
BEGIN
    IF to_regprocedure('word_similarity_op(text, text)') IS NOT NULL THEN
        ALTER FUNCTION word_similarity_op(text, text) COST {WORD_SIMILARITY_COST};
        ALTER FUNCTION word_similarity_commutator_op(text, text) COST {WORD_SIMILARITY_COST};
        ALTER OPERATOR <% (text, text) SET (RESTRICT = {WORD_SIMILARITY_ESTIMATE});
        ALTER OPERATOR %> (text, text) SET (RESTRICT = {WORD_SIMILARITY_ESTIMATE});
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm''s word similarity operators keep their costs and estimates: %',
        SQLERRM;
END
$$
"""
