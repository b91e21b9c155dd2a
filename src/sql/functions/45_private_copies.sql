/* ---------------------------------------------------------------------
 * Private copies: a table model's previous version (medallion_history)
 * and its stored failing rows (medallion_audit) hold the table's rows, so
 * no role reads them that may not read the table now.  Both are made
 * owner-only; a grant their owner gives them lasts while its grantee may
 * SELECT the published table, and while that table has no row-level
 * security (then only roles acting for its owner, who see every row, or
 * that bypass it).  The event trigger below takes back what no longer
 * holds after every GRANT, REVOKE, ALTER TABLE and policy change.
 * (Staging tables in medallion_build are owner-only and not followed.)
 * --------------------------------------------------------------------- */

/*
 * Take back the grants on private copies that their table no longer
 * allows.  As the extension owner (a superuser's REVOKE acts for the
 * table's owner).  One REVOKE per
 * copy and grantor: each fires the event trigger again, which finds less.
 */
CREATE OR REPLACE FUNCTION medallion.private_copies_follow()
RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
DECLARE
	c record;
	n integer := 0;
BEGIN
	FOR c IN
		WITH copies AS (
			SELECT h.oid AS copy, h.relowner, h.relacl, p.oid AS published, p.relowner AS pub_owner,
				   p.relrowsecurity AS rls, p.relacl AS pub_acl
			  FROM medallion.models m
			  JOIN medallion.layers l ON l.name = m.layer
			  JOIN pg_namespace pn ON pn.nspname = l.schema_name
			  JOIN pg_class p ON p.relnamespace = pn.oid AND p.relname = m.name
			  JOIN pg_namespace hn ON hn.nspname = 'medallion_history'
			  JOIN pg_class h ON h.relnamespace = hn.oid AND h.relname = m.name
			UNION ALL
			SELECT a.oid, a.relowner, a.relacl, p.oid, p.relowner, p.relrowsecurity, p.relacl
			  FROM medallion.tests t
			  JOIN medallion.models m ON m.name = t.model
			  JOIN medallion.layers l ON l.name = m.layer
			  JOIN pg_namespace pn ON pn.nspname = l.schema_name
			  JOIN pg_class p ON p.relnamespace = pn.oid AND p.relname = m.name
			  JOIN medallion.audit_tables at ON at.model = t.model AND at.test = t.name
			  JOIN pg_class a ON a.oid = at.relid
		)
		SELECT x.copy, g.grantor, array_agg(DISTINCT g.grantee) AS grantees
		  FROM copies x
		 CROSS JOIN LATERAL aclexplode(x.relacl) g
		 WHERE x.relacl IS NOT NULL AND g.grantee <> x.relowner
		   /* what the copy's owner granted (a superuser's REVOKE acts as the owner); CASCADE takes what it let others grant */
		   AND g.grantor = x.relowner
		   AND CASE WHEN g.grantee = 0
					THEN x.rls OR NOT EXISTS (SELECT FROM aclexplode(x.pub_acl) q
											   WHERE q.grantee = 0 AND q.privilege_type = 'SELECT')
					WHEN x.rls
					THEN NOT pg_has_role(g.grantee, x.pub_owner, 'USAGE')
						 AND NOT (SELECT r.rolbypassrls FROM pg_roles r WHERE r.oid = g.grantee)
					ELSE NOT has_table_privilege(g.grantee, x.published, 'SELECT') END
		 GROUP BY x.copy, g.grantor
	LOOP
		EXECUTE format('REVOKE ALL ON TABLE %s FROM %s CASCADE', c.copy::regclass,
					   (SELECT string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(r)) END, ', ')
						  FROM unnest(c.grantees) r));
		n := n + 1;
	END LOOP;
	RETURN n;
END
$function$;
COMMENT ON FUNCTION medallion.private_copies_follow() IS
	'Revoke the grants on history copies and stored failing rows that their published table no longer allows (a grantee that may not SELECT it, or any but its owner''s roles under row-level security); returns how many REVOKEs it made; internal';

CREATE OR REPLACE FUNCTION medallion.follow_grants()
RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $function$
BEGIN
	PERFORM medallion.private_copies_follow();
EXCEPTION WHEN OTHERS THEN
	/* never stop the statement that fired it: the next GRANT, REVOKE or ALTER TABLE tries again */
	RAISE WARNING 'medallion could not take back grants on private copies: %', SQLERRM
		USING HINT = 'A superuser revokes them by hand; medallion.private_copies_follow() lists nothing once done.';
END
$function$;
COMMENT ON FUNCTION medallion.follow_grants() IS
	'Event trigger: after GRANT, REVOKE, ALTER TABLE or a policy change, private copies keep only what their table allows; internal';
