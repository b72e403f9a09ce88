"""What PostgreSQL's planner needs told that it cannot know by itself.

pg_trgm declares its operators as cheap as `=` (cost 1). Word similarity (`<%`, `%>`) compares
every trigram of the text with every trigram of each word, two orders of magnitude dearer, so
on a small table (2,000 entities) the planner read every row and computed it (9 ms) rather
than ask the trigram index (0.7 ms). Costed at 100, as PostgreSQL costs a function it cannot
see into, the index wins wherever it is cheaper. The migration `trigram operator costs` sets
this; a restore from `pg_dump` loses it (an extension's functions are re-created with their
defaults), so `newsgraph restore` sets it again.
"""

WORD_SIMILARITY_COST = 100

# Only the owner of pg_trgm's functions (or a superuser) may change them; a role that is not
# is told so and the statement succeeds, plans as before: a slower name search on small
# tables, never a failed restore. A database without pg_trgm is left alone.
SET_TRIGRAM_COSTS = f"""
DO $$
BEGIN
    IF to_regprocedure('word_similarity_op(text, text)') IS NOT NULL THEN
        ALTER FUNCTION word_similarity_op(text, text) COST {WORD_SIMILARITY_COST};
        ALTER FUNCTION word_similarity_commutator_op(text, text) COST {WORD_SIMILARITY_COST};
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'pg_trgm''s word similarity operators keep their default cost: %', SQLERRM;
END
$$
"""
