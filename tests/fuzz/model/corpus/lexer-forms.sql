/* a /* nested */ comment with gold.not_a_read */
SELECT 'it''s gold.not_read' AS a, E'a\'b\\' AS b, $$gold.x;$$ AS c,
       $tag$ {% if %} $t$ $tag$ AS d, "quoted""ident" AS e, 1.5e3 + 2E-2 + .5 AS f,
       X'ff' AS g, a$b, $1 -- gold.comment
FROM "curated"."Orders" AS gold, curated.orders.col, lake.gold.other, GOLD.Upper
